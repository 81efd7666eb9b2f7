import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CardData, EntryMode } from '../../hal/card-reader/contract.js';
import { ManualClock } from '../../hal/clock.js';
import { assertNoCardData } from '../../src/journal/card-data-guard.js';
import { cardKey } from '../../src/risk/card-key.js';
import {
  CardTestingDetector,
  DEFAULT_FRAUD_POLICY,
  assessCard,
  decide,
  fraudPolicy,
  type FraudFinding,
} from '../../src/risk/fraud.js';
import { NOW, OTHER_PAN, PAN, chip, expectCleanEvidence, swiped } from './support.js';

const base = { now: NOW, chipAttempted: false, readFailuresThisCard: 0 };

function only(findings: FraudFinding[], card: CardData): FraudFinding {
  expect(findings).toHaveLength(1);
  const finding = findings[0] as FraudFinding;
  expectCleanEvidence(finding.evidence, card);
  return finding;
}

describe('assessCard', () => {
  it('finds nothing wrong with a good swipe of a magnetic-stripe card, or a chip read', () => {
    expect(assessCard({ ...base, card: swiped() })).toEqual([]);
    expect(assessCard({ ...base, card: chip() })).toEqual([]);
    expect(decide([])).toEqual({ action: 'allow', findings: [] });
  });

  it('declines a PAN that fails Luhn, with the masked PAN as evidence', () => {
    const bad = `${PAN.slice(0, -1)}1`;
    const card = swiped({ pan: bad });
    const finding = only(assessCard({ ...base, card }), card);
    expect(finding).toMatchObject({ kind: 'luhn', anomaly: 'suspected-fraud-luhn' });
    expect(finding.evidence).toEqual({ maskedPan: '476173******0011', panLength: 16, digitsOnly: true });
    expect(decide([finding]).action).toBe('decline');
  });

  it('declines when track 1 and track 2 disagree on PAN and expiry, naming the fields only', () => {
    const card = swiped({ track1Pan: OTHER_PAN, track1Expiry: '2911' });
    const finding = only(assessCard({ ...base, card }), card);
    expect(finding.kind).toBe('track-mismatch');
    expect(finding.anomaly).toBe('suspected-fraud-track-mismatch');
    expect(finding.evidence).toMatchObject({
      maskedPan: '476173******0010',
      fields: 'pan,expiry',
      between: 'card/track1,track1/track2',
    });
    expect(JSON.stringify(finding.evidence)).not.toContain(OTHER_PAN);
    expect(decide([finding]).action).toBe('decline');
  });

  it('catches a service code rewritten on one track (the trick to dodge the chip)', () => {
    const card = swiped({ serviceCode: '201', track1ServiceCode: '101' });
    const kinds = assessCard({ ...base, chipAttempted: true, card }).map((f) => f.kind);
    expect(kinds).toEqual(['track-mismatch']);
  });

  it('treats a track that does not parse as inconsistent card data', () => {
    const card: CardData = { ...swiped(), track2: 'garbage' };
    const finding = only(assessCard({ ...base, card }), card);
    expect(finding).toMatchObject({ kind: 'track-mismatch', evidence: { unreadableTracks: 'track2' } });
  });

  it('reads a chip track 2 equivalent with its D separator and F pad', () => {
    const card = chip({ track2: `${PAN}D2812201000000F` });
    expect(assessCard({ ...base, card })).toEqual([]);
  });

  it('asks for the chip when a chip card (service code 201) is swiped without a chip attempt', () => {
    const card = swiped({ serviceCode: '201' });
    const finding = only(assessCard({ ...base, card }), card);
    expect(finding).toMatchObject({
      kind: 'fallback',
      anomaly: 'suspected-fraud-fallback',
      evidence: { entryMode: 'swipe', chipCard: true, serviceCodeFirstDigit: '2', chipAttempted: false },
    });
    expect(decide([finding]).action).toBe('ask-other-method');
    // After a failed chip attempt the swipe is a legitimate fallback; service code 6xx is a chip card too.
    expect(
      assessCard({ ...base, chipAttempted: true, card: swiped({ serviceCode: '201', entryMode: 'fallback-swipe' }) }),
    ).toEqual([]);
    expect(assessCard({ ...base, card: swiped({ serviceCode: '601' }) }).map((f) => f.kind)).toEqual(['fallback']);
  });

  it('takes the service code from track 2 when the reader left it out', () => {
    const { serviceCode: _omit, ...card } = swiped({ serviceCode: '201' });
    expect(assessCard({ ...base, card }).map((f) => f.kind)).toEqual(['fallback']);
  });

  it('asks for another method after 3 failed reads of the same card', () => {
    const card = chip();
    expect(assessCard({ ...base, readFailuresThisCard: 2, card })).toEqual([]);
    const finding = only(assessCard({ ...base, readFailuresThisCard: 3, card }), card);
    expect(finding).toMatchObject({
      kind: 'repeated-read-failures',
      anomaly: 'repeated-read-failures',
      evidence: { readFailures: 3, threshold: 3 },
    });
    expect(decide([finding]).action).toBe('ask-other-method');
    expect(assessCard({ ...base, readFailuresThisCard: 4, card }, fraudPolicy({ maxReadFailures: 5 }))).toEqual([]);
  });

  it('declines an expired card, saying by how many months rather than the expiry itself', () => {
    const card = chip({ expiry: '2603', track2: `${PAN}=2603201000000` });
    const finding = only(assessCard({ ...base, card }), card);
    expect(finding).toMatchObject({
      kind: 'expired',
      anomaly: 'expired-card',
      evidence: { reason: 'past', monthsPast: 2 },
    });
    expect(decide([finding]).action).toBe('decline');
    // The current month is still valid; a month that does not exist is not.
    expect(assessCard({ ...base, card: chip({ expiry: '2605', track2: `${PAN}=2605201000000` }) })).toEqual([]);
    const invalid = assessCard({ ...base, card: { entryMode: 'chip', pan: PAN, expiry: '2613' } });
    expect(invalid).toMatchObject([{ kind: 'expired', evidence: { reason: 'invalid-expiry' } }]);
  });

  it('lists every finding of a bad card and decides on the strongest action', () => {
    const card = swiped({ pan: `${PAN.slice(0, -1)}1`, serviceCode: '201', expiry: '2001' });
    const findings = assessCard({ ...base, readFailuresThisCard: 3, card });
    expect(findings.map((f) => f.kind)).toEqual(['luhn', 'fallback', 'repeated-read-failures', 'expired']);
    for (const f of findings) expectCleanEvidence(f.evidence, card);
    const decision = decide(findings);
    expect(decision.action).toBe('decline');
    expect(decision.primary?.kind).toBe('luhn');
    expect(decision.findings).toEqual(findings);
  });

  it('follows the policy given', () => {
    const card = swiped({ serviceCode: '201' });
    const lenient = fraudPolicy({ actions: { fallback: 'allow' } });
    expect(decide(assessCard({ ...base, card }, lenient), lenient).action).toBe('allow');
    expect(DEFAULT_FRAUD_POLICY.actions['card-testing']).toBe('lock');
  });
});

