/**
 * A stable identifier for a card that is not the card number: HMAC-SHA256 of the PAN under a terminal secret. A plain
 * hash would not do, because PANs are few enough (a BIN plus 9 digits and a check digit) to hash them all.
 */
import { createHmac } from 'node:crypto';

export const CARD_KEY_LENGTH = 32;
/** Below this a secret can be guessed along with the PAN, which is what the key exists to prevent. */
export const MIN_CARD_KEY_SECRET_BYTES = 16;

export function cardKey(pan: string, secret: Buffer): string {
  if (secret.length < MIN_CARD_KEY_SECRET_BYTES) {
    throw new RangeError(`card key secret must be at least ${MIN_CARD_KEY_SECRET_BYTES} bytes`);
  }
  // Digits only, so the same card gives the same key whether or not a reader groups it with spaces.
  const digits = pan.replace(/\D/g, '');
  return createHmac('sha256', secret).update(digits, 'utf8').digest('hex').slice(0, CARD_KEY_LENGTH);
}

export function isCardKey(value: string): boolean {
  return value.length === CARD_KEY_LENGTH && /^[0-9a-f]+$/.test(value);
}
