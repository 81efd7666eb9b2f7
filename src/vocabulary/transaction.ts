/**
 * The words every layer uses for a transaction: what kind it is, how it ended, what became of its receipt. The
 * machine decides them, the journal stores them (its CHECK constraints list the same values), the ECR and the
 * CLI report them.
 */

export const TRANSACTION_KINDS = [
  'sale',
  'refund',
  'void',
  'preauth',
  'preauth-increment',
  'completion',
  'preauth-cancel',
  'tip-adjust',
] as const;
export type TransactionKind = (typeof TRANSACTION_KINDS)[number];

/**
 * Hospitality kinds. A pre-authorization (and an increment) holds money on the card without moving it; a completion
 * captures it (the money moves); a cancel releases the hold by a reversal; a tip adjust adds a tip to an approved sale.
 * Each but the pre-authorization is card-less and names its original (as a void does).
 */
export const HOLD_KINDS: readonly TransactionKind[] = ['preauth', 'preauth-increment'];
export const REFERENCE_KINDS: readonly TransactionKind[] = [
  'preauth-increment',
  'completion',
  'preauth-cancel',
  'tip-adjust',
];

/** offline-approved: decided by the terminal under store-and-forward rules, the advice still owed to the host. */
export const TRANSACTION_OUTCOMES = ['approved', 'declined', 'cancelled', 'failed', 'offline-approved'] as const;
export type TransactionOutcome = (typeof TRANSACTION_OUTCOMES)[number];

/** pending: the printer failed and the receipt is owed (reprint once it is fixed). */
export const RECEIPT_STATUSES = ['none', 'printed', 'pending'] as const;
export type ReceiptStatus = (typeof RECEIPT_STATUSES)[number];