describe('decide', () => {
  const f = (kind: FraudFinding['kind']): FraudFinding => ({ kind, anomaly: 'card-testing', evidence: {} });
  it('orders lock > decline > ask-other-method > allow', () => {
    expect(decide([f('fallback'), f('luhn'), f('card-testing')]).action).toBe('lock');
    expect(decide([f('fallback'), f('expired')]).action).toBe('decline');
    expect(decide([f('fallback'), f('repeated-read-failures')])).toMatchObject({
      action: 'ask-other-method',
      primary: { kind: 'fallback' },
    });
    const allowAll = fraudPolicy({ actions: { fallback: 'allow' } });
    expect(decide([f('fallback')], allowAll)).toMatchObject({ action: 'allow', primary: { kind: 'fallback' } });
  });
});

describe('CardTestingDetector', () => {
  const secret = Buffer.alloc(32, 1);
  const keys = ['4000000000000002', '4000000000000010', '4000000000000028', '4000000000000036', '4000000000000044'].map(
    (pan) => cardKey(pan, secret),
  );

  it('locks after 5 distinct cards within 60 s, with the count as evidence', async () => {
    const clock = new ManualClock();
    const detector = new CardTestingDetector({ windowMs: 60_000, maxDistinctCards: 4 }, clock);
    for (const key of keys.slice(0, 4)) {
      expect(detector.observe(key)).toBeUndefined();
      await clock.advance(14_000);
    }
    // The same card again is not another card.
    expect(detector.observe(keys[0] as string)).toBeUndefined();
    const finding = detector.observe(keys[4] as string);
    expect(finding).toEqual({
      kind: 'card-testing',
      anomaly: 'card-testing',
      evidence: { distinctCards: 5, maxDistinctCards: 4, windowMs: 60_000 },
    });
    expectCleanEvidence(finding!.evidence);
    expect(decide([finding!]).action).toBe('lock');
  });

  it('does not count cards that left the window, and starts again after reset', async () => {
    const clock = new ManualClock();
    const detector = new CardTestingDetector({ windowMs: 60_000, maxDistinctCards: 4 }, clock);
    for (const key of keys) {
      expect(detector.observe(key)).toBeUndefined();
      await clock.advance(15_000);
    }
    expect(detector.distinctCards()).toBe(3);
    for (const key of keys) detector.observe(key);
    expect(detector.distinctCards()).toBe(5);
    detector.reset();
    expect(detector.distinctCards()).toBe(0);
  });
});

