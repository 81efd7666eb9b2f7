/** The settlement receipt: the batch closed, when, and its totals per currency and kind, for the merchant's books. */
import type { ReceiptDocument, ReceiptLine } from '../../hal/printer/contract.js';
import { formatLocalAmount, formatLocalDateTime, messagesFor } from '../i18n/index.js';
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

export function buildSettlementReceipt(
  totals: SettlementReceiptTotals,
  merchant: MerchantInfo,
  closedAt: Date,
  afterUpload: boolean,
): ReceiptDocument {
  const batch = String(totals.batchNumber).padStart(6, '0');
  const messages = messagesFor(merchant.language);
  const t = messages.settlement;
  const r = messages.receipt;
  const kindLabel: Readonly<Record<string, string>> = t.kind;
  const lines: ReceiptLine[] = [
    { text: merchant.label, align: 'center', bold: true, doubleHeight: true },
    ...merchant.addressLines.map((text): ReceiptLine => ({ text, align: 'center' })),
    { kind: 'rule' },
    { text: t.title, align: 'center', bold: true },
    { text: `${r.date}: ${formatLocalDateTime(closedAt, merchant.timeZone)}` },
    { text: `${r.terminal}: ${merchant.terminalId}` },
    { text: `${r.merchant}: ${merchant.merchantId}` },
    { text: `${r.batch}: ${batch}`, bold: true },
  ];
  for (const c of totals.currencies) {
    const money = (minor: number) => formatLocalAmount(minor, c.currency, messages);
    lines.push({ kind: 'rule' });
    for (const [kind, n] of Object.entries(c.byKind)) {
      if (!n) continue;
      lines.push({
        text: `${kindLabel[kind] ?? kind.toUpperCase()} ${n.count}  ${money(n.amount)}`,
      });
    }
    if (c.tips && c.tips.amount > 0) lines.push({ text: `  ${t.ofWhichTips}  ${money(c.tips.amount)}` });
    if (c.reversals.count > 0) lines.push({ text: `${t.reversed} ${c.reversals.count}  ${money(c.reversals.amount)}` });
    lines.push({ text: `${t.net} ${money(c.net)}`, bold: true, doubleWidth: true });
  }
  lines.push(
    { kind: 'rule' },
    { text: afterUpload ? t.settledAfterUpload : t.settledAgreed, align: 'center', bold: true },
  );
  return { lines, barcode: { kind: 'qr', data: `BATCH:${merchant.terminalId}:${batch}` }, cut: true };
}
