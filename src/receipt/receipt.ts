/**
 * Receipt documents for the merchant and the customer copy. Only the masked PAN is ever printed; the
 * transaction reference is printed as a QR code so support can find the journal entry from a photo of it.
 */
import type { ReceiptDocument, ReceiptLine } from '../../hal/printer/contract.js';
import type { ReceiptInput } from '../transaction/types.js';
import { formatAmount } from '../vocabulary/index.js';

export interface MerchantInfo {
  label: string;
  addressLines: string[];
  terminalId: string;
  merchantId: string;
}

export type ReceiptCopy = 'merchant' | 'customer';

const KIND_LABEL = {
  sale: 'SALE',
  refund: 'REFUND',
  void: 'VOID',
  preauth: 'PRE-AUTHORIZATION',
  'preauth-increment': 'PRE-AUTHORIZATION INCREMENT',
  completion: 'PRE-AUTHORIZATION COMPLETION',
  'preauth-cancel': 'PRE-AUTHORIZATION CANCELLED',
  'tip-adjust': 'TIP ADJUSTMENT',
} as const;

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
  const lines: ReceiptLine[] = [
    { text: merchant.label, align: 'center', bold: true, doubleHeight: true },
    ...merchant.addressLines.map((text): ReceiptLine => ({ text, align: 'center' })),
    { kind: 'rule' },
    { text: KIND_LABEL[input.kind], align: 'center', bold: true },
    pair('Date', `${printedAt.toISOString().replace('T', ' ').slice(0, 19)} UTC`),
    pair('Terminal', merchant.terminalId),
    pair('Merchant', merchant.merchantId),
    ...(batchNumber ? [pair('Batch', String(batchNumber).padStart(6, '0'))] : []),
    ...(maskedPan ? [pair('Card', maskedPan)] : []),
    ...(summary ? [pair('Entry', summary.entryMode)] : []),
    ...(auth?.stan !== undefined ? [pair('STAN', String(auth.stan).padStart(6, '0'))] : []),
    ...(auth?.rrn ? [pair('Ref', auth.rrn)] : []),
    ...(input.original ? [pair('Original STAN', String(input.original.stan).padStart(6, '0'))] : []),
    { kind: 'rule' },
    {
      text: `AMOUNT ${formatAmount(PAID_KINDS.has(input.kind) ? input.amount : -input.amount, input.currency)}`,
      bold: true,
      doubleWidth: true,
    },
    ...(input.tip ? [pair('of which tip', formatAmount(input.tip, input.currency))] : []),
    // A hold moves no money: the cardholder is told the amount is reserved, not charged.
    ...(input.kind === 'preauth' || input.kind === 'preauth-increment'
      ? [{ text: 'Amount reserved, not charged', align: 'center' } as ReceiptLine]
      : []),
    { kind: 'rule' },
    {
      text: approved ? (auth?.offline ? 'APPROVED OFFLINE' : 'APPROVED') : 'DECLINED',
      align: 'center',
      bold: true,
      doubleHeight: true,
    },
    ...(auth?.offline && approved ? [{ text: 'To be sent to the bank when online', align: 'center' as const }] : []),
    ...(auth?.approvalCode ? [pair('Auth code', auth.approvalCode)] : []),
    ...(auth ? [pair('Response', `${auth.responseCode} ${auth.responseText}`)] : []),
    { text: copy === 'merchant' ? 'MERCHANT COPY' : 'CUSTOMER COPY', align: 'center' },
    ...(reprint ? [{ text: '*** REPRINT ***', align: 'center' as const, bold: true }] : []),
  ];
  return { lines, barcode: { kind: 'qr', data: `TXN:${input.txnRef}` }, cut: true };
}
