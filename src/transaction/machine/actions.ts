/**
 * The machine's actions. All but addAnomaly are placeholders the composition root provides (journal, display,
 * anomaly recorder, register); the machine only names them with typed params.
 */
import { assign } from 'xstate';
import type { Screen } from '../../../hal/display/contract.js';
import type { AnomalyRef, Authorization, TransactionOutput } from '../types.js';
import type { TransactionContext, TransactionEvent } from './context.js';

export const actions = {
  /** Journal a state change (provided). */
  recordState: (_: unknown, _params: { state: string; detail?: Record<string, unknown> }) => {},
  /** Show a screen on the display (provided). */
  showScreen: (_: unknown, _params: { screen: Screen }) => {},
  /** Journal, show and publish an anomaly (provided). */
  raiseAnomaly: (_: unknown, _params: AnomalyRef & { txnRef: string }) => {},
  /** The money outcome is known: tell whoever asked for it now, without waiting for the card (provided). */
  outcomeKnown: (_: unknown, _params: { output: TransactionOutput }) => {},
  addAnomaly: assign<TransactionContext, TransactionEvent, AnomalyRef, TransactionEvent, never>({
    anomalies: ({ context }, anomaly) => [...context.anomalies, anomaly],
  }),
  /** Keep the host's partial approval (10): its answer, its STAN, and what it approved of what was asked. */
  keepPartialAnswer: assign<
    TransactionContext,
    TransactionEvent,
    { authorization: Authorization },
    TransactionEvent,
    never
  >({
    authorization: (_, { authorization }) => authorization,
    stan: (_, { authorization }) => authorization.stan,
    partial: ({ context }, { authorization }) => ({
      requestedAmount: context.amount,
      approvedAmount: authorization.approvedAmount ?? context.amount,
    }),
  }),
  /** Tell the register the host approved part of the amount and wait for its decision (provided). */
  askPartialDecision: (
    _: unknown,
    _params: { requestedAmount: number; approvedAmount: number; currency: string },
  ) => {},
  /** The register's decision on a partial approval: accepted clears the stored reversal, refused makes it owed (provided). */
  settlePartial: (_: unknown, _params: { accepted: boolean; reason: string }) => {},
};
