import { describe, expect, it } from 'vitest';
import { buildReceipt, type MerchantInfo } from '../../src/receipt/receipt.js';
import type { ReceiptInput } from '../../src/transaction/types.js';

const MERCHANT: MerchantInfo = {
  label: 'TEST SHOP',
  addressLines: ['1 Main Street'],
  terminalId: 'TERM0001',
  merchantId: 'MERCHANT0000001',
};
const PRINTED_AT = new Date(Date.UTC(2026, 0, 15, 12, 0, 0));

function amountLine(input: ReceiptInput): string | undefined {
  const doc = buildReceipt(input, 'customer', MERCHANT, PRINTED_AT);
  return doc.lines.map((l) => ('text' in l ? l.text : undefined)).find((t) => t?.startsWith('AMOUNT '));
}

const approved = {
  stan: 1,
  responseCode: '00',
  responseText: 'Approved',
  approved: true,
  approvalCode: 'A00001',
};

describe('the amount on the receipt', () => {
  it('prints a yen sale without decimals', () => {
    expect(amountLine({ txnRef: 't1', kind: 'sale', amount: 1000, currency: '392', authorization: approved })).toBe(
      'AMOUNT 1000 JPY',
    );
  });

  it('prints a dinar refund with three decimals, negative', () => {
    expect(amountLine({ txnRef: 't2', kind: 'refund', amount: 1234, currency: '414', authorization: approved })).toBe(
      'AMOUNT -1.234 KWD',
    );
  });

  it('prints a euro sale with two decimals', () => {
    expect(amountLine({ txnRef: 't3', kind: 'sale', amount: 350, currency: '978', authorization: approved })).toBe(
      'AMOUNT 3.50 EUR',
    );
  });
});
