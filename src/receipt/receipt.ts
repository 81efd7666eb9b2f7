/**
 * Receipt documents for the merchant and the customer copy. Only the masked PAN is ever printed; the
 * transaction reference is printed as a QR code so support can find the journal entry from a photo of it. Words are
 * the merchant's language, the time is local to the terminal's zone, amounts follow the currency's exponent.
 */
import type { ReceiptDocument, ReceiptLine } from '../../hal/printer/contract.js';
import type { ReceiptInput } from '../transaction/types.js';
import { formatLocalAmount, formatLocalDateTime, messagesFor, type Locale } from '../i18n/index.js';

export interface MerchantInfo extends Locale {
  label: string;
  addressLines: string[];
  terminalId: string;
  merchantId: string;
}

export type ReceiptCopy = 'merchant' | 'customer';

/** Kinds whose amount the cardholder pays (printed positive); a refund, void or released hold prints negative. */
const PAID_KINDS: ReadonlySet<string> = new Set(['sale', 'preauth', 'preauth-increment', 'completion', 'tip-adjust']);

function pair(left: string, right: string): ReceiptLine {
  return { text: `${left}: ${right}` };
}

export function buildReceipt(
  input: ReceiptInput,
  copy: ReceiptCopy,
  merchant: MerchantInfo,
  printedAt: Date,
  reprint = false,
  /** The settlement batch the transaction belongs to, when the journal has it. */
  batchNumber?: number | null,
): ReceiptDocument {
  const auth = input.authorization;
  const approved = auth?.approved ?? false;
  const summary = input.card?.summary ?? input.cardSummary;
  const maskedPan = summary?.maskedPan ?? input.original?.maskedPan;
  const t = messagesFor(merchant.language).receipt;
  const money = (minor: number) => formatLocalAmount(minor, input.currency, messagesFor(merchant.language));
  const stan = (n: number) => String(n).padStart(6, '0');
  const lines: ReceiptLine[] = [
    { text: merchant.label, align: 'center', bold: true, doubleHeight: true },
    ...merchant.addressLines.map((text): ReceiptLine => ({ text, align: 'center' })),
    { kind: 'rule' },
    { text: t.kind[input.kind], align: 'center', bold: true },
    pair(t.date, formatLocalDateTime(printedAt, merchant.timeZone)),
    pair(t.terminal, merchant.terminalId),
    pair(t.merchant, merchant.merchantId),
    ...(batchNumber ? [pair(t.batch, stan(batchNumber))] : []),
    ...(maskedPan ? [pair(t.card, maskedPan)] : []),
    ...(summary ? [pair(t.entry, summary.entryMode)] : []),
    ...(auth?.stan !== undefined ? [pair(t.stan, stan(auth.stan))] : []),
    ...(auth?.rrn ? [pair(t.ref, auth.rrn)] : []),
    ...(input.original ? [pair(t.originalStan, stan(input.original.stan))] : []),
    { kind: 'rule' },
    {
      text: `${t.amount} ${money(PAID_KINDS.has(input.kind) ? input.amount : -input.amount)}`,
      bold: true,
      doubleWidth: true,
    },
    ...(input.tip ? [pair(t.ofWhichTip, money(input.tip))] : []),
    // A hold moves no money: the cardholder is told the amount is reserved, not charged.
    ...(input.kind === 'preauth' || input.kind === 'preauth-increment'
      ? [{ text: t.reservedNotCharged, align: 'center' } as ReceiptLine]
      : []),
    { kind: 'rule' },
    {
      text: approved ? (auth?.offline ? t.approvedOffline : t.approved) : t.declined,
      align: 'center',
      bold: true,
      doubleHeight: true,
    },
    ...(auth?.offline && approved ? [{ text: t.sentWhenOnline, align: 'center' as const }] : []),
    ...(auth?.approvalCode ? [pair(t.authCode, auth.approvalCode)] : []),
    ...(auth ? [pair(t.response, `${auth.responseCode} ${auth.responseText}`)] : []),
    { text: copy === 'merchant' ? t.merchantCopy : t.customerCopy, align: 'center' },
    ...(reprint ? [{ text: t.reprint, align: 'center' as const, bold: true }] : []),
  ];
  return { lines, barcode: { kind: 'qr', data: `TXN:${input.txnRef}` }, cut: true };
}
