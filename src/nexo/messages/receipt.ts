/**
 * A journaled transaction as nexo PaymentReceipt documents (cashier and customer copies, OutputText lines): the
 * lines our printed receipt carries, in the merchant's language and the terminal's time zone (`terminal.language`,
 * `terminal.timeZone`), only the masked PAN, amounts by the currency's exponent in the language's notation. The
 * nexo fields around the receipt (Result, ErrorCondition, codes) stay as the standard names them.
 */
import { formatLocalAmount, formatLocalDateTime, type Locale, type Messages, messagesFor } from '../../i18n/index.js';
import type { TransactionKind } from '../../vocabulary/index.js';
import type { NexoTransactionRecord } from '../ports.js';
import type { Json } from './fields.js';

function outcomeLabel(outcome: string | null, t: Messages['receipt']): string {
  switch (outcome) {
    case 'approved':
      return t.approved;
    case 'offline-approved':
      return t.approvedOffline;
    case 'declined':
      return t.declined;
    case 'cancelled':
      return t.cancelled;
    case 'failed':
      return t.failed;
    default:
      return t.inProgress;
  }
}

function receiptLines(record: NexoTransactionRecord, poiId: string, copy: string, locale: Locale): string[] {
  const messages = messagesFor(locale.language);
  const t = messages.receipt;
  const amount = record.kind === 'sale' ? record.amount : -record.amount;
  const stan = (n: number) => String(n).padStart(6, '0');
  return [
    t.kind[record.kind as TransactionKind] ?? record.kind.toUpperCase(),
    `${t.date}: ${formatLocalDateTime(new Date(record.createdAt), locale.timeZone)}`,
    `${t.terminal}: ${poiId}`,
    ...(record.maskedPan ? [`${t.card}: ${record.maskedPan}`] : []),
    ...(record.entryMode ? [`${t.entry}: ${record.entryMode}`] : []),
    ...(record.stan !== null ? [`${t.stan}: ${stan(record.stan)}`] : []),
    ...(record.rrn ? [`${t.ref}: ${record.rrn}`] : []),
    ...(record.originalStan !== null ? [`${t.originalStan}: ${stan(record.originalStan)}`] : []),
    `${t.amount} ${formatLocalAmount(amount, record.currency, messages)}`,
    outcomeLabel(record.outcome, t),
    ...(record.approvalCode ? [`${t.authCode}: ${record.approvalCode}`] : []),
    `${t.txnRef}: ${record.txnRef}`,
    copy,
  ];
}

/** Both copies; a transaction that never reached a card has no receipt. */
export function paymentReceipts(record: NexoTransactionRecord, poiId: string, locale: Locale = {}): Json[] {
  if (record.stan === null && record.maskedPan === null) return [];
  const t = messagesFor(locale.language).receipt;
  return [
    ['CashierReceipt', t.merchantCopy],
    ['CustomerReceipt', t.customerCopy],
  ].map(([qualifier, copy]) => ({
    DocumentQualifier: qualifier,
    RequiredSignatureFlag: false,
    OutputContent: {
      OutputFormat: 'Text',
      OutputText: receiptLines(record, poiId, copy ?? '', locale).map((Text) => ({ Text, EndOfLineFlag: true })),
    },
  }));
}
