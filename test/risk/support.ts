/** Shared fixtures for the risk tests: cards built the way the readers deliver them, and an evidence check. */
import { expect } from 'vitest';
import type { CardData } from '../../hal/card-reader/contract.js';
import { assertNoCardData } from '../../src/journal/card-data-guard.js';

export const PAN = '4761739001010010';
export const OTHER_PAN = '5413330089020011';
export const NOW = Date.UTC(2026, 4, 15, 10, 0, 0);

/** A swiped card with both tracks (CardData holds what lies between the sentinels). */
export function swiped(
  over: {
    pan?: string;
    expiry?: string;
    serviceCode?: string;
    track1Pan?: string;
    track1Expiry?: string;
    track1ServiceCode?: string;
    entryMode?: CardData['entryMode'];
  } = {},
): CardData {
  const pan = over.pan ?? PAN;
  const expiry = over.expiry ?? '2812';
  const serviceCode = over.serviceCode ?? '101';
  return {
    entryMode: over.entryMode ?? 'swipe',
    pan,
    expiry,
    serviceCode,
    cardholderName: 'TEST/CARD',
    track1: `B${over.track1Pan ?? pan}^TEST/CARD^${over.track1Expiry ?? expiry}${over.track1ServiceCode ?? serviceCode}0000000000`,
    track2: `${pan}=${expiry}${serviceCode}00000000`,
  };
}

export function chip(over: Partial<CardData> = {}): CardData {
  const pan = over.pan ?? PAN;
  return { entryMode: 'chip', pan, expiry: '2812', serviceCode: '201', track2: `${pan}=2812201000000`, ...over };
}

/** Evidence must pass the journal's card-data guard and hold none of the card's sensitive strings. */
export function expectCleanEvidence(evidence: object, card?: CardData): void {
  expect(() => assertNoCardData(evidence, 'evidence')).not.toThrow();
  if (!card) return;
  const secrets = [card.pan, card.track1, card.track2].filter(
    (s): s is string => typeof s === 'string' && s.length >= 8,
  );
  for (const value of Object.values(evidence)) {
    if (typeof value !== 'string') continue;
    for (const secret of secrets) expect(value).not.toContain(secret);
  }
}
