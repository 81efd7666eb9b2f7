/**
 * The chip: the kernel's first decision (ARQC online, TC approved offline, AAC declined), the PIN when the card asks
 * for one, and after the host's answer the card's second decision. An approval the card then refuses (or a card taken
 * out before it decided) is reversed: the effect keeps the reversal armed until the card has said TC.
 */
import { assign } from 'xstate';
import { responseAnomalyName } from '../../anomaly/index.js';
import { screensIn } from '../screens.js';
import { anomalyFromError } from './anomaly-of-error.js';
import { transactionSetup } from './setup.js';

/** After the card checks: chip cards of a sale go through the kernel, everything else straight to the host. */
export const choosingPath = transactionSetup.createStateConfig({
  always: [{ guard: 'usesChip', target: 'startingChip' }, { target: 'authorizing' }],
});

export const startingChip = transactionSetup.createStateConfig({
  entry: [{ type: 'recordState', params: { state: 'startingChip' } }],
  invoke: {
    id: 'startChip',
    src: 'startChip',
    input: ({ context }) => ({
      txnRef: context.txnRef,
      kind: context.kind,
      amount: context.amount,
      currency: context.currency,
      card: context.card!,
    }),
    onDone: [
      {
        guard: { type: 'chipDecided', params: ({ event }) => ({ start: event.output, decision: 'ARQC', pin: true }) },
        target: 'enteringPin',
        actions: assign({
          card: ({ event }) => event.output.card,
          chip: ({ event }) => chipOf(event.output),
        }),
      },
      {
        guard: { type: 'chipDecided', params: ({ event }) => ({ start: event.output, decision: 'ARQC' }) },
        target: 'authorizing',
        actions: assign({ card: ({ event }) => event.output.card, chip: ({ event }) => chipOf(event.output) }),
      },
      {
        guard: { type: 'chipDecided', params: ({ event }) => ({ start: event.output, decision: 'TC' }) },
        target: 'authorizing',
        actions: assign({ card: ({ event }) => event.output.card, chip: ({ event }) => chipOf(event.output) }),
      },
      {
        // Contactless over its limit: the card is inserted (or swiped) instead.
        guard: { type: 'chipAsksOtherInterface', params: ({ event }) => ({ start: event.output }) },
        target: 'waitingForCard',
        actions: [
          assign({ otherMethodRequests: ({ context }) => context.otherMethodRequests + 1, card: undefined }),
          { type: 'recordState', params: { state: 'otherInterface', detail: { reason: 'try-another-interface' } } },
        ],
      },
      {
        // AAC at the first decision: declined offline (Z1), nothing was sent.
        target: 'declined',
        actions: [
          assign({
            card: ({ event }) => event.output.card,
            chip: ({ event }) => chipOf(event.output),
            authorization: () => ({ responseCode: 'Z1', responseText: 'declined by the card', approved: false }),
          }),
          {
            type: 'addAnomaly',
            params: ({ event }) => ({
              name: 'declined',
              reason: `declined offline by the card (Z1${event.output.reason ? `: ${event.output.reason}` : ''})`,
            }),
          },
        ],
      },
    ],
    onError: [
      {
        // A chip that fails: the magnetic stripe is asked for (a fallback the card checks then judge).
        guard: { type: 'chipFailedMayFallBack', params: ({ event }) => ({ error: event.error }) },
        target: 'waitingForCard',
        actions: [
          assign({
            otherMethodRequests: ({ context }) => context.otherMethodRequests + 1,
            card: undefined,
            chipAttempted: true,
          }),
          { type: 'recordState', params: { state: 'chipFallback', detail: { fault: 'chip-error' } } },
        ],
      },
      { target: 'failed', actions: [{ type: 'addAnomaly', params: ({ event }) => anomalyFromError(event.error) }] },
    ],
  },
  on: { CANCEL: { target: 'cancelled' } },
});

export const enteringPin = transactionSetup.createStateConfig({
  entry: [
    { type: 'recordState', params: { state: 'enteringPin' } },
    {
      type: 'showScreen',
      params: ({ context }) => ({ screen: screensIn(context).enterPin(context.amount, context.currency) }),
    },
  ],
  invoke: {
    id: 'enterPin',
    src: 'enterPin',
    input: ({ context }) => ({
      txnRef: context.txnRef,
      amount: context.amount,
      currency: context.currency,
      card: context.card!,
    }),
    onDone: { target: 'authorizing', actions: assign({ card: ({ event }) => event.output }) },
    onError: [
      {
        guard: { type: 'pinCancelled', params: ({ event }) => ({ error: event.error }) },
        target: 'cancelled',
        actions: [
          { type: 'addAnomaly', params: { name: 'cancelled-by-operator', reason: 'the cardholder cancelled the PIN' } },
        ],
      },
      { target: 'failed', actions: [{ type: 'addAnomaly', params: ({ event }) => anomalyFromError(event.error) }] },
    ],
  },
  on: { CANCEL: { target: 'cancelled' } },
});

