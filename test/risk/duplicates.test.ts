import { describe, expect, it } from 'vitest';
import { DuplicateDetector } from '../../src/risk/duplicates.js';
import { ManualClock } from '../../hal/clock.js';
import { expectCleanEvidence } from './support.js';

const KEY = '0123456789abcdef0123456789abcdef';
const sale = { cardKey: KEY, amount: 1250, currency: '978', kind: 'sale' };

function setup(windowMs = 120_000) {
  const clock = new ManualClock();
  const detector = new DuplicateDetector({ windowMs }, clock);
  return { clock, detector };
}

describe('DuplicateDetector', () => {
  it('flags the same card, amount, currency and kind inside the window, naming the earlier transaction', async () => {
    const { clock, detector } = setup();
    expect(detector.check(sale)).toEqual({ duplicate: false });
    detector.record({ ...sale, at: clock.now(), stan: 42, txnRef: 'T-FIRST' });
    await clock.advance(119_000);
    const result = detector.check(sale);
    expect(result.duplicate).toBe(true);
    if (!result.duplicate) return;
    expect(result.earlier).toEqual({ at: clock.now() - 119_000, stan: 42, txnRef: 'T-FIRST' });
    expect(result.anomaly).toBe('duplicate-transaction');
    expect(result.evidence).toMatchObject({
      earlierTxnRef: 'T-FIRST',
      earlierStan: 42,
      ageMs: 119_000,
      windowMs: 120_000,
    });
    expectCleanEvidence(result.evidence);
  });

  it('lets the same sale through once the window has passed, and forgets it', async () => {
    const { clock, detector } = setup();
    detector.record({ ...sale, at: clock.now(), stan: 42, txnRef: 'T-FIRST' });
    await clock.advance(120_000);
    expect(detector.check(sale)).toEqual({ duplicate: false });
    expect(detector.size).toBe(0);
  });

  it('does not match another amount, currency, kind or card', () => {
    const { clock, detector } = setup();
    detector.record({ ...sale, at: clock.now(), txnRef: 'T-FIRST' });
    expect(detector.check({ ...sale, amount: 1251 }).duplicate).toBe(false);
    expect(detector.check({ ...sale, currency: '840' }).duplicate).toBe(false);
    expect(detector.check({ ...sale, kind: 'refund' }).duplicate).toBe(false);
    expect(detector.check({ ...sale, cardKey: 'f'.repeat(32) }).duplicate).toBe(false);
    expect(detector.check(sale).duplicate).toBe(true);
  });

  it('names the latest of several matches and omits an unknown STAN', async () => {
    const { clock, detector } = setup();
    detector.record({ ...sale, at: clock.now(), stan: 1, txnRef: 'T-A' });
    await clock.advance(10_000);
    detector.record({ ...sale, at: clock.now(), txnRef: 'T-B' });
    const result = detector.check(sale);
    expect(result.duplicate && result.earlier).toEqual({ at: clock.now(), txnRef: 'T-B' });
  });

  it('stops matching a transaction that was voided', () => {
    const { clock, detector } = setup();
    detector.record({ ...sale, at: clock.now(), txnRef: 'T-VOIDED' });
    detector.forget('T-VOIDED');
    expect(detector.check(sale).duplicate).toBe(false);
  });

  it('keeps memory bounded by the window and by maxEntries', async () => {
    const clock = new ManualClock();
    const detector = new DuplicateDetector({ windowMs: 60_000, maxEntries: 100 }, clock);
    for (let i = 0; i < 1_000; i++) detector.record({ ...sale, amount: i, at: clock.now(), txnRef: `T-${i}` });
    expect(detector.size).toBe(100);
    expect(detector.check({ ...sale, amount: 999 }).duplicate).toBe(true);
    expect(detector.check({ ...sale, amount: 0 }).duplicate).toBe(false);
    await clock.advance(60_000);
    detector.record({ ...sale, amount: -1, at: clock.now(), txnRef: 'T-LAST' });
    expect(detector.size).toBe(1);
  });

  it('refuses a window that is not a positive number', () => {
    expect(() => new DuplicateDetector({ windowMs: 0 }, () => 0)).toThrow(RangeError);
  });
});
