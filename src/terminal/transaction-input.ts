/** What a transaction starts with: the request, and for a void the approved sale it cancels, from the journal. */
import { type CardReader, hasEmvKernel } from '../../hal/card-reader/contract.js';
import type { Journal } from '../journal/index.js';
import type { TransactionInput, TransactionLimits } from '../transaction/types.js';
import type { TransactionRequest } from './types.js';

/** The approved transaction a void of this STAN cancels. */
function originalFor(journal: Journal, stan: number): TransactionInput['original'] {
  const row = journal.transactions.findByStan(stan, 'sale');
  if (!row || (row.outcome !== 'approved' && row.outcome !== 'offline-approved') || row.stan === null) return undefined;
  return {
    txnRef: row.txnRef,
    stan: row.stan,
    amount: row.amount,
    currency: row.currency,
    ...(row.maskedPan ? { maskedPan: row.maskedPan } : {}),
    ...(row.approvalCode ? { approvalCode: row.approvalCode } : {}),
    ...(row.rrn ? { rrn: row.rrn } : {}),
    ...(row.requestMti ? { requestMti: row.requestMti } : {}),
    ...(row.transmittedAt !== null ? { transmittedAt: row.transmittedAt } : {}),
  };
}

export function transactionInput(
  request: TransactionRequest,
  txnRef: string,
  journal: Journal,
  terms: { limits: TransactionLimits; defaultCurrency: string; emv?: { onlinePinTries: number }; reader: CardReader },
): TransactionInput {
  const original = request.kind === 'void' ? originalFor(journal, request.originalStan) : undefined;
  // A void takes the original's amount; one of an unknown STAN has none, and its machine fails it as such.
  const { amount, currency } =
    request.kind === 'void'
      ? (original ?? { amount: 0, currency: terms.defaultCurrency })
      : { amount: request.amount, currency: request.currency ?? terms.defaultCurrency };
  return {
    txnRef,
    kind: request.kind,
    amount,
    currency,
    limits: terms.limits,
    supervisor: request.supervisor ?? false,
    ...(request.supervisorNote ? { supervisorNote: request.supervisorNote } : {}),
    ...(original ? { original } : {}),
    // Chip processing needs both the configuration and a reader that runs an EMV kernel.
    ...(terms.emv !== undefined && hasEmvKernel(terms.reader)
      ? { emv: true, onlinePinTries: terms.emv.onlinePinTries }
      : {}),
  };
}
