import { describe, expect, it } from 'vitest';
import { screens } from '../../src/transaction/screens.js';

// Amounts are minor units: what a screen shows depends on the currency's ISO 4217 exponent.
describe('amounts on the transaction screens', () => {
  it('shows a yen sale without decimals', () => {
    expect(screens.presentCard('sale', 1000, '392', false).lines[0]).toBe('1000 JPY');
    expect(screens.authorizing('sale', 1000, '392').lines[0]).toBe('1000 JPY');
    expect(screens.approved('sale', 1000, '392', 'A00001').lines[0]).toBe('SALE 1000 JPY');
  });

  it('shows a dinar sale with three decimals', () => {
    expect(screens.reading('sale', 1234, '414').lines[0]).toBe('1.234 KWD');
    expect(screens.confirmPartial(1234, 1000, '414').lines.slice(0, 2)).toEqual(['Approved 1.000 KWD', 'of 1.234 KWD']);
  });

  it('shows a euro sale with two decimals', () => {
    expect(screens.presentCard('refund', 350, '978', false).lines[0]).toBe('3.50 EUR');
    expect(screens.confirmDuplicate(350, '978', undefined).lines[0]).toBe('Same card, 3.50 EUR');
  });
});
