import { describe, expect, it } from 'vitest';
import { ISO_4217_CURRENCIES } from '../../src/vocabulary/currencies.js';
import {
  currencyExponent,
  currencyLabel,
  currencyOf,
  decimalAmount,
  formatAmount,
  MoneyError,
  parseDecimalAmount,
} from '../../src/vocabulary/money.js';

// ISO 4217 list one, the currencies whose minor unit is not 2: [alphabetic, numeric, minor unit].
const ISO_ZERO_DECIMALS = [
  ['BIF', '108'],
  ['CLP', '152'],
  ['DJF', '262'],
  ['GNF', '324'],
  ['ISK', '352'],
  ['JPY', '392'],
  ['KMF', '174'],
  ['KRW', '410'],
  ['PYG', '600'],
  ['RWF', '646'],
  ['UGX', '800'],
  ['UYI', '940'],
  ['VND', '704'],
  ['VUV', '548'],
  ['XAF', '950'],
  ['XOF', '952'],
  ['XPF', '953'],
] as const;
const ISO_THREE_DECIMALS = [
  ['BHD', '048'],
  ['IQD', '368'],
  ['JOD', '400'],
  ['KWD', '414'],
  ['LYD', '434'],
  ['OMR', '512'],
  ['TND', '788'],
] as const;
const ISO_FOUR_DECIMALS = [
  ['CLF', '990'],
  ['UYW', '927'],
] as const;
// A few of the two-decimal ones, including some that are often taken for zero-decimal currencies.
const ISO_TWO_DECIMALS = [
  ['EUR', '978'],
  ['USD', '840'],
  ['GBP', '826'],
  ['CHF', '756'],
  ['SEK', '752'],
  ['CAD', '124'],
  ['IDR', '360'],
  ['HUF', '348'],
  ['TWD', '901'],
  ['CVE', '132'],
  ['MGA', '969'],
] as const;

const ISO_EXPONENTS: readonly (readonly [string, string, number])[] = [
  ...ISO_ZERO_DECIMALS.map(([a, n]) => [a, n, 0] as const),
  ...ISO_TWO_DECIMALS.map(([a, n]) => [a, n, 2] as const),
  ...ISO_THREE_DECIMALS.map(([a, n]) => [a, n, 3] as const),
  ...ISO_FOUR_DECIMALS.map(([a, n]) => [a, n, 4] as const),
];

describe('ISO 4217 table', () => {
  it.each(ISO_EXPONENTS)('%s (%s) has %i decimals, by either code', (alpha, numeric, exponent) => {
    expect(currencyOf(numeric)).toEqual({ numeric, alpha, exponent });
    expect(currencyOf(alpha)).toEqual({ numeric, alpha, exponent });
    expect(currencyExponent(numeric)).toBe(exponent);
    expect(currencyLabel(numeric)).toBe(alpha);
  });

  it('lists no other currency with a minor unit other than 2', () => {
    const notTwo = ISO_4217_CURRENCIES.filter(([, , e]) => e !== 2)
      .map(([, alpha]) => alpha)
      .sort();
    const expected = [...ISO_ZERO_DECIMALS, ...ISO_THREE_DECIMALS, ...ISO_FOUR_DECIMALS].map(([a]) => a).sort();
    expect(notTwo).toEqual(expected);
  });

  it('names each currency once, by a 3-digit and a 3-letter code', () => {
    const numerics = ISO_4217_CURRENCIES.map(([n]) => n);
    const alphas = ISO_4217_CURRENCIES.map(([, a]) => a);
    expect(new Set(numerics).size).toBe(numerics.length);
    expect(new Set(alphas).size).toBe(alphas.length);
    for (const n of numerics) expect(n).toMatch(/^\d{3}$/);
    for (const a of alphas) expect(a).toMatch(/^[A-Z]{3}$/);
  });

  it('takes an unlisted code as two decimals, shown as given', () => {
    expect(currencyOf('999')).toBeUndefined();
    expect(currencyExponent('999')).toBe(2);
    expect(formatAmount(350, '999')).toBe('3.50 999');
  });
});

