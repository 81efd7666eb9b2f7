import { describe, expect, it } from 'vitest';
import { anomalyByName, type AnomalyName } from '../../src/anomaly/taxonomy.js';
import { LockoutPolicy } from '../../src/risk/lockout.js';
import { expectCleanEvidence } from './support.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 4, 15, 10, 0, 0);
const fraudRule = { name: 'fraud-burst', anomalies: ['suspected-fraud'], count: 3, windowMs: 10 * MIN };

function observe(policy: LockoutPolicy, name: AnomalyName, at: number) {
  return policy.observe(name, anomalyByName(name).class, at);
}

describe('LockoutPolicy', () => {
  it('locks on 3 suspected-fraud anomalies within 10 minutes, with the rule and counts as evidence', () => {
    const policy = new LockoutPolicy({ rules: [fraudRule], immediate: [] });
    expect(observe(policy, 'suspected-fraud-luhn', T0)).toEqual({ lock: false });
    expect(observe(policy, 'expired-card', T0 + 5 * MIN)).toEqual({ lock: false });
    const verdict = observe(policy, 'suspected-fraud-fallback', T0 + 10 * MIN);
    expect(verdict).toMatchObject({
      lock: true,
      rule: 'fraud-burst',
      evidence: {
        anomaly: 'suspected-fraud-fallback',
        anomalyClass: 'suspected-fraud',
        count: 3,
        windowMs: 10 * MIN,
        spanMs: 10 * MIN,
      },
    });
    if (verdict.lock) {
      expect(verdict.reason).toContain('3 suspected-fraud');
      expectCleanEvidence(verdict.evidence);
    }
  });

  it('does not lock on 3 spread over 11 minutes', () => {
    const policy = new LockoutPolicy({ rules: [fraudRule], immediate: [] });
    expect(observe(policy, 'suspected-fraud-luhn', T0).lock).toBe(false);
    expect(observe(policy, 'suspected-fraud-luhn', T0 + 5 * MIN).lock).toBe(false);
    expect(observe(policy, 'suspected-fraud-luhn', T0 + 11 * MIN).lock).toBe(false);
    // The next one makes 3 within 10 minutes of the second.
    expect(observe(policy, 'suspected-fraud-luhn', T0 + 12 * MIN).lock).toBe(true);
  });

  it('counts only the anomalies a rule names, by name or class', () => {
    const policy = new LockoutPolicy({
      rules: [{ name: 'duplicates', anomalies: ['duplicate-transaction'], count: 2, windowMs: MIN }],
      immediate: [],
    });
    expect(observe(policy, 'suspected-fraud-luhn', T0).lock).toBe(false);
    expect(observe(policy, 'declined', T0).lock).toBe(false);
    expect(observe(policy, 'duplicate-transaction', T0).lock).toBe(false);
    expect(observe(policy, 'duplicate-transaction', T0 + 1).lock).toBe(true);
  });

  it('locks at once on tamper or a storage fault with the default configuration', () => {
    const policy = new LockoutPolicy();
    expect(observe(policy, 'reader-tamper', T0)).toMatchObject({
      lock: true,
      rule: 'immediate',
      evidence: { trigger: 'reader-tamper' },
    });
    expect(observe(policy, 'storage-fault', T0)).toMatchObject({ lock: true, rule: 'immediate' });
    expect(observe(policy, 'printer-paper-out', T0)).toEqual({ lock: false });
  });

  it('forgets earlier anomalies after reset (a supervisor unlock)', () => {
    const policy = new LockoutPolicy({ rules: [fraudRule], immediate: [] });
    observe(policy, 'suspected-fraud-luhn', T0);
    observe(policy, 'suspected-fraud-luhn', T0 + MIN);
    policy.reset();
    expect(observe(policy, 'suspected-fraud-luhn', T0 + 2 * MIN).lock).toBe(false);
  });

  it('keeps only as many times as a rule needs, and accepts them out of order', () => {
    const policy = new LockoutPolicy({ rules: [fraudRule], immediate: [] });
    for (let i = 0; i < 10_000; i++) expect(observe(policy, 'suspected-fraud-luhn', T0 + i * 6 * MIN).lock).toBe(false);
    const late = new LockoutPolicy({ rules: [fraudRule], immediate: [] });
    observe(late, 'suspected-fraud-luhn', T0 + 9 * MIN);
    observe(late, 'suspected-fraud-luhn', T0);
    expect(observe(late, 'suspected-fraud-luhn', T0 + 4 * MIN).lock).toBe(true);
  });

  it('refuses a rule that could never fire', () => {
    expect(
      () => new LockoutPolicy({ rules: [{ ...fraudRule, anomalies: ['suspected-frod'] }], immediate: [] }),
    ).toThrow(RangeError);
    expect(() => new LockoutPolicy({ rules: [{ ...fraudRule, count: 0 }], immediate: [] })).toThrow(RangeError);
    expect(() => new LockoutPolicy({ rules: [fraudRule, fraudRule], immediate: [] })).toThrow(RangeError);
    expect(() => new LockoutPolicy({ rules: [], immediate: ['tamper'] })).toThrow(RangeError);
  });
});
