import { describe, expect, it } from 'vitest';
import { buildReceipt, type MerchantInfo } from '../../src/receipt/receipt.js';
import { buildSettlementReceipt } from '../../src/receipt/settlement-receipt.js';
import type { ReceiptInput } from '../../src/transaction/types.js';
import { decodeEscPosText } from '../support/escpos-text-decoder.js';
import { bytesSent, documentTexts } from '../support/printed-bytes.js';

function sale(currency: string, amount: number): ReceiptInput {
  return {
    txnRef: 'T-1',
    kind: 'sale',
    amount,
    currency,
    cardSummary: { maskedPan: '476173******0010', entryMode: 'chip' },
    authorization: { stan: 7, responseCode: '00', responseText: 'Approved', approved: true, approvalCode: 'A1B2C3' },
  };
}

const texts = documentTexts;

/** Rows a printer prints, rules left out, for comparison with the document's texts. */
function printedTexts(bytes: Buffer, chineseAfterInit: boolean): string[] {
  const rows = decodeEscPosText(bytes, { chineseAfterInit }).rows.filter((r) => !/^-+$/.test(r));
  // The QR code (the transaction reference) ends with its own line feed: an empty text row.
  expect(rows.at(-1)).toBe('');
  return rows.slice(0, -1);
}

describe('a French receipt', () => {
  const merchant: MerchantInfo = {
    label: 'Café Crème',
    addressLines: ['12 rue de la Faïencerie', 'Besançon'],
    terminalId: 'TERM0001',
    merchantId: 'MERCHANT0000001',
    language: 'fr',
    timeZone: 'Europe/Paris',
  };
  // 29 March 2026 01:30 UTC: half an hour after Paris went to summer time.
  const doc = buildReceipt(sale('978', 350), 'customer', merchant, new Date(Date.UTC(2026, 2, 29, 1, 30, 0)));

  it('is in French, at Paris time after the change, with the euro amount in two decimals', () => {
    const t = texts(doc);
    expect(t).toContain('VENTE');
    expect(t).toContain('Date: 2026-03-29 03:30:00 UTC+02:00');
    expect(t).toContain('MONTANT 3,50 €');
    expect(t).toContain('ACCEPTÉ');
    expect(t).toContain('TICKET CLIENT');
  });

  it('decodes back to its text from the bytes sent to a TM-T88', async () => {
    const bytes = await bytesSent(doc, 'epson-tm-t88');
    expect(printedTexts(bytes, false)).toEqual(texts(doc));
    expect(bytes.includes(Buffer.from('?'))).toBe(false);
  });

  it('before the change the same wall clock is an hour earlier', () => {
    const before = buildReceipt(sale('978', 350), 'merchant', merchant, new Date(Date.UTC(2026, 2, 29, 0, 30, 0)));
    expect(texts(before)).toContain('Date: 2026-03-29 01:30:00 UTC+01:00');
    expect(texts(before)).toContain('TICKET COMMERÇANT');
  });
});

describe('a Chinese receipt', () => {
  const merchant: MerchantInfo = {
    label: '星光咖啡馆',
    addressLines: ['上海市黄浦区南京东路100号'],
    terminalId: 'TERM0001',
    merchantId: 'MERCHANT0000001',
    language: 'zh-CN',
    timeZone: 'Asia/Shanghai',
  };
  const doc = buildReceipt(sale('156', 3500), 'merchant', merchant, new Date(Date.UTC(2026, 2, 29, 1, 30, 0)), true);

  it('is in Chinese, at Shanghai time, with the yuan amount in two decimals', () => {
    const t = texts(doc);
    expect(t).toContain('消费');
    expect(t).toContain('日期时间: 2026-03-29 09:30:00 UTC+08:00');
    expect(t).toContain('金额 35.00 元');
    expect(t).toContain('交易成功');
    expect(t).toContain('商户存根');
    expect(t).toContain('*** 重打印 ***');
  });

  it.each([
    ['epson-tm-t88-chinese', false],
    ['generic-chinese-58mm', true],
  ] as const)('decodes back to its text from the bytes sent to a %s', async (model, afterInit) => {
    const bytes = await bytesSent(doc, model);
    expect(printedTexts(bytes, afterInit)).toEqual(texts(doc));
  });

  it('prints ? for the Chinese on a printer model without a Chinese mode', async () => {
    const rows = printedTexts(await bytesSent(doc, 'epson-tm-t88'), false);
    expect(rows).toContain('??');
  });
});

describe('amounts by exponent on receipts', () => {
  const merchant: MerchantInfo = {
    label: 'SHOP',
    addressLines: [],
    terminalId: 'TERM0001',
    merchantId: 'MERCHANT0000001',
    timeZone: 'UTC',
  };
  it.each([
    ['392', 1000, 'AMOUNT 1000 JPY'],
    ['978', 350, 'AMOUNT 3.50 EUR'],
    ['414', 1234, 'AMOUNT 1.234 KWD'],
  ])('%s %i prints as %s', (currency, amount, line) => {
    expect(texts(buildReceipt(sale(currency, amount), 'customer', merchant, new Date(0)))).toContain(line);
  });

  it('prints the settlement receipt in French with local time and per-currency exponents', () => {
    const doc = buildSettlementReceipt(
      {
        batchNumber: 3,
        currencies: [
          {
            currency: '978',
            byKind: { sale: { count: 2, amount: 700 } },
            reversals: { count: 0, amount: 0 },
            net: 700,
          },
          {
            currency: '414',
            byKind: { sale: { count: 1, amount: 1234 } },
            reversals: { count: 0, amount: 0 },
            net: 1234,
          },
        ],
      },
      { ...merchant, language: 'fr', timeZone: 'Europe/Paris' },
      new Date(Date.UTC(2026, 9, 25, 1, 30, 0)),
      false,
    );
    const t = texts(doc);
    expect(t).toContain('TÉLÉCOLLECTE');
    expect(t).toContain('Date: 2026-10-25 02:30:00 UTC+01:00');
    expect(t).toContain('VENTES 2  7,00 €');
    expect(t).toContain('NET 1,234 KWD');
    expect(t).toContain('RÉGLÉ : TOTAUX CONCORDANTS');
  });
});
