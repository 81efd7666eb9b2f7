/** The soak's cardholder and what its leak scan looks for (chip-steps.ts), checked apart from the long run. */
import { describe, expect, it } from 'vitest';
import { encodePinBlockFormat0 } from '../../../hal/crypto/pin-block.js';
import { testCard } from '../../../src/card/test-cards.js';
import { CHIP_STEPS, Cardholder, PIN_CARDS, pinSecrets, SOAK_PIN, SOAK_WRONG_PIN } from './chip-steps.js';
import { cardSecrets } from './soak-mix.js';

describe('the soak cardholder', () => {
  it('presents its cards and types its PINs in order, repeating the last', () => {
    const holder = new Cardholder(['emv-contactless', 'emv-online-pin'], [SOAK_WRONG_PIN, SOAK_PIN]);
    expect([holder.nextCard(), holder.nextCard(), holder.nextCard()]).toEqual([
      'emv-contactless',
      'emv-online-pin',
      'emv-online-pin',
    ]);
    expect(holder.pinsLeft).toBe(2);
    expect(holder.nextPin()).toBe(SOAK_WRONG_PIN);
    expect(holder.pinsLeft).toBe(1);
    expect([holder.nextPin(), holder.nextPin()]).toEqual([SOAK_PIN, SOAK_PIN]);
    expect(holder.pinsLeft).toBe(0);
  });

  it('ends every PIN sequence with the right PIN, so the issuer never counts a third wrong one in a row', () => {
    for (const step of Object.values(CHIP_STEPS)) if (step.pins.length > 0) expect(step.pins.at(-1)).toBe(SOAK_PIN);
  });

  it('draws amounts on the side of the limit each step is for', () => {
    const limits = { contactlessCvmLimit: 5_000, contactlessTransactionLimit: 50_000, floorLimit: 3_000 };
    for (const value of [0, 0.5, 0.999999]) {
      const random = () => value;
      expect(CHIP_STEPS['tap-no-cvm'].amount(random, limits)).toBeLessThanOrEqual(5_000);
      expect(CHIP_STEPS['tap-pin'].amount(random, limits)).toBeGreaterThan(5_000);
      expect(CHIP_STEPS['tap-pin'].amount(random, limits)).toBeLessThanOrEqual(50_000);
      expect(CHIP_STEPS['tap-over-limit'].amount(random, limits)).toBeGreaterThan(50_000);
      expect(CHIP_STEPS['chip-offline'].amount(random, limits)).toBeLessThanOrEqual(3_000);
    }
  });
});

describe('the leak scan of the soak', () => {
  it('looks for the PINs and their clear PIN blocks, and for nothing short enough to match by chance', () => {
    const secrets = cardSecrets();
    expect(secrets).toEqual(expect.arrayContaining([SOAK_PIN, SOAK_WRONG_PIN]));
    for (const name of PIN_CARDS) {
      const block = encodePinBlockFormat0(SOAK_PIN, testCard(name)!.pan).toString('hex');
      expect(secrets).toEqual(expect.arrayContaining([block.toUpperCase(), block.toLowerCase()]));
    }
    expect(pinSecrets().every((s) => s.length >= 12)).toBe(true);
    // The default test PIN would be found in amounts and dates: the soak's issuer uses its own.
    expect(secrets).not.toContain('1234');
  });
});
