/**
 * Transaction references: letters only (about 94 bits of randomness), so a reference can never look like a card
 * number to the journal's guard or to a leak scan, and is easy to read over the phone to support.
 */
import { randomBytes } from 'node:crypto';

const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ'; // no I or O: they read as 1 and 0

export function newTxnRef(): string {
  const bytes = randomBytes(21);
  let out = '';
  for (let i = 0; i < 21; i++) {
    // 24 letters: rejection-free mapping is fine, the slight bias costs well under a bit of entropy.
    out += ALPHABET[bytes[i]! % ALPHABET.length];
    if (i % 7 === 6 && i < 20) out += '-';
  }
  return `T-${out}`;
}
