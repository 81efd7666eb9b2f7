/**
 * The effects the transaction machine needs, built from devices, the journal and the host client: the card (card.ts),
 * the host (host.ts, offline.ts), the printer (printer.ts) and the journal (journal.ts). This is where "commit before
 * the effect" is honoured: the STAN is committed before the request leaves.
 */
import { REVERSAL_REASON } from '../../iso8583/index.js';
import { transactionMachine } from '../../transaction/machine.js';
import type { SensitiveCard } from '../../card/sensitive-card.js';
import type {
  Authorization,
  AuthorizeInput,
  ChipCompleteInput,
  ChipCompletion,
  ChipStart,
  ChipStartInput,
  PinInput,
  PinRetryInput,
  TipInput,
} from '../../transaction/types.js';
import { completeChip, enterPin, retryPin, startChip } from './chip.js';
import { enterTip } from './tip.js';
import { fromPromise } from 'xstate';
import { cardActors } from './card.js';
import type { TransactionDeps, TransactionStreamEvent } from './deps.js';
import { authorize } from './host.js';
import { patchFrom } from './journal.js';
import { printerActors } from './printer.js';

export type { PreauthSettings, TransactionDeps, TransactionListener, TransactionStreamEvent } from './deps.js';
export { DEFAULT_PREAUTH_SETTINGS, releaseHold } from './preauth.js';
export type { MessageProfile } from './request.js';
export { financialRequestFor } from './request.js';
export { partialAmount } from './host.js';
export { anomalyCode } from './journal.js';

export function provideTransactionEffects(deps: TransactionDeps) {
  const { journal, anomalies, log } = deps;
  const emit = (txnRef: string, event: TransactionStreamEvent) => {
    try {
      deps.listener(txnRef)?.(event);
    } catch (err) {
      log.error({ err }, 'transaction listener failed');
    }
  };

  return transactionMachine.provide({
    actors: {
      ...cardActors(deps),
      authorize: fromPromise<Authorization, AuthorizeInput>(async ({ input, signal }) => {
        // XState can start an invoked actor before the entry actions of the same macrostep have run; yield once so
        // the journal shows the states in the order they were entered.
        await Promise.resolve();
        return authorize(deps, input, signal);
      }),
      ...printerActors(deps),
      startChip: fromPromise<ChipStart, ChipStartInput>(async ({ input }) => startChip(deps, input)),
      enterPin: fromPromise<SensitiveCard, PinInput>(async ({ input, signal }) => enterPin(deps, input, signal)),
      completeChip: fromPromise<ChipCompletion, ChipCompleteInput>(async ({ input }) => completeChip(deps, input)),
      retryPin: fromPromise<void, PinRetryInput>(async ({ input }) => retryPin(deps, input)),
      enterTip: fromPromise<number, TipInput>(async ({ input, signal }) => enterTip(deps, input, signal)),
    },
    actions: {
      askPartialDecision: ({ context }, params) => emit(context.txnRef, { type: 'partial', ...params }),
      settlePartial: ({ context }, { accepted, reason }) => {
        if (accepted) {
          // The customer agreed: the stored reversal is cleared and the sale stands for the approved amount.
          journal.recordAuthorization(
            context.txnRef,
            'partialAccepted',
            { amount: context.partial!.approvedAmount },
            { ...context.partial },
          );
        } else {
          // The customer did not take the partial amount: a customer cancellation in field 39 of the 0400.
          journal.reversals.markPending(context.txnRef, reason, { reasonCode: REVERSAL_REASON.cancelled });
          deps.forwarder?.kick();
        }
      },
      outcomeKnown: (_, { output }) => {
        try {
          deps.onOutcome?.(output);
        } catch (err) {
          log.error({ err }, 'outcome listener failed');
        }
      },
      recordState: ({ context }, params) => {
        journal.transactions.recordState(context.txnRef, params.state, patchFrom(context), params.detail);
        emit(context.txnRef, { type: 'state', state: params.state });
      },
      showScreen: ({ context }, params) => {
        deps.display.show(params.screen).catch((err: unknown) => log.error({ err }, 'screen could not be shown'));
        emit(context.txnRef, { type: 'screen', screen: params.screen });
      },
      raiseAnomaly: ({ context }, params) => {
        anomalies.raise(params.name, {
          txnRef: params.txnRef,
          ...(params.reason !== undefined ? { reason: params.reason } : {}),
          ...(context.stan !== undefined ? { stan: context.stan } : {}),
          amount: context.amount,
          currency: context.currency,
          ...(context.card ? { maskedPan: context.card.summary.maskedPan } : {}),
          ...(params.fault ? { detail: { fault: params.fault } } : {}),
        });
      },
    },
  });
}
