/**
 * The ending: receipts printed (or kept pending), the outcome shown, and the wait for the card to leave the reader.
 * Money rule: once the host has approved, a printer failure only marks the receipt pending.
 */
import { assign } from 'xstate';
import { screensIn } from '../screens.js';
import { anomalyFromError } from './anomaly-of-error.js';
import { CARD_REMOVAL_ANOMALY_MS } from './context.js';
import { outputOf } from './output.js';
import { transactionSetup } from './setup.js';

export const printing = transactionSetup.createStateConfig({
  entry: [
    { type: 'recordState', params: { state: 'printing' } },
    { type: 'showScreen', params: ({ context }) => ({ screen: screensIn(context).printing() }) },
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
      ...(context.tip ? { tip: context.tip } : {}),
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
});

export const done = transactionSetup.createStateConfig({
  entry: [
    {
      type: 'recordState',
      params: ({ context }) => ({ state: 'done', detail: { outcome: context.outcome, receipt: context.receipt } }),
    },
    {
      type: 'showScreen',
      params: ({ context }) => ({
        screen: screensIn(context).done(context.outcome ?? 'failed', context.receipt === 'pending'),
      }),
    },
  ],
  always: [{ guard: 'cardPresented', target: 'removingCard' }, { target: 'ended' }],
});

export const cancelled = transactionSetup.createStateConfig({
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
    { type: 'showScreen', params: ({ context }) => ({ screen: screensIn(context).cancelled() }) },
  ],
  always: [{ guard: 'cardPresented', target: 'removingCard' }, { target: 'ended' }],
});

export const failed = transactionSetup.createStateConfig({
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
});

// The outcome is journaled and told; the transaction ends when its card has left the reader (a real terminal:
// outcome, then "remove card", then idle). A card left in is never read again without a new presentation.
export const removingCard = transactionSetup.createStateConfig({
  entry: [
    { type: 'recordState', params: { state: 'removingCard' } },
    {
      type: 'showScreen',
      params: ({ context }) => ({ screen: screensIn(context).removeCard(context.outcome ?? 'failed', false) }),
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
          params: ({ context }) => ({ screen: screensIn(context).removeCard(context.outcome ?? 'failed', true) }),
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
});

export const ended = transactionSetup.createStateConfig({
  type: 'final',
});
