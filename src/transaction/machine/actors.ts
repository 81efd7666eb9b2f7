/**
 * The machine's effects as actors. Placeholders: the composition root provides the real effects
 * (machine.provide); an unprovided actor fails loudly.
 */
import { fromPromise } from 'xstate';
import type { SensitiveCard } from '../../card/sensitive-card.js';
import type {
  AssessInput,
  Authorization,
  AuthorizeInput,
  CardAssessment,
  ChipCompleteInput,
  ChipCompletion,
  ChipStart,
  ChipStartInput,
  PinInput,
  PinRetryInput,
  ReceiptInput,
  TipInput,
} from '../types.js';

export const actors = {
  waitForCard: fromPromise<{ entryMode: string }, { txnRef: string }>(async () => {
    throw new Error('waitForCard not provided');
  }),
  readCard: fromPromise<SensitiveCard, { txnRef: string }>(async () => {
    throw new Error('readCard not provided');
  }),
  assessCard: fromPromise<CardAssessment, AssessInput>(async () => {
    throw new Error('assessCard not provided');
  }),
  /** The reader's EMV kernel: the card's first decision (absent kernel: never called, usesChip is false). */
  startChip: fromPromise<ChipStart, ChipStartInput>(async () => {
    throw new Error('startChip not provided');
  }),
  /** The PIN pad's amount entry: the tip the cardholder typed (0: none), journaled with the new total. */
  enterTip: fromPromise<number, TipInput>(async () => {
    throw new Error('enterTip not provided');
  }),
  /** The PIN pad: the card with the enciphered PIN block. */
  enterPin: fromPromise<SensitiveCard, PinInput>(async () => {
    throw new Error('enterPin not provided');
  }),
  /** The card's second decision on the host's answer; it settles the stored reversal (never rejects for a card fault). */
  completeChip: fromPromise<ChipCompletion, ChipCompleteInput>(async () => {
    throw new Error('completeChip not provided');
  }),
  /** A wrong online PIN (55) with tries left: the attempt is journaled apart before the card starts again. */
  retryPin: fromPromise<void, PinRetryInput>(async () => {
    throw new Error('retryPin not provided');
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
};
