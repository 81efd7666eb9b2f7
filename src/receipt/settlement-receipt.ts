/** The settlement receipt: the batch closed, when, and its totals per currency and kind, for the merchant's books. */
import type { ReceiptDocument, ReceiptLine } from '../../hal/printer/contract.js';
import { formatAmount } from '../vocabulary/index.js';
import type { MerchantInfo } from './receipt.js';

/** The totals as the receipt reads them (the settlement's BatchTotals has this shape). */
export interface SettlementReceiptTotals {
  batchNumber: number;
  currencies: ReadonlyArray<{
    currency: string;
    byKind: Partial<Record<string, { count: number; amount: number }>>;
    reversals: { count: number; amount: number };
    /** Tips within the amounts; absent in totals recorded before tips were counted apart. */
    tips?: { count: number; amount: number };
    net: number;
  }>;
}

const KIND_LABEL: Readonly<Record<string, string>> = { sale: 'SALES', refund: 'REFUNDS', void: 'VOIDS' };

export function buildSettlementReceipt(
  totals: SettlementReceiptTotals,
  merchant: MerchantInfo,
  closedAt: Date,
  afterUpload: boolean,
): ReceiptDocument {
  const batch = String(totals.batchNumber).padStart(6, '0');
  const lines: ReceiptLine[] = [
    { text: merchant.label, align: 'center', bold: true, doubleHeight: true },
    ...merchant.addressLines.map((text): ReceiptLine => ({ text, align: 'center' })),
    { kind: 'rule' },
    { text: 'SETTLEMENT', align: 'center', bold: true },
    { text: `Date: ${closedAt.toISOString().replace('T', ' ').slice(0, 19)} UTC` },
    { text: `Terminal: ${merchant.terminalId}` },
    { text: `Merchant: ${merchant.merchantId}` },
    { text: `Batch: ${batch}`, bold: true },
  ];
  for (const c of totals.currencies) {
    lines.push({ kind: 'rule' });
    for (const [kind, t] of Object.entries(c.byKind)) {
      if (!t) continue;
      lines.push({
        text: `${KIND_LABEL[kind] ?? kind.toUpperCase()} ${t.count}  ${formatAmount(t.amount, c.currency)}`,
      });
    }
    if (c.tips && c.tips.amount > 0)
      lines.push({ text: `  OF WHICH TIPS  ${formatAmount(c.tips.amount, c.currency)}` });
    if (c.reversals.count > 0)
      lines.push({ text: `REVERSED ${c.reversals.count}  ${formatAmount(c.reversals.amount, c.currency)}` });
    lines.push({ text: `NET ${formatAmount(c.net, c.currency)}`, bold: true, doubleWidth: true });
  }
  lines.push(
    { kind: 'rule' },
    { text: afterUpload ? 'SETTLED AFTER BATCH UPLOAD' : 'SETTLED: TOTALS AGREED', align: 'center', bold: true },
  );
  return { lines, barcode: { kind: 'qr', data: `BATCH:${merchant.terminalId}:${batch}` }, cut: true };
}
