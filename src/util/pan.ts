/**
 * Card number handling shared by everything that may print, log or store a card reference. A full PAN never
 * leaves memory in clear: only the first 6 and last 4 digits survive masking (PCI DSS display rule).
 */
import { luhnValid } from '../../hal/card-reader/luhn.js';

export function maskPan(pan: string | undefined): string | undefined {
  if (pan === undefined) return undefined;
  const digits = pan.replace(/\D/g, '');
  if (digits.length < 13) return '*'.repeat(digits.length);
  return `${digits.slice(0, 6)}${'*'.repeat(digits.length - 10)}${digits.slice(-4)}`;
}

/** A card number as ISO/IEC 7812 issues them: 12 to 19 digits, the last one the Luhn check digit. */
export function luhnValidPan(pan: string): boolean {
  return /^\d{12,19}$/.test(pan) && luhnValid(pan);
}
