/**
 * The transaction machine: one sale, refund or void from amount check to receipt. It is pure: reading the card,
 * talking to the host, printing, journaling and showing screens are actors and actions that the composition
 * root provides (machine.provide), so the same definition runs on hardware, on mocks and under model-based tests.
 *
 * Money rule that shapes it: once the host has approved, no later failure (printer, display) may turn the sale
 * into a failure; the receipt is only marked pending.
 *
 * The vocabulary (actors, actions, guards, delays) is in machine/setup.ts; the states, by stage, in machine/states-*.ts.
 */
import { transactionSetup } from './machine/setup.js';
import { outputOf } from './machine/output.js';
import { checking, checkingVoid } from './machine/states-checks.js';
import { enteringTip } from './machine/states-tip.js';
import { checkingCard, confirmingDuplicate, reading, waitingForCard } from './machine/states-card.js';
import { approved, authorizing, confirmingPartial, declined } from './machine/states-host.js';
import { choosingPath, completingChip, enteringPin, retryingPin, startingChip } from './machine/states-chip.js';
import { cancelled, done, ended, failed, printing, removingCard } from './machine/states-ending.js';

export type { TransactionContext, TransactionEvent } from './machine/context.js';

export const transactionMachine = transactionSetup.createMachine({
  id: 'transaction',
  context: ({ input }) => ({
    ...input,
    readFailures: 0,
    otherMethodRequests: 0,
    pinRetries: 0,
    receipt: 'none',
    anomalies: [],
  }),
  initial: 'checking',
  // The order of the states is the order of the diagram in the README.
  states: {
    checking,
    checkingVoid,
    enteringTip,
    waitingForCard,
    reading,
    checkingCard,
    confirmingDuplicate,
    choosingPath,
    startingChip,
    enteringPin,
    authorizing,
    completingChip,
    retryingPin,
    confirmingPartial,
    approved,
    declined,
    printing,
    done,
    cancelled,
    failed,
    removingCard,
    ended,
  },
  output: ({ context }) => outputOf(context),
});