describe('assessCard on anything a reader could deliver', () => {
  const entryMode = fc.constantFrom<EntryMode>('swipe', 'chip', 'contactless', 'manual', 'fallback-swipe');
  const digits = (min: number, max: number) =>
    fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max });
  const pan = fc.oneof(digits(10, 19), fc.string({ maxLength: 25 }));
  const card: fc.Arbitrary<CardData> = fc.record(
    {
      entryMode,
      pan,
      expiry: fc.oneof(digits(4, 4), fc.string({ maxLength: 6 })),
      serviceCode: fc.oneof(digits(3, 3), fc.string({ maxLength: 4 })),
      cardholderName: fc.string({ maxLength: 30 }),
      track1: fc.string({ maxLength: 90 }),
      track2: fc.string({ maxLength: 45 }),
    },
    { requiredKeys: ['entryMode', 'pan', 'expiry'] },
  );
  // Cards whose tracks are well formed, so the mismatch and fallback branches are reached often.
  const trackCard: fc.Arbitrary<CardData> = fc
    .record({
      pan: digits(12, 19),
      pan1: digits(12, 19),
      expiry: digits(4, 4),
      sc: digits(3, 3),
      entryMode,
      same: fc.boolean(),
    })
    .map(({ pan, pan1, expiry, sc, entryMode, same }) => ({
      entryMode,
      pan,
      expiry,
      serviceCode: sc,
      track1: `B${same ? pan : pan1}^TEST/CARD^${expiry}${sc}000`,
      track2: `${pan}=${expiry}${sc}000`,
    }));

  it('never throws and never puts the PAN or a track in its evidence', () => {
    fc.assert(
      fc.property(
        fc.oneof(card, trackCard),
        fc.boolean(),
        fc.integer({ min: -2, max: 10 }),
        fc.integer({ min: 0, max: 4_102_444_800_000 }),
        (c, chipAttempted, readFailuresThisCard, now) => {
          const findings = assessCard({ card: c, now, chipAttempted, readFailuresThisCard });
          decide(findings);
          const secrets = [c.pan, c.track1, c.track2].filter(
            (s): s is string => typeof s === 'string' && /\d{10}/.test(s),
          );
          for (const finding of findings) {
            assertNoCardData(finding.evidence, 'evidence');
            for (const value of Object.values(finding.evidence)) {
              if (typeof value === 'string') for (const s of secrets) if (value.includes(s)) return false;
            }
          }
          return true;
        },
      ),
      { numRuns: 5_000 },
    );
  });
});
