/**
 * The Luhn (mod 10) check digit of ISO/IEC 7812, the one implementation of it: card readers check a PAN with it,
 * and src/ builds its card-number rules (length, scheme ranges, card-data guards) on top.
 */

/** True when `digits` is a non-empty digit string whose last digit is its Luhn check digit. */
export function luhnValid(digits: string): boolean {
  if (!/^\d+$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}
