/**
 * Amounts are integer minor units everywhere (the journal, ISO 8583 field 4, the ECR); how many of them make one
 * unit is the currency's ISO 4217 exponent: 0 for JPY, 2 for EUR, 3 for KWD. Everything that shows an amount to a
 * person, or reads one typed by a person, goes through here, by string arithmetic so no float is ever involved.
 */
import { ISO_4217_CURRENCIES } from './currencies.js';

export interface Currency {
  /** ISO 4217 numeric code, three digits ("978"): what the configuration, the journal and field 49 carry. */
  numeric: string;
  /** ISO 4217 alphabetic code ("EUR"): what a person reads. */
  alpha: string;
  /** Digits after the decimal mark: minor units per unit = 10^exponent. */
  exponent: number;
}

/** The exponent of a currency ISO 4217 does not list, and of most that it does. */
export const DEFAULT_EXPONENT = 2;

/** What the configuration and the ECR take as a currency (the expected phrase of their error messages). */
export const NUMERIC_CURRENCY_CODE = /^\d{3}$/;
export const NUMERIC_CURRENCY_EXPECTED = 'a 3-digit ISO 4217 numeric currency code like "978"';

const BY_CODE = new Map<string, Currency>();
for (const [numeric, alpha, exponent] of ISO_4217_CURRENCIES) {
  const currency = Object.freeze({ numeric, alpha, exponent });
  BY_CODE.set(numeric, currency);
  BY_CODE.set(alpha, currency);
}

/** The ISO 4217 currency named by its numeric ("392") or alphabetic ("JPY") code, if listed. */
export function currencyOf(code: string): Currency | undefined {
  return BY_CODE.get(code);
}

export function currencyExponent(currency: string): number {
  return currencyOf(currency)?.exponent ?? DEFAULT_EXPONENT;
}

/** The alphabetic code a person reads ("EUR"); an unlisted code is shown as given. */
export function currencyLabel(currency: string): string {
  return currencyOf(currency)?.alpha ?? currency;
}

/** Minor units to a decimal string by the currency's exponent: 350 EUR "3.50", 1000 JPY "1000", 1234 KWD "1.234". */
export function decimalAmount(minor: number, currency: string): string {
  const exp = currencyExponent(currency);
  const sign = minor < 0 ? '-' : '';
  const digits = String(Math.abs(minor)).padStart(exp + 1, '0');
  return exp === 0 ? `${sign}${digits}` : `${sign}${digits.slice(0, -exp)}.${digits.slice(-exp)}`;
}

/** An amount as the screen and the receipt show it: "3.50 EUR", "1000 JPY". */
export function formatAmount(minor: number, currency: string): string {
  return `${decimalAmount(minor, currency)} ${currencyLabel(currency)}`;
}

export type MoneyErrorCode = 'not-a-decimal' | 'too-many-decimals' | 'too-large';

export class MoneyError extends Error {
  override readonly name = 'MoneyError';
  constructor(
    readonly code: MoneyErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const DECIMAL = /^(-?)(\d+)(?:[.,](\d+))?$/;

/**
 * A decimal string as a person types it ("12.50", "12,5", "1000") to minor units of the currency, exactly. More
 * decimals than the currency has is an error, never a rounding: "10.5" yen or "3.501" euro is refused.
 */
export function parseDecimalAmount(text: string, currency: string): number {
  const match = DECIMAL.exec(text.trim());
  if (!match) throw new MoneyError('not-a-decimal', `not a decimal amount: ${JSON.stringify(text)}`);
  const [, sign = '', units = '', fraction = ''] = match;
  const exp = currencyExponent(currency);
  if (fraction.length > exp) {
    const allowed = exp === 0 ? 'no decimals' : `at most ${exp} decimals`;
    throw new MoneyError('too-many-decimals', `${currencyLabel(currency)} takes ${allowed}, found ${text.trim()}`);
  }
  const minor = Number(`${units}${fraction.padEnd(exp, '0')}`);
  if (!Number.isSafeInteger(minor)) throw new MoneyError('too-large', `amount too large: ${text.trim()}`);
  return sign === '-' && minor !== 0 ? -minor : minor;
}
