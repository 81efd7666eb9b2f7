/**
 * The machine's guards. Those that judge an actor's result take it as typed `params` (filled in by the
 * transition from its own done or error event), so no guard has to cast the machine's event union.
 */
import type { GuardArgs } from 'xstate';
import { isDeviceFault } from '../../../hal/fault.js';
import { REFERENCE_KINDS } from '../../vocabulary/index.js';
import type { Authorization, CardAssessment, ChipCompletion, ChipDecision, ChipStart } from '../types.js';
import type { TransactionContext, TransactionEvent } from './context.js';

type Args = GuardArgs<TransactionContext, TransactionEvent>;

/** How many times a transaction may ask for another card or the chip before it gives up. */
const MAX_OTHER_METHOD_REQUESTS = 2;

/** Read faults worth another attempt with the same card; anything else is a device problem. */
const RETRIABLE_READ_FAULTS = new Set(['read-failed', 'card-removed', 'chip-error']);

const isRetriableReadFault = (error: unknown): boolean => isDeviceFault(error) && RETRIABLE_READ_FAULTS.has(error.code);

const isPartial = (context: TransactionContext, authorization: Authorization): boolean =>
  authorization.approved && authorization.approvedAmount !== undefined && authorization.approvedAmount < context.amount;

export const guards = {
  /** A void, or a hospitality transaction naming its pre-authorization or sale: card-less, checked against it. */
  refersToOriginal: ({ context }: Args) => context.kind === 'void' || REFERENCE_KINDS.includes(context.kind),
  refundWithoutRights: ({ context }: Args) => context.kind === 'refund' && !context.supervisor,
  assessed: (_: Args, params: { assessment: CardAssessment; action: CardAssessment['action'] }) =>
    params.assessment.action === params.action,
  mayAskOtherMethod: ({ context }: Args, params: { assessment: CardAssessment }) =>
    params.assessment.action === 'ask-other-method' && context.otherMethodRequests < MAX_OTHER_METHOD_REQUESTS,
  takesOriginalAmount: ({ context }: Args) => context.kind === 'void' || context.kind === 'preauth-cancel',
  voidWithoutRights: ({ context }: Args) => context.kind === 'void' && !context.supervisor,
  missingOriginal: ({ context }: Args) => context.original === undefined,
  /** A sale the register sent without a tip, on a terminal that asks the cardholder for one. */
  asksForTip: ({ context }: Args) => context.kind === 'sale' && context.tipEntry !== undefined && !context.tip,
  amountValid: ({ context }: Args) =>
    Number.isSafeInteger(context.amount) &&
    context.amount >= context.limits.minAmount &&
    context.amount <= context.limits.maxAmount,
  canRetryRead: ({ context }: Args, params: { error: unknown }) =>
    isRetriableReadFault(params.error) && context.readFailures < context.limits.readRetries,
  isRetriableReadFault: (_: Args, params: { error: unknown }) => isRetriableReadFault(params.error),
  cardPresented: ({ context }: Args) => context.cardPresented === true,
  approvedByHost: (_: Args, params: { authorization: Authorization }) => params.authorization.approved,
  /** A sale whose card was inserted or tapped, on a terminal whose reader runs an EMV kernel. */
  usesChip: ({ context }: Args) =>
    context.emv === true &&
    (context.kind === 'sale' || context.kind === 'preauth') &&
    (context.card?.summary.entryMode === 'chip' || context.card?.summary.entryMode === 'contactless'),
  chipDecided: (_: Args, params: { start: ChipStart; decision: ChipDecision; pin?: boolean }) =>
    params.start.decision === params.decision && (params.pin !== true || params.start.cvm === 'online-pin'),
  chipAsksOtherInterface: ({ context }: Args, params: { start: ChipStart }) =>
    params.start.decision === 'AAC' &&
    params.start.reason === 'try-another-interface' &&
    context.otherMethodRequests < MAX_OTHER_METHOD_REQUESTS,
  chipFailedMayFallBack: ({ context }: Args, params: { error: unknown }) =>
    isDeviceFault(params.error) &&
    params.error.code === 'chip-error' &&
    context.otherMethodRequests < MAX_OTHER_METHOD_REQUESTS,
  tipTimedOut: (_: Args, params: { error: unknown }) => isDeviceFault(params.error) && params.error.code === 'timeout',
  pinCancelled: (_: Args, params: { error: unknown }) =>
    isDeviceFault(params.error) && params.error.code === 'cancelled',
  /** The host's answer is to be given to the card: an online chip sale the host answered (not decided offline). */
  completesOnChip: ({ context }: Args, params: { authorization: Authorization }) =>
    context.chip?.decision === 'ARQC' && params.authorization.offline !== true,
  cardKeptApproval: (_: Args, params: { completion: ChipCompletion; context: { authorization?: Authorization } }) =>
    params.completion.decision === 'TC' && params.context.authorization?.approved === true,
  approvedAuthorization: ({ context }: Args) => context.authorization?.approved === true,
  /** A wrong online PIN (55) on a card still inserted, with tries left: the cardholder is asked again. */
  mayRetryPin: ({ context }: Args, params: { completion: ChipCompletion }) =>
    context.authorization?.responseCode === '55' &&
    context.chip?.cvm === 'online-pin' &&
    context.card?.summary.entryMode === 'chip' &&
    params.completion.interrupted !== true &&
    context.pinRetries + 1 < (context.onlinePinTries ?? 1),
  /** The card kept a partial approval: the register decides next. */
  cardKeptPartial: ({ context }: Args, params: { completion: ChipCompletion }) =>
    params.completion.decision === 'TC' && context.authorization?.approved === true && context.partial !== undefined,
  partiallyApprovedByHost: ({ context }: Args, params: { authorization: Authorization }) =>
    isPartial(context, params.authorization),
  partiallyApprovedOnChip: ({ context }: Args, params: { authorization: Authorization }) =>
    isPartial(context, params.authorization) &&
    context.chip?.decision === 'ARQC' &&
    params.authorization.offline !== true,
};
