/** The card: waiting for it, reading it (with retries), the card checks, and a suspected duplicate confirmed. */
import { assign } from 'xstate';
import { screensIn } from '../screens.js';
import type { AnomalyRef } from '../types.js';
import { anomalyFromError } from './anomaly-of-error.js';
import { transactionSetup } from './setup.js';

export const waitingForCard = transactionSetup.createStateConfig({
  entry: [
    { type: 'recordState', params: { state: 'waitingForCard' } },
    {
      type: 'showScreen',
      params: ({ context }) => ({
        screen: screensIn(context).presentCard(
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
});

export const reading = transactionSetup.createStateConfig({
  entry: [
    { type: 'recordState', params: { state: 'reading' } },
    {
      type: 'showScreen',
      params: ({ context }) => ({ screen: screensIn(context).reading(context.kind, context.amount, context.currency) }),
    },
  ],
  invoke: {
    id: 'readCard',
    src: 'readCard',
    input: ({ context }) => ({ txnRef: context.txnRef }),
    onDone: { target: 'checkingCard', actions: assign({ card: ({ event }) => event.output }) },
    onError: [
      {
        guard: { type: 'canRetryRead', params: ({ event }) => ({ error: event.error }) },
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
        guard: { type: 'isRetriableReadFault', params: ({ event }) => ({ error: event.error }) },
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
});

export const checkingCard = transactionSetup.createStateConfig({
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
      ...(context.chipAttempted ? { chipAttempted: true } : {}),
    }),
    onDone: [
      {
        guard: { type: 'assessed', params: ({ event }) => ({ assessment: event.output, action: 'continue' }) },
        target: 'choosingPath',
        actions: assign({ cardKey: ({ event }) => event.output.cardKey }),
      },
      {
        guard: {
          type: 'assessed',
          params: ({ event }) => ({ assessment: event.output, action: 'confirm-duplicate' }),
        },
        target: 'confirmingDuplicate',
        actions: assign({
          cardKey: ({ event }) => event.output.cardKey,
          duplicateOf: ({ event }) => (event.output.action === 'confirm-duplicate' ? event.output.earlier : undefined),
        }),
      },
      {
        guard: { type: 'mayAskOtherMethod', params: ({ event }) => ({ assessment: event.output }) },
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
              event.output.action === 'lock' ? (event.output.anomaly.reason ?? event.output.anomaly.name) : undefined,
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
});

export const confirmingDuplicate = transactionSetup.createStateConfig({
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
        screen: screensIn(context).confirmDuplicate(context.amount, context.currency, context.duplicateOf),
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
    CONFIRM: { target: 'choosingPath' },
    CANCEL: {
      target: 'cancelled',
      actions: [
        { type: 'addAnomaly', params: { name: 'duplicate-transaction', reason: 'suspected duplicate cancelled' } },
      ],
    },
  },
});
