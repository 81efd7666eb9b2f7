/**
 * Card number handling shared by everything that may print, log or store a card reference. A full PAN never
 * leaves memory in clear: only the first 6 and last 4 digits survive masking (PCI DSS display rule).
 */
export function maskPan(pan: string | undefined): string | undefined {
  if (pan === undefined) return undefined;
  const digits = pan.replace(/\D/g, '');
  if (digits.length < 13) return '*'.repeat(digits.length);
  return `${digits.slice(0, 6)}${'*'.repeat(digits.length - 10)}${digits.slice(-4)}`;
}

/** Luhn (mod 10) check digit validation. */
export function luhnValid(pan: string): boolean {
  if (!/^\d{12,19}$/.test(pan)) return false;
  let sum = 0;
  for (let i = 0; i < pan.length; i++) {
    let digit = pan.charCodeAt(pan.length - 1 - i) - 48;
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}
