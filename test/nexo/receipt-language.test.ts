/**
 * The receipts a nexo PaymentResponse returns, in the terminal's language and time zone: a French and a Chinese
 * payment on a whole terminal, and every journaled outcome's word in both.
 */
import { describe, expect, it } from 'vitest';
import { messagesFor } from '../../src/i18n/index.js';
import { paymentReceipts } from '../../src/nexo/messages/receipt.js';
import { reversalResponse } from '../../src/nexo/messages/reversal.js';
import type { NexoTransactionRecord } from '../../src/nexo/ports.js';
import { bootNexo, context, paymentRequest, POI_ID, presentWhenAsked, published } from './support.js';

/** "2026-12-02 09:30:00": the wall clock at a fixed offset from UTC, by arithmetic (no zone database). */
function wallClock(at: number, offsetHours: number): string {
  return new Date(at + offsetHours * 3_600_000).toISOString().replace('T', ' ').slice(0, 19);
}

async function paidIn(locale: { language: 'fr' | 'zh-CN'; timeZone: string }) {
  const { app, nexo } = await bootNexo(locale);
  const pending = nexo(paymentRequest('301', 12.5), context);
  await presentWhenAsked(app, 'visa');
  const payment = published(await pending).PaymentResponse!;
  const txnRef = payment.POIData.POITransactionID.TransactionID;
  const record = app.journal.transactions.get(txnRef)!;
  const copies = (payment.PaymentReceipt ?? []).map((r) => (r.OutputContent.OutputText ?? []).map((t) => t.Text));
  return { record, copies, qualifiers: (payment.PaymentReceipt ?? []).map((r) => String(r.DocumentQualifier)) };
}

describe('nexo receipts in the merchant language', () => {
  it('returns French receipts at the terminal zone time (fixed UTC+1): labels, euro amount, outcome, copies', async () => {
    const { record, copies, qualifiers } = await paidIn({ language: 'fr', timeZone: 'Etc/GMT-1' });
    expect(qualifiers).toEqual(['CashierReceipt', 'CustomerReceipt']);
    const [cashier, customer] = copies;
    expect(cashier).toContain('VENTE');
    expect(cashier).toContain('MONTANT 12,50 €');
    expect(cashier).toContain('ACCEPTÉ');
    expect(cashier).toContain(`Date: ${wallClock(record.createdAt, 1)} UTC+01:00`);
    expect(cashier).toContain(`Transaction: ${record.txnRef}`);
    expect(cashier?.at(-1)).toBe('TICKET COMMERÇANT');
    expect(customer?.at(-1)).toBe('TICKET CLIENT');
    expect(cashier?.join('\n')).not.toMatch(/AMOUNT|APPROVED|\d{13,19}/);
  });

  it('returns Chinese receipts at Shanghai time', async () => {
    const { record, copies } = await paidIn({ language: 'zh-CN', timeZone: 'Asia/Shanghai' });
    const [cashier, customer] = copies;
    expect(cashier).toContain('消费');
    expect(cashier).toContain('金额 12.50 EUR');
    expect(cashier).toContain('交易成功');
    expect(cashier).toContain(`日期时间: ${wallClock(record.createdAt, 8)} UTC+08:00`);
    expect(cashier).toContain(`终端号: ${POI_ID}`);
    expect(cashier?.at(-1)).toBe('商户存根');
    expect(customer?.at(-1)).toBe('持卡人存根');
  });

  it.each(['fr', 'zh-CN'] as const)('names every journaled outcome in %s', (language) => {
    const t = messagesFor(language).receipt;
    const base: NexoTransactionRecord = {
      ...{ txnRef: 'T-1', kind: 'refund', amount: 350, currency: '978', stan: 7, maskedPan: '476173******0010' },
      ...{ entryMode: 'chip', responseCode: null, approvalCode: null, rrn: null, anomalyCode: null },
      ...{ originalStan: 3, ecrRequestId: null, createdAt: Date.UTC(2026, 0, 1), outcome: null },
    };
    const words = { approved: t.approved, 'offline-approved': t.approvedOffline, declined: t.declined };
    const more = { cancelled: t.cancelled, failed: t.failed };
    for (const [outcome, word] of Object.entries({ ...words, ...more, running: t.inProgress })) {
      const [cashier] = paymentReceipts({ ...base, outcome: outcome === 'running' ? null : outcome }, 'P1', {
        language,
      });
      const lines = (cashier as { OutputContent: { OutputText: Array<{ Text: string }> } }).OutputContent.OutputText;
      expect(lines.map((l) => l.Text)).toContain(word);
      expect(lines.map((l) => l.Text)).toContain(t.kind.refund);
      expect(lines.map((l) => l.Text)).toContain(`${t.originalStan}: 000003`);
    }
  });

  it('returns the void receipt of a ReversalResponse in the configured language', () => {
    const record: NexoTransactionRecord = {
      ...{ txnRef: 'V-1', kind: 'void', amount: 350, currency: '978', stan: 8, maskedPan: '476173******0010' },
      ...{ entryMode: 'chip', responseCode: '00', approvalCode: 'A1B2C3', rrn: null, anomalyCode: null },
      ...{ originalStan: 7, ecrRequestId: null, createdAt: Date.UTC(2026, 0, 1, 12), outcome: 'approved' },
    };
    const response = reversalResponse({
      record,
      poiId: 'P1',
      locale: { language: 'zh-CN', timeZone: 'Asia/Shanghai' },
    });
    const receipts = response['PaymentReceipt'] as Array<{ OutputContent: { OutputText: Array<{ Text: string }> } }>;
    const lines = receipts[0]!.OutputContent.OutputText.map((l) => l.Text);
    expect(lines).toContain('撤销');
    expect(lines).toContain('日期时间: 2026-01-01 20:00:00 UTC+08:00');
    expect(lines).toContain('原凭证号: 000007');
    expect(lines).toContain('金额 -3.50 EUR');
  });
});
