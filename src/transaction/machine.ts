/**
 * The transaction machine: one sale, refund or void from amount check to receipt. It is pure: reading the card,
 * talking to the host, printing, journaling and showing screens are actors and actions that the composition
 * root provides (machine.provide), so the same definition runs on hardware, on mocks and under model-based tests.
 *
 * Money rule that shapes it: once the host has approved, no later failure (printer, display) may turn the sale
 * into a failure; the receipt is only marked pending.
 */
import { assign, fromPromise, setup } from 'xstate';
import type { Screen } from '../../hal/display/contract.js';
import { isDeviceFault } from '../../hal/fault.js';
import { anomalyForDeviceFault, anomalyForHostError, responseAnomalyName } from '../anomaly/index.js';
import type { SensitiveCard } from '../card/sensitive-card.js';
import { screens } from './screens.js';
import {
  AuthorizationFailure,
  type AnomalyRef,
  type Authorization,
  type AssessInput,
  type AuthorizeInput,
  type CardAssessment,
  type ReceiptInput,
  type TransactionInput,
  type TransactionOutput,
} from './types.js';
import type { ReceiptStatus, TransactionOutcome } from '../vocabulary/index.js';

export interface TransactionContext extends TransactionInput {
  readFailures: number;
  /** Times the card checks asked for another card or the chip; bounded so a transaction cannot loop forever. */
  otherMethodRequests: number;
  duplicateOf?: { at: number; stan?: number; txnRef: string };
  cardKey?: string;
  lockRequested?: string;
  card?: SensitiveCard;
  authorization?: Authorization;
  stan?: number;
  receipt: ReceiptStatus;
  anomalies: AnomalyRef[];
  outcome?: TransactionOutcome;
  /** The host approved less than asked (code 10); the register decides whether the customer pays the rest. */
  partial?: { requestedAmount: number; approvedAmount: number };
  /** A card was presented in this transaction: it ends only once the reader is empty. */
  cardPresented?: boolean;
}

export type TransactionEvent =
  | { type: 'CANCEL'; by?: 'operator' | 'ecr' }
  | { type: 'CONFIRM'; by?: 'operator' | 'ecr' };

/** How many times a transaction may ask for another card or the chip before it gives up. */
const MAX_OTHER_METHOD_REQUESTS = 2;

/** Defaults of the card-removal alert and anomaly when the limits do not set them. */
const CARD_REMOVAL_ALERT_MS = 10_000;
const CARD_REMOVAL_ANOMALY_MS = 60_000;

/** Read faults worth another attempt with the same card; anything else is a device problem. */
const RETRIABLE_READ_FAULTS = new Set(['read-failed', 'card-removed', 'chip-error']);

function anomalyFromError(error: unknown): AnomalyRef {
  if (error instanceof AuthorizationFailure) return { name: anomalyForHostError(error.code), reason: error.message };
  if (isDeviceFault(error)) {
    return {
      name: anomalyForDeviceFault(error).name,
      reason: error.message,
      fault: { device: error.device, code: error.code, message: error.message },
    };
  }
  return { name: 'system-fault', reason: error instanceof Error ? error.message : String(error) };
}