describe('formatting minor units', () => {
  it('formats by the exponent, without thousands separators', () => {
    expect(formatAmount(1000, '392')).toBe('1000 JPY');
    expect(formatAmount(1234, '414')).toBe('1.234 KWD');
    expect(formatAmount(350, '978')).toBe('3.50 EUR');
    expect(formatAmount(-350, '978')).toBe('-3.50 EUR');
    expect(formatAmount(5, '048')).toBe('0.005 BHD');
    expect(formatAmount(12345, '990')).toBe('1.2345 CLF');
    expect(decimalAmount(0, '392')).toBe('0');
    expect(decimalAmount(0, '414')).toBe('0.000');
  });

  // Moved from the journal export tests, which render amounts through this module.
  it('uses the ISO 4217 exponent of the currency', () => {
    expect(decimalAmount(1234, '978')).toBe('12.34');
    expect(decimalAmount(5, '978')).toBe('0.05');
    expect(decimalAmount(0, '840')).toBe('0.00');
    expect(decimalAmount(500, '392')).toBe('500');
    expect(decimalAmount(1234, '414')).toBe('1.234');
    expect(decimalAmount(-250, '978')).toBe('-2.50');
    expect(decimalAmount(9_007_199_254_740_991, '978')).toBe('90071992547409.91');
  });
});

describe('parsing a decimal string', () => {
  it('reads up to the currency exponent of decimals, exactly', () => {
    expect(parseDecimalAmount('3.50', '978')).toBe(350);
    expect(parseDecimalAmount('3.5', '978')).toBe(350);
    expect(parseDecimalAmount('3,5', '978')).toBe(350);
    expect(parseDecimalAmount('12', '978')).toBe(1200);
    expect(parseDecimalAmount(' 0.05 ', '978')).toBe(5);
    expect(parseDecimalAmount('1000', '392')).toBe(1000);
    expect(parseDecimalAmount('1.234', '414')).toBe(1234);
    expect(parseDecimalAmount('1.2', 'KWD')).toBe(1200);
    expect(parseDecimalAmount('-2.50', '978')).toBe(-250);
    expect(parseDecimalAmount('007.10', '978')).toBe(710);
  });

  it('involves no floating point', () => {
    // 0.29 * 100 and 1.005 * 1000 are not integers in binary floating point.
    expect(parseDecimalAmount('0.29', '978')).toBe(29);
    expect(parseDecimalAmount('1.005', '414')).toBe(1005);
    expect(parseDecimalAmount('90071992547409.91', '978')).toBe(9_007_199_254_740_991);
  });

  it('round-trips what it formats', () => {
    for (const [alpha, numeric] of [...ISO_ZERO_DECIMALS, ...ISO_TWO_DECIMALS, ...ISO_THREE_DECIMALS]) {
      for (const minor of [0, 1, 9, 10, 99, 100, 101, 1234, 99_999_999]) {
        expect(parseDecimalAmount(decimalAmount(minor, numeric), numeric), `${minor} ${alpha}`).toBe(minor);
      }
    }
  });

  const refusal = (text: string, currency: string) => {
    try {
      parseDecimalAmount(text, currency);
    } catch (err) {
      expect(err).toBeInstanceOf(MoneyError);
      return err as MoneyError;
    }
    throw new Error(`${text} ${currency} was taken`);
  };

  it('refuses more decimals than the currency has, with a typed error', () => {
    expect(refusal('10.5', '392').code).toBe('too-many-decimals');
    expect(refusal('10.5', '392').message).toBe('JPY takes no decimals, found 10.5');
    expect(refusal('3.501', '978').code).toBe('too-many-decimals');
    expect(refusal('3.501', '978').message).toBe('EUR takes at most 2 decimals, found 3.501');
    expect(refusal('1.2345', '414').code).toBe('too-many-decimals');
    expect(refusal('3.500', '978').code).toBe('too-many-decimals');
  });

  it('refuses what is not a plain decimal number, and what no safe integer holds', () => {
    for (const text of ['', '.5', '5.', '1,000.00', '1e3', '12 EUR', '+3', '0x10', '3.50.1']) {
      expect(refusal(text, '978').code, text).toBe('not-a-decimal');
    }
    expect(refusal('90071992547409.92', '978').code).toBe('too-large');
  });
});
