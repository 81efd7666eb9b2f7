/**
 * Amounts as a person reads them in a language: the currency's ISO 4217 exponent decides the decimals (by the
 * vocabulary's string arithmetic, never a float), the language the decimal mark and whether a symbol replaces the
 * code ("3,50 €" in French, "3.50 EUR" in English, "1000 JPY", "1.234 KWD").
 */
import { currencyLabel, decimalAmount } from '../vocabulary/index.js';
import type { Messages } from './messages.js';

export function formatLocalAmount(minor: number, currency: string, messages: Messages): string {
  const decimal = decimalAmount(minor, currency);
  const number = messages.decimalMark === '.' ? decimal : decimal.replace('.', messages.decimalMark);
  const label = currencyLabel(currency);
  return `${number} ${messages.currencySymbols[label] ?? label}`;
}
