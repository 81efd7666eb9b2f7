/** Where a partial approval (10) says what it approved: field 4 when smaller, else field 54 in our currency. */
import { describe, expect, it } from 'vitest';
import { partialAmount } from '../../src/terminal/effects/index.js';

const reply = (amount: number | undefined, field54?: string) => ({
  ...(amount !== undefined ? { amount } : {}),
  message: { mti: '0210', fields: field54 ? { 54: field54 } : {} },
});
/** Field 54 block: account type, amount type, currency, C/D, 12 digits. */
const block = (currency: string, sign: string, amount: number) =>
  `0057${currency}${sign}${String(amount).padStart(12, '0')}`;

describe('partial approval amount', () => {
  it('takes a smaller field 4', () => {
    expect(partialAmount(reply(400), 1_000, '978')).toBe(400);
  });

  it('takes field 54 when field 4 repeats the amount asked or is absent', () => {
    expect(partialAmount(reply(1_000, block('978', 'C', 250)), 1_000, '978')).toBe(250);
    expect(partialAmount(reply(undefined, block('840', 'C', 100) + block('978', 'D', 300)), 1_000, '978')).toBe(300);
  });

  it('is the full amount when nothing smaller is given, and untrusted (null) when nothing is given at all', () => {
    expect(partialAmount(reply(1_000), 1_000, '978')).toBe(1_000);
    expect(partialAmount(reply(undefined), 1_000, '978')).toBeNull();
    expect(partialAmount(reply(undefined, block('978', 'C', 0)), 1_000, '978')).toBeNull();
    expect(partialAmount(reply(undefined, block('978', 'C', 5_000)), 1_000, '978')).toBeNull();
    expect(partialAmount(reply(undefined, 'garbage'), 1_000, '978')).toBeNull();
  });
});
