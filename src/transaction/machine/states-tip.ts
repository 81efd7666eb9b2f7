/**
 * The tip, asked before the card: the cardholder types it on the PIN pad (OK alone: no tip). The tip is added to the
 * amount the card is charged and carried apart (field 54, the journal's tip column). Cancel on the pad cancels the
 * sale; a pad that times out or fails lets the sale go on without a tip.
 */
import { assign } from 'xstate';
import { screensIn } from '../screens.js';
import { anomalyFromError } from './anomaly-of-error.js';
import { transactionSetup } from './setup.js';

export const enteringTip = transactionSetup.createStateConfig({
  entry: [
    { type: 'recordState', params: { state: 'enteringTip' } },
    {
      type: 'showScreen',
      params: ({ context }) => ({ screen: screensIn(context).enterTip(context.amount, context.currency) }),
    },
  ],
  invoke: {
    id: 'enterTip',
    src: 'enterTip',
    input: ({ context }) => ({
      txnRef: context.txnRef,
      amount: context.amount,
      currency: context.currency,
      // A percentage of the sale, and never past the terminal's largest amount.
      maxTip: Math.max(
        0,
        Math.min(
          Math.floor((context.amount * (context.tipEntry?.maxPercent ?? 0)) / 100),
          context.limits.maxAmount - context.amount,
        ),
      ),
      timeoutMs: context.tipEntry?.timeoutMs ?? 60_000,
    }),
    onDone: {
      target: 'waitingForCard',
      actions: assign(({ context, event }) =>
        event.output > 0 ? { tip: event.output, amount: context.amount + event.output } : {},
      ),
    },
    onError: [
      {
        guard: { type: 'pinCancelled', params: ({ event }) => ({ error: event.error }) },
        target: 'cancelled',
        actions: [
          {
            type: 'addAnomaly',
            params: { name: 'cancelled-by-operator', reason: 'the cardholder cancelled at the tip' },
          },
        ],
      },
      {
        guard: { type: 'tipTimedOut', params: ({ event }) => ({ error: event.error }) },
        target: 'waitingForCard',
      },
      {
        target: 'waitingForCard',
        actions: [{ type: 'addAnomaly', params: ({ event }) => anomalyFromError(event.error) }],
      },
    ],
  },
  on: { CANCEL: { target: 'cancelled' } },
});
