import { describe, expect, it } from 'vitest';
import { CARD_KEY_LENGTH, cardKey, isCardKey } from '../../src/risk/card-key.js';
import { OTHER_PAN, PAN } from './support.js';

const SECRET = Buffer.alloc(32, 7);

describe('cardKey', () => {
  it('is a 32-character hex HMAC that identifies the card without holding its number', () => {
    const key = cardKey(PAN, SECRET);
    expect(key).toHaveLength(CARD_KEY_LENGTH);
    expect(isCardKey(key)).toBe(true);
    expect(key).not.toContain(PAN);
    expect(cardKey(PAN, SECRET)).toBe(key);
    expect(cardKey(`${PAN.slice(0, 4)} ${PAN.slice(4, 8)} ${PAN.slice(8, 12)} ${PAN.slice(12)}`, SECRET)).toBe(key);
  });

  it('differs by card and by secret', () => {
    expect(cardKey(OTHER_PAN, SECRET)).not.toBe(cardKey(PAN, SECRET));
    expect(cardKey(PAN, Buffer.alloc(32, 8))).not.toBe(cardKey(PAN, SECRET));
  });

  it('refuses a secret short enough to be guessed', () => {
    expect(() => cardKey(PAN, Buffer.alloc(15))).toThrow(RangeError);
  });
});
