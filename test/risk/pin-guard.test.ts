import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../hal/clock.js';
import { hashPin } from '../../src/security/pin.js';
import { SupervisorGuard } from '../../src/risk/pin-guard.js';
import { expectCleanEvidence } from './support.js';

const RIGHT = '2468';
let pinHash = '';
beforeAll(() => {
  pinHash = hashPin(RIGHT);
});

function setup() {
  const clock = new ManualClock();
  return { clock, guard: new SupervisorGuard({ pinHash }, clock) };
}

function noPinIn(result: object): void {
  expectCleanEvidence(result);
  expect(JSON.stringify(result)).not.toContain(RIGHT);
  expect(JSON.stringify(result)).not.toContain('1111');
}

describe('SupervisorGuard', () => {
  it('accepts the right PIN for each supervisor operation', () => {
    const { guard } = setup();
    for (const op of ['refund', 'void', 'unlock', 'settings'] as const) {
      expect(guard.verify(RIGHT, op)).toEqual({ ok: true, operation: op });
    }
  });

  it('refuses a missing PIN without counting it as a guess', () => {
    const { guard } = setup();
    for (const pin of [undefined, '']) {
      const result = guard.verify(pin, 'refund');
      expect(result).toMatchObject({
        ok: false,
        reason: 'missing',
        attemptsLeft: 3,
        anomaly: 'unauthorized-operation',
      });
    }
  });

  it('counts wrong PINs and says how many tries are left, the PIN itself never in the evidence', () => {
    const { guard } = setup();
    const first = guard.verify('1111', 'void');
    expect(first).toMatchObject({ ok: false, reason: 'wrong', attemptsLeft: 2 });
    if (!first.ok) expect(first.evidence).toMatchObject({ operation: 'void', failedAttempts: 1, maxAttempts: 3 });
    noPinIn(first);
    expect(guard.verify('1111', 'refund')).toMatchObject({ reason: 'wrong', attemptsLeft: 1 });
  });

  it('a right PIN resets the count', () => {
    const { guard } = setup();
    guard.verify('1111', 'void');
    guard.verify('1111', 'void');
    expect(guard.verify(RIGHT, 'void').ok).toBe(true);
    expect(guard.verify('1111', 'void')).toMatchObject({ reason: 'wrong', attemptsLeft: 2 });
  });

  it('locks out after 3 wrong PINs across operations, refuses even the right PIN, and releases after lockoutMs', async () => {
    const { clock, guard } = setup();
    const start = clock.now();
    guard.verify('1111', 'refund');
    guard.verify('1111', 'void');
    const third = guard.verify('1111', 'settings');
    expect(third).toMatchObject({ ok: false, reason: 'wrong', attemptsLeft: 0, lockedUntil: start + 15 * 60_000 });
    expect(guard.lockedOutUntil()).toBe(start + 15 * 60_000);

    await clock.advance(15 * 60_000 - 1);
    const during = guard.verify(RIGHT, 'unlock');
    expect(during).toMatchObject({ ok: false, reason: 'locked-out', lockedUntil: start + 15 * 60_000 });
    noPinIn(during);
    expect(guard.verify(undefined, 'refund')).toMatchObject({ reason: 'locked-out' });

    await clock.advance(1);
    expect(guard.lockedOutUntil()).toBeUndefined();
    expect(guard.verify(RIGHT, 'unlock').ok).toBe(true);
    // The count starts afresh after the lockout.
    expect(guard.verify('1111', 'void')).toMatchObject({ reason: 'wrong', attemptsLeft: 2 });
  });

  it('takes its limits from the options', async () => {
    const clock = new ManualClock();
    const guard = new SupervisorGuard({ pinHash, maxAttempts: 1, lockoutMs: 1_000 }, () => clock.now());
    expect(guard.verify('1111', 'void')).toMatchObject({
      reason: 'wrong',
      attemptsLeft: 0,
      lockedUntil: clock.now() + 1_000,
    });
    await clock.advance(1_000);
    expect(guard.verify(RIGHT, 'void').ok).toBe(true);
  });

  it('refuses a configuration that is not a PIN hash', () => {
    expect(() => new SupervisorGuard({ pinHash: '2468' }, () => 0)).toThrow(RangeError);
    expect(() => new SupervisorGuard({ pinHash, maxAttempts: 0 }, () => 0)).toThrow(RangeError);
  });
});
