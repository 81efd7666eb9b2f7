/**
 * A journaled transaction as nexo PaymentReceipt documents (cashier and customer copies, OutputText lines): the
 * lines our printed receipt carries, only the masked PAN, amounts by the currency's exponent.
 */
import { formatAmount } from '../../vocabulary/index.js';
import type { NexoTransactionRecord } from '../ports.js';
import type { Json } from './fields.js';

const KIND_LABEL: Record<string, string> = { sale: 'SALE', refund: 'REFUND', void: 'VOID' };
const OUTCOME_LABEL: Record<string, string> = {
  approved: 'APPROVED',
  'offline-approved': 'APPROVED OFFLINE',
  declined: 'DECLINED',
  cancelled: 'CANCELLED',
  failed: 'FAILED',
};

function receiptLines(record: NexoTransactionRecord, poiId: string, copy: string): string[] {
  const amount = record.kind === 'sale' ? record.amount : -record.amount;
  return [
    KIND_LABEL[record.kind] ?? record.kind.toUpperCase(),
    `Date: ${new Date(record.createdAt).toISOString().replace('T', ' ').slice(0, 19)} UTC`,
    `Terminal: ${poiId}`,
    ...(record.maskedPan ? [`Card: ${record.maskedPan}`] : []),
    ...(record.entryMode ? [`Entry: ${record.entryMode}`] : []),
    ...(record.stan !== null ? [`STAN: ${String(record.stan).padStart(6, '0')}`] : []),
    ...(record.rrn ? [`Ref: ${record.rrn}`] : []),
    ...(record.originalStan !== null ? [`Original STAN: ${String(record.originalStan).padStart(6, '0')}`] : []),
    `AMOUNT ${formatAmount(amount, record.currency)}`,
    OUTCOME_LABEL[record.outcome ?? ''] ?? 'IN PROGRESS',
    ...(record.approvalCode ? [`Auth code: ${record.approvalCode}`] : []),
    `Txn: ${record.txnRef}`,
    copy,
  ];
}

/** Both copies; a transaction that never reached a card has no receipt. */
export function paymentReceipts(record: NexoTransactionRecord, poiId: string): Json[] {
  if (record.stan === null && record.maskedPan === null) return [];
  return [
    ['CashierReceipt', 'MERCHANT COPY'],
    ['CustomerReceipt', 'CUSTOMER COPY'],
  ].map(([qualifier, copy]) => ({
    DocumentQualifier: qualifier,
    RequiredSignatureFlag: false,
    OutputContent: {
      OutputFormat: 'Text',
      OutputText: receiptLines(record, poiId, copy ?? '').map((Text) => ({ Text, EndOfLineFlag: true })),
    },
  }));
}
