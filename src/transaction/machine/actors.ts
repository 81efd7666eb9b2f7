/**
 * The machine's effects as actors. Placeholders: the composition root provides the real effects
 * (machine.provide); an unprovided actor fails loudly.
 */
import { fromPromise } from 'xstate';
import type { SensitiveCard } from '../../card/sensitive-card.js';
import type { AssessInput, Authorization, AuthorizeInput, CardAssessment, ReceiptInput } from '../types.js';

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
