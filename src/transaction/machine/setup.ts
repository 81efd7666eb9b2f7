/** The machine's vocabulary in one place: its types, actors, actions, guards and delays. The states build on it. */
import { setup } from 'xstate';
import type { TransactionInput, TransactionOutput } from '../types.js';
import { actions } from './actions.js';
import { actors } from './actors.js';
import {
  CARD_REMOVAL_ALERT_MS,
  CARD_REMOVAL_ANOMALY_MS,
  type TransactionContext,
  type TransactionEvent,
} from './context.js';
import { guards } from './guards.js';

export const transactionSetup = setup({
  types: {
    context: {} as TransactionContext,
    events: {} as TransactionEvent,
    input: {} as TransactionInput,
    output: {} as TransactionOutput,
  },
  actors,
  actions,
  guards,
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
});