/** The card's second decision on the host's answer (approved or declined). */
export const completingChip = transactionSetup.createStateConfig({
  entry: [{ type: 'recordState', params: { state: 'completingChip' } }],
  invoke: {
    id: 'completeChip',
    src: 'completeChip',
    input: ({ context }) => ({
      txnRef: context.txnRef,
      card: context.card!,
      authorization: context.authorization!,
      ...(context.partial ? { partial: true } : {}),
    }),
    onDone: [
      {
        // Approved for less than asked, and the card agreed: now the register decides (the reversal is still armed).
        guard: { type: 'cardKeptPartial', params: ({ event }) => ({ completion: event.output }) },
        target: 'confirmingPartial',
        actions: assign({ card: ({ event }) => event.output.card }),
      },
      {
        guard: { type: 'cardKeptApproval', params: ({ event, context }) => ({ completion: event.output, context }) },
        target: 'approved',
        actions: assign({ card: ({ event }) => event.output.card }),
      },
      {
        // The host approved, the card did not: the effect has made the reversal owed.
        guard: 'approvedAuthorization',
        target: 'declined',
        actions: [
          assign({ card: ({ event }) => event.output.card }),
          {
            type: 'addAnomaly',
            params: ({ event }) => ({
              name: event.output.interrupted ? 'card-removed-before-completion' : 'card-declined-after-approval',
              reason: `${event.output.reason ?? 'the card answered AAC'}; reversal owed`,
            }),
          },
        ],
      },
      {
        // A wrong PIN (55), the card still in and tries left: the cardholder is asked again, in the same sale.
        guard: { type: 'mayRetryPin', params: ({ event }) => ({ completion: event.output }) },
        target: 'retryingPin',
        actions: assign({ card: ({ event }) => event.output.card }),
      },
      {
        // The host declined and the card was told.
        target: 'declined',
        actions: [
          assign({ card: ({ event }) => event.output.card }),
          {
            type: 'addAnomaly',
            params: ({ context }) => ({
              name: responseAnomalyName(context.authorization!.responseCode) ?? 'declined',
              reason: `${context.authorization!.responseCode} ${context.authorization!.responseText}`,
            }),
          },
        ],
      },
    ],
    onError: {
      target: 'failed',
      actions: [{ type: 'addAnomaly', params: ({ event }) => anomalyFromError(event.error) }],
    },
  },
});

/**
 * A wrong online PIN with tries left: the declined attempt is journaled apart (its STAN, its 55), and the card starts
 * a new transaction (a new ARQC over a new unpredictable number) that asks for the PIN again under a new STAN.
 */
export const retryingPin = transactionSetup.createStateConfig({
  entry: [
    { type: 'recordState', params: { state: 'retryingPin' } },
    {
      type: 'showScreen',
      params: ({ context }) => ({
        screen: screensIn(context).incorrectPin((context.onlinePinTries ?? 1) - context.pinRetries - 1),
      }),
    },
  ],
  invoke: {
    id: 'retryPin',
    src: 'retryPin',
    input: ({ context }) => ({
      txnRef: context.txnRef,
      attempt: context.pinRetries + 1,
      amount: context.amount,
      currency: context.currency,
      card: context.card!,
      authorization: context.authorization!,
    }),
    onDone: {
      target: 'startingChip',
      actions: assign({
        pinRetries: ({ context }) => context.pinRetries + 1,
        authorization: undefined,
        stan: undefined,
        chip: undefined,
      }),
    },
    onError: {
      target: 'failed',
      actions: [{ type: 'addAnomaly', params: ({ event }) => anomalyFromError(event.error) }],
    },
  },
  // No CANCEL here: the attempt is set apart in one commit at once, and a cancel is taken by the next state.
});

function chipOf(start: { decision: 'ARQC' | 'TC' | 'AAC'; cvm: string; reason?: string }) {
  return { decision: start.decision, cvm: start.cvm, ...(start.reason ? { reason: start.reason } : {}) };
}
