/**
 * The machine's guards. Those that judge an actor's result take it as typed `params` (filled in by the
 * transition from its own done or error event), so no guard has to cast the machine's event union.
 */
import type { GuardArgs } from 'xstate';
import { isDeviceFault } from '../../../hal/fault.js';
import type { Authorization, CardAssessment } from '../types.js';
import type { TransactionContext, TransactionEvent } from './context.js';

type Args = GuardArgs<TransactionContext, TransactionEvent>;

/** How many times a transaction may ask for another card or the chip before it gives up. */
const MAX_OTHER_METHOD_REQUESTS = 2;

/** Read faults worth another attempt with the same card; anything else is a device problem. */
const RETRIABLE_READ_FAULTS = new Set(['read-failed', 'card-removed', 'chip-error']);

const isRetriableReadFault = (error: unknown): boolean => isDeviceFault(error) && RETRIABLE_READ_FAULTS.has(error.code);

export const guards = {
  isVoid: ({ context }: Args) => context.kind === 'void',
  refundWithoutRights: ({ context }: Args) => context.kind === 'refund' && !context.supervisor,
  assessed: (_: Args, params: { assessment: CardAssessment; action: CardAssessment['action'] }) =>
    params.assessment.action === params.action,
  mayAskOtherMethod: ({ context }: Args, params: { assessment: CardAssessment }) =>
    params.assessment.action === 'ask-other-method' && context.otherMethodRequests < MAX_OTHER_METHOD_REQUESTS,
  missingSupervisor: ({ context }: Args) => !context.supervisor,
  missingOriginal: ({ context }: Args) => context.original === undefined,
  amountValid: ({ context }: Args) =>
    Number.isSafeInteger(context.amount) &&
    context.amount >= context.limits.minAmount &&
    context.amount <= context.limits.maxAmount,
  canRetryRead: ({ context }: Args, params: { error: unknown }) =>
    isRetriableReadFault(params.error) && context.readFailures < context.limits.readRetries,
  isRetriableReadFault: (_: Args, params: { error: unknown }) => isRetriableReadFault(params.error),
  cardPresented: ({ context }: Args) => context.cardPresented === true,
  approvedByHost: (_: Args, params: { authorization: Authorization }) => params.authorization.approved,
  partiallyApprovedByHost: ({ context }: Args, params: { authorization: Authorization }) =>
    params.authorization.approved &&
    params.authorization.approvedAmount !== undefined &&
    params.authorization.approvedAmount < context.amount,
};