export const transactionMachine = setup({
  types: {
    context: {} as TransactionContext,
    events: {} as TransactionEvent,
    input: {} as TransactionInput,
    output: {} as TransactionOutput,
  },
  actors: {
    // Placeholders: the composition root provides the real effects; an unprovided actor fails loudly.
    waitForCard: fromPromise<{ entryMode: string }, { txnRef: string }>(async () => {
      throw new Error('waitForCard not provided');
    }),
    readCard: fromPromise<SensitiveCard, { txnRef: string }>(async () => {
      throw new Error('readCard not provided');
    }),
    assessCard: fromPromise<CardAssessment, AssessInput>(async () => {
      throw new Error('assessCard not provided');
    }),
    authorize: fromPromise<Authorization, AuthorizeInput>(async () => {
      throw new Error('authorize not provided');
    }),
    printReceipts: fromPromise<{ warnings: string[] }, ReceiptInput>(async () => {
      throw new Error('printReceipts not provided');
    }),
    waitForRemoval: fromPromise<void, { txnRef: string }>(async () => {
      throw new Error('waitForRemoval not provided');
    }),
  },
  actions: {
    /** Journal a state change (provided). */
    recordState: (_, _params: { state: string; detail?: Record<string, unknown> }) => {},
    /** Show a screen on the display (provided). */
    showScreen: (_, _params: { screen: Screen }) => {},
    /** Journal, show and publish an anomaly (provided). */
    raiseAnomaly: (_, _params: AnomalyRef & { txnRef: string }) => {},
    /** The money outcome is known: tell whoever asked for it now, without waiting for the card (provided). */
    outcomeKnown: (_, _params: { output: TransactionOutput }) => {},
    addAnomaly: assign({ anomalies: ({ context }, anomaly: AnomalyRef) => [...context.anomalies, anomaly] }),
    /** Tell the register the host approved part of the amount and wait for its decision (provided). */
    askPartialDecision: (_, _params: { requestedAmount: number; approvedAmount: number; currency: string }) => {},
    /** The register's decision on a partial approval: accepted clears the stored reversal, refused makes it owed (provided). */
    settlePartial: (_, _params: { accepted: boolean; reason: string }) => {},
  },
  guards: {
    isVoid: ({ context }) => context.kind === 'void',
    refundWithoutRights: ({ context }) => context.kind === 'refund' && !context.supervisor,
    assessed: ({ event }, action: CardAssessment['action']) =>
      (event as unknown as { output: CardAssessment }).output.action === action,
    mayAskOtherMethod: ({ context, event }) =>
      (event as unknown as { output: CardAssessment }).output.action === 'ask-other-method' &&
      context.otherMethodRequests < MAX_OTHER_METHOD_REQUESTS,
    missingSupervisor: ({ context }) => !context.supervisor,
    missingOriginal: ({ context }) => context.original === undefined,
    amountValid: ({ context }) =>
      Number.isSafeInteger(context.amount) &&
      context.amount >= context.limits.minAmount &&
      context.amount <= context.limits.maxAmount,
    canRetryRead: ({ context, event }) => {
      const error = (event as unknown as { error: unknown }).error;
      return (
        isDeviceFault(error) &&
        RETRIABLE_READ_FAULTS.has(error.code) &&
        context.readFailures < context.limits.readRetries
      );
    },
    isRetriableReadFault: ({ event }) => {
      const error = (event as unknown as { error: unknown }).error;
      return isDeviceFault(error) && RETRIABLE_READ_FAULTS.has(error.code);
    },
    cardPresented: ({ context }) => context.cardPresented === true,
    approvedByHost: ({ event }) => (event as unknown as { output: Authorization }).output.approved,
    partiallyApprovedByHost: ({ context, event }) => {
      const output = (event as unknown as { output: Authorization }).output;
      return output.approved && output.approvedAmount !== undefined && output.approvedAmount < context.amount;
    },
  },
  delays: {
    cardTimeout: ({ context }) => context.limits.cardWaitTimeoutMs,
    confirmTimeout: ({ context }) => context.limits.confirmTimeoutMs ?? 60_000,
    partialTimeout: ({ context }) => context.limits.partialApprovalTimeoutMs ?? 60_000,
    removalAlert: ({ context }) => context.limits.cardRemovalAlertMs ?? CARD_REMOVAL_ALERT_MS,
    // Counted from the outcome, like the alert: the anomaly state is entered after the alert.
    removalAnomaly: ({ context }) =>
      Math.max(
        0,
        (context.limits.cardRemovalAnomalyMs ?? CARD_REMOVAL_ANOMALY_MS) -
          (context.limits.cardRemovalAlertMs ?? CARD_REMOVAL_ALERT_MS),
      ),
  },
}).createMachine({
  id: 'transaction',
  context: ({ input }) => ({ ...input, readFailures: 0, otherMethodRequests: 0, receipt: 'none', anomalies: [] }),
  initial: 'checking',
  states: {
    checking: {
      entry: [{ type: 'recordState', params: { state: 'checking' } }],
      always: [
        { guard: { type: 'isVoid' }, target: 'checkingVoid' },
        {
          guard: 'refundWithoutRights',
          target: 'failed',
          actions: [
            {
              type: 'addAnomaly',
              params: ({ context }) => ({
                name: 'unauthorized-operation',
                reason: `a refund needs supervisor rights${context.supervisorNote ? ` (${context.supervisorNote})` : ''}`,
              }),
            },
          ],
        },
        { guard: { type: 'amountValid' }, target: 'waitingForCard' },
        {
          target: 'failed',
          actions: [
            {
              type: 'addAnomaly',
              params: ({ context }) => ({
                name: 'bad-amount',
                reason: `amount ${context.amount} outside ${context.limits.minAmount}..${context.limits.maxAmount}`,
              }),
            },
          ],
        },
      ],
    },
    checkingVoid: {
      always: [
        {
          guard: 'missingSupervisor',
          target: 'failed',
          actions: [
            {
              type: 'addAnomaly',
              params: ({ context }) => ({
                name: 'unauthorized-operation',
                reason: `void needs supervisor rights${context.supervisorNote ? ` (${context.supervisorNote})` : ''}`,
              }),
            },
          ],
        },
        {
          guard: 'missingOriginal',
          target: 'failed',
          actions: [
            {
              type: 'addAnomaly',
              params: { name: 'unknown-original', reason: 'no approved transaction with that STAN' },
            },
          ],
        },
        {
          target: 'authorizing',
          actions: assign({
            amount: ({ context }) => context.original!.amount,
            currency: ({ context }) => context.original!.currency,
          }),
        },
      ],
    },
    waitingForCard: {
      entry: [
        { type: 'recordState', params: { state: 'waitingForCard' } },
        {
          type: 'showScreen',
          params: ({ context }) => ({
            screen: screens.presentCard(
              context.kind,
              context.amount,
              context.currency,
              context.readFailures > 0,
              context.otherMethodRequests > 0,
            ),
          }),
        },
      ],
      invoke: {
        id: 'waitForCard',
        src: 'waitForCard',
        input: ({ context }) => ({ txnRef: context.txnRef }),
        onDone: { target: 'reading', actions: assign({ cardPresented: true }) },
        onError: {
          target: 'failed',
          actions: [{ type: 'addAnomaly', params: ({ event }) => anomalyFromError(event.error) }],
        },
      },
      after: {
        cardTimeout: {
          target: 'failed',
          actions: [
            {
              type: 'addAnomaly',
              params: ({ context }) => ({
                name: 'card-timeout',
                reason: `no card within ${context.limits.cardWaitTimeoutMs} ms`,
              }),
            },
          ],
        },
      },
      on: { CANCEL: { target: 'cancelled' } },
    },
    reading: {
      entry: [
        { type: 'recordState', params: { state: 'reading' } },
        {
          type: 'showScreen',
          params: ({ context }) => ({ screen: screens.reading(context.kind, context.amount, context.currency) }),
        },
      ],
      invoke: {
        id: 'readCard',
        src: 'readCard',
        input: ({ context }) => ({ txnRef: context.txnRef }),
        onDone: { target: 'checkingCard', actions: assign({ card: ({ event }) => event.output }) },
        onError: [
          {
            guard: 'canRetryRead',
            target: 'waitingForCard',
            actions: [
              assign({ readFailures: ({ context }) => context.readFailures + 1 }),
              {
                type: 'recordState',
                params: ({ event }) => ({
                  state: 'readRetry',
                  detail: { fault: anomalyFromError(event.error).fault?.code ?? 'unknown' },
                }),
              },
            ],
          },
          {
            guard: 'isRetriableReadFault',
            target: 'failed',
            actions: [
              {
                type: 'addAnomaly',
                params: ({ event, context }) => ({
                  ...anomalyFromError(event.error),
                  name: 'reader-read-failed',
                  reason: `card could not be read after ${context.readFailures + 1} attempts`,
                }),
              },
              // The same card failing again and again is also what skimming and card-probing look like.
              {
                type: 'raiseAnomaly',
                params: ({ context }) => ({
                  name: 'repeated-read-failures',
                  reason: `${context.readFailures + 1} failed reads in one transaction`,
                  txnRef: context.txnRef,
                }),
              },
            ],
          },
          { target: 'failed', actions: [{ type: 'addAnomaly', params: ({ event }) => anomalyFromError(event.error) }] },
        ],
      },
      on: { CANCEL: { target: 'cancelled' } },
    },
    checkingCard: {
      entry: [{ type: 'recordState', params: { state: 'checkingCard' } }],
      invoke: {
        id: 'assessCard',
        src: 'assessCard',
        input: ({ context }) => ({
          txnRef: context.txnRef,
          kind: context.kind,
          amount: context.amount,
          currency: context.currency,
          card: context.card!,
          readFailures: context.readFailures,
        }),
        onDone: [
          {
            guard: { type: 'assessed', params: 'continue' },
            target: 'authorizing',
            actions: assign({ cardKey: ({ event }) => event.output.cardKey }),
          },
          {
            guard: { type: 'assessed', params: 'confirm-duplicate' },
            target: 'confirmingDuplicate',
            actions: assign({
              cardKey: ({ event }) => event.output.cardKey,
              duplicateOf: ({ event }) =>
                event.output.action === 'confirm-duplicate' ? event.output.earlier : undefined,
            }),
          },
          {
            guard: 'mayAskOtherMethod',
            target: 'waitingForCard',
            actions: [
              assign({ otherMethodRequests: ({ context }) => context.otherMethodRequests + 1, card: undefined }),
              {
                type: 'raiseAnomaly',
                params: ({ event, context }) => ({
                  ...(event.output as { anomaly: AnomalyRef }).anomaly,
                  txnRef: context.txnRef,
                }),
              },
            ],
          },
          {
            // decline, lock, or another card asked for too often: the transaction ends here.
            target: 'failed',
            actions: [
              assign({
                lockRequested: ({ event }) =>
                  event.output.action === 'lock'
                    ? (event.output.anomaly.reason ?? event.output.anomaly.name)
                    : undefined,
              }),
              {
                type: 'addAnomaly',
                params: ({ event }) => ('anomaly' in event.output ? event.output.anomaly : { name: 'system-fault' }),
              },
            ],
          },
        ],
        onError: {
          target: 'failed',
          actions: [{ type: 'addAnomaly', params: ({ event }) => anomalyFromError(event.error) }],
        },
      },
      on: { CANCEL: { target: 'cancelled' } },
    },
    confirmingDuplicate: {
      entry: [
        {
          type: 'recordState',
          params: ({ context }) => ({
            state: 'confirmingDuplicate',
            detail: { earlierTxnRef: context.duplicateOf?.txnRef ?? '' },
          }),
        },
        {
          type: 'raiseAnomaly',
          params: ({ context }) => ({
            name: 'duplicate-transaction',
            reason: 'same card and amount as a recent sale; waiting for confirmation',
            txnRef: context.txnRef,
          }),
        },
        {
          type: 'showScreen',
          params: ({ context }) => ({
            screen: screens.confirmDuplicate(context.amount, context.currency, context.duplicateOf),
          }),
        },
      ],
      after: {
        confirmTimeout: {
          target: 'cancelled',
          actions: [
            {
              type: 'addAnomaly',
              params: { name: 'duplicate-transaction', reason: 'suspected duplicate not confirmed in time' },
            },
          ],
        },
      },
      on: {
        CONFIRM: { target: 'authorizing' },
        CANCEL: {
          target: 'cancelled',
          actions: [
            { type: 'addAnomaly', params: { name: 'duplicate-transaction', reason: 'suspected duplicate cancelled' } },
          ],
        },
      },
    },
    authorizing: {
      entry: [
        { type: 'recordState', params: { state: 'authorizing' } },
        {
          type: 'showScreen',
          params: ({ context }) => ({ screen: screens.authorizing(context.kind, context.amount, context.currency) }),
        },
      ],
      invoke: {
        id: 'authorize',
        src: 'authorize',
        input: ({ context }) => ({
          txnRef: context.txnRef,
          kind: context.kind,
          amount: context.amount,
          currency: context.currency,
          ...(context.card ? { card: context.card } : {}),
          ...(context.original ? { original: context.original } : {}),
        }),
        onDone: [
          {
            guard: 'partiallyApprovedByHost',
            target: 'confirmingPartial',
            actions: assign({
              authorization: ({ event }) => event.output,
              stan: ({ event }) => event.output.stan,
              partial: ({ event, context }) => ({
                requestedAmount: context.amount,
                approvedAmount: event.output.approvedAmount ?? context.amount,
              }),
            }),
          },
          {
            guard: 'approvedByHost',
            target: 'approved',
            actions: assign({ authorization: ({ event }) => event.output, stan: ({ event }) => event.output.stan }),
          },
          {
            target: 'declined',
            actions: [
              assign({ authorization: ({ event }) => event.output, stan: ({ event }) => event.output.stan }),
              {
                type: 'addAnomaly',
                // Declined by the terminal itself because the host was out of reach: a network anomaly, not the issuer's.
                // Otherwise the classifier names it: 51 is E202, 43 E206, 91 E105, 30 E609.
                params: ({ event }) =>
                  event.output.offline
                    ? { name: 'network-failure', reason: event.output.responseText }
                    : {
                        name: responseAnomalyName(event.output.responseCode) ?? 'declined',
                        reason: `${event.output.responseCode} ${event.output.responseText}`,
                      },
              },
            ],
          },
        ],
        onError: {
          target: 'failed',
          actions: [
            assign({
              stan: ({ event, context }) =>
                (event.error instanceof AuthorizationFailure ? event.error.stan : undefined) ?? context.stan,
            }),
            { type: 'addAnomaly', params: ({ event }) => anomalyFromError(event.error) },
          ],
        },
      },
      // A cancel while the host is deciding aborts the request; the effect layer owes the host a reversal.
      on: {
        CANCEL: {
          target: 'cancelled',
          actions: [
            {
              type: 'addAnomaly',
              params: { name: 'cancelled-by-operator', reason: 'cancelled while waiting for the host; reversal owed' },
            },
          ],
        },
      },
    },
    // Money moved for less than asked: the register decides. Accepted, the sale stands for the approved amount;
    // refused or not answered in time (the customer did not agree), the host is owed a reversal.
    confirmingPartial: {
      entry: [
        {
          type: 'recordState',
          params: ({ context }) => ({ state: 'confirmingPartial', detail: { ...context.partial } }),
        },
        {
          type: 'showScreen',
          params: ({ context }) => ({
            screen: screens.confirmPartial(
              context.partial!.requestedAmount,
              context.partial!.approvedAmount,
              context.currency,
            ),
          }),
        },
        { type: 'askPartialDecision', params: ({ context }) => ({ ...context.partial!, currency: context.currency }) },
      ],
      after: {
        partialTimeout: {
          target: 'cancelled',
          actions: [
            {
              type: 'settlePartial',
              params: ({ context }) => ({
                accepted: false,
                reason: `partial approval not accepted within ${context.limits.partialApprovalTimeoutMs ?? 60_000} ms`,
              }),
            },
            {
              type: 'addAnomaly',
              params: ({ context }) => ({
                name: 'cancelled-by-operator',
                reason: `partial approval of ${context.partial!.approvedAmount} not accepted in time; reversal owed`,
              }),
            },
          ],
        },
      },
      on: {
        CONFIRM: {
          target: 'approved',
          actions: [
            assign({ amount: ({ context }) => context.partial!.approvedAmount }),
            { type: 'settlePartial', params: { accepted: true, reason: 'partial approval accepted' } },
          ],
        },
        CANCEL: {
          target: 'cancelled',
          actions: [
            {
              type: 'settlePartial',
              params: ({ event }) => ({
                accepted: false,
                reason: `partial approval refused by the ${event.by ?? 'ecr'}`,
              }),
            },
            {
              type: 'addAnomaly',
              params: ({ context }) => ({
                name: 'cancelled-by-operator',
                reason: `partial approval of ${context.partial!.approvedAmount} refused; reversal owed`,
              }),
            },
          ],
        },
      },
    },
    approved: {
      entry: [
        assign({ outcome: ({ context }) => (context.authorization?.offline ? 'offline-approved' : 'approved') }),
        { type: 'recordState', params: { state: 'approved' } },
        {
          type: 'showScreen',
          params: ({ context }) => ({
            screen: screens.approved(
              context.kind,
              context.amount,
              context.currency,
              context.authorization?.approvalCode,
              context.authorization?.offline,
            ),
          }),
        },
      ],
      always: { target: 'printing' },
    },
    declined: {
      entry: [
        assign({ outcome: 'declined' }),
        { type: 'recordState', params: { state: 'declined' } },
        {
          type: 'raiseAnomaly',
          params: ({ context }) => ({ ...context.anomalies[context.anomalies.length - 1]!, txnRef: context.txnRef }),
        },
      ],
      always: { target: 'printing' },
    },
    printing: {
      entry: [
        { type: 'recordState', params: { state: 'printing' } },
        { type: 'showScreen', params: { screen: screens.printing() } },
      ],
      invoke: {
        id: 'printReceipts',
        src: 'printReceipts',
        input: ({ context }) => ({
          txnRef: context.txnRef,
          kind: context.kind,
          amount: context.amount,
          currency: context.currency,
          ...(context.card ? { card: context.card } : {}),
          ...(context.authorization ? { authorization: context.authorization } : {}),
          ...(context.original ? { original: context.original } : {}),
        }),
        onDone: { target: 'done', actions: assign({ receipt: 'printed' }) },
        onError: {
          // The host's answer stands: the receipt is kept for a reprint, never the sale failed.
          target: 'done',
          actions: [
            assign({ receipt: 'pending' }),
            { type: 'addAnomaly', params: ({ event }) => anomalyFromError(event.error) },
            {
              type: 'raiseAnomaly',
              params: ({ event, context }) => ({ ...anomalyFromError(event.error), txnRef: context.txnRef }),
            },
          ],
        },
      },
    },
    done: {
      entry: [
        {
          type: 'recordState',
          params: ({ context }) => ({ state: 'done', detail: { outcome: context.outcome, receipt: context.receipt } }),
        },
        {
          type: 'showScreen',
          params: ({ context }) => ({
            screen: screens.done(context.outcome ?? 'failed', context.receipt === 'pending'),
          }),
        },
      ],
      always: [{ guard: 'cardPresented', target: 'removingCard' }, { target: 'ended' }],
    },
    cancelled: {
      entry: [
        assign({ outcome: 'cancelled' }),
        { type: 'recordState', params: { state: 'cancelled' } },
        {
          type: 'raiseAnomaly',
          params: ({ context }) => ({
            ...(context.anomalies.at(-1) ?? { name: 'cancelled-by-operator' }),
            txnRef: context.txnRef,
          }),
        },
        { type: 'showScreen', params: { screen: screens.cancelled() } },
      ],
      always: [{ guard: 'cardPresented', target: 'removingCard' }, { target: 'ended' }],
    },
    failed: {
      entry: [
        assign({ outcome: 'failed' }),
        { type: 'recordState', params: { state: 'failed' } },
        {
          type: 'raiseAnomaly',
          params: ({ context }) => ({
            ...(context.anomalies.at(-1) ?? { name: 'system-fault' }),
            txnRef: context.txnRef,
          }),
        },
      ],
      always: [{ guard: 'cardPresented', target: 'removingCard' }, { target: 'ended' }],
    },
    // The outcome is journaled and told; the transaction ends when its card has left the reader (a real terminal:
    // outcome, then "remove card", then idle). A card left in is never read again without a new presentation.
    removingCard: {
      entry: [
        { type: 'recordState', params: { state: 'removingCard' } },
        {
          type: 'showScreen',
          params: ({ context }) => ({ screen: screens.removeCard(context.outcome ?? 'failed', false) }),
        },
        { type: 'outcomeKnown', params: ({ context }) => ({ output: outputOf(context) }) },
      ],
      invoke: {
        id: 'waitForRemoval',
        src: 'waitForRemoval',
        input: ({ context }) => ({ txnRef: context.txnRef }),
        onDone: { target: 'ended', actions: [{ type: 'recordState', params: { state: 'cardRemoved' } }] },
        // The reader failed while the card was in: the outcome stands; the self-test and the next sale meet the fault.
        onError: {
          target: 'ended',
          actions: [
            {
              type: 'recordState',
              params: ({ event }) => ({
                state: 'cardRemovalUnknown',
                detail: { fault: anomalyFromError(event.error).fault?.code ?? 'unknown' },
              }),
            },
          ],
        },
      },
      initial: 'waiting',
      states: {
        waiting: { after: { removalAlert: { target: 'alerted' } } },
        alerted: {
          entry: [
            { type: 'recordState', params: { state: 'cardRemovalAlert' } },
            {
              type: 'showScreen',
              params: ({ context }) => ({ screen: screens.removeCard(context.outcome ?? 'failed', true) }),
            },
          ],
          after: { removalAnomaly: { target: 'overdue' } },
        },
        overdue: {
          entry: [
            {
              type: 'raiseAnomaly',
              params: ({ context }) => ({
                name: 'card-left-in-reader',
                reason: `card still in the reader ${context.limits.cardRemovalAnomalyMs ?? CARD_REMOVAL_ANOMALY_MS} ms after the outcome`,
                txnRef: context.txnRef,
              }),
            },
          ],
        },
      },
    },
    ended: {
      type: 'final',
    },
  },
  output: ({ context }) => outputOf(context),
});

/** The result as the register gets it; the same whether told at the outcome or when the transaction ends. */
function outputOf(context: TransactionContext): TransactionOutput {
  const auth = context.authorization;
  const primary = context.anomalies[0];
  return {
    txnRef: context.txnRef,
    kind: context.kind,
    outcome: context.outcome ?? 'failed',
    amount: context.amount,
    currency: context.currency,
    ...(context.stan !== undefined ? { stan: context.stan } : {}),
    ...(context.card
      ? { maskedPan: context.card.summary.maskedPan, entryMode: context.card.summary.entryMode }
      : context.original?.maskedPan
        ? { maskedPan: context.original.maskedPan }
        : {}),
    ...(auth ? { responseCode: auth.responseCode, responseText: auth.responseText } : {}),
    ...(auth?.approvalCode ? { approvalCode: auth.approvalCode } : {}),
    ...(auth?.rrn ? { rrn: auth.rrn } : {}),
    ...(context.partial ? context.partial : {}),
    receipt: context.receipt,
    ...(primary ? { anomaly: primary } : {}),
    anomalies: context.anomalies,
    ...(context.cardKey ? { cardKey: context.cardKey } : {}),
    ...(context.lockRequested ? { lockRequested: context.lockRequested } : {}),
  };
}
