/** The card's part of a transaction: waiting for it, reading it, the card checks, and waiting for it to be taken out. */
import { fromPromise } from 'xstate';
import { SensitiveCard } from '../../card/sensitive-card.js';
import type { AssessInput, CardAssessment } from '../../transaction/types.js';
import type { TransactionDeps } from './deps.js';

export function cardActors(deps: Pick<TransactionDeps, 'reader' | 'risk'>) {
  return {
    waitForCard: fromPromise<{ entryMode: string }, { txnRef: string }>(async ({ signal }) =>
      deps.reader.waitForCard({ signal, timeoutMs: Number.POSITIVE_INFINITY }),
    ),
    readCard: fromPromise<SensitiveCard, { txnRef: string }>(async () => new SensitiveCard(await deps.reader.read())),
    // No deadline: the transaction is over only when the card is out; the machine's alert and anomaly time it.
    waitForRemoval: fromPromise<void, { txnRef: string }>(async ({ signal }) =>
      deps.reader.waitForRemoval({ signal, timeoutMs: Number.POSITIVE_INFINITY }),
    ),
    assessCard: fromPromise<CardAssessment, AssessInput>(
      async ({ input }) => deps.risk?.assess(input) ?? { action: 'continue' },
    ),
  };
}
