/**
 * Lockouts per client, and kept: repeated refusals lock the client that earned them, not everyone; wrong supervisor
 * PINs lock that client's supervisor rights; both survive a restart through their persistence.
 */
import { describe, expect, it } from 'vitest';
import { ClientLockout } from '../../src/risk/client-lockout.js';
import type { LockoutPersistence } from '../../src/risk/lockout-persistence.js';
import { SupervisorGuard } from '../../src/risk/pin-guard.js';
import { hashPin } from '../../src/security/pin.js';

function memory(): LockoutPersistence & { saved: Record<string, number> } {
  const store = {
    saved: {} as Record<string, number>,
    load: () => ({ ...store.saved }),
    save: (locks: Record<string, number>) => {
      store.saved = { ...locks };
    },
  };
  return store;
}

describe('ClientLockout', () => {
  it('locks the client whose refusals reach the count within the window, and only that client', () => {
    let now = 0;
    const lockout = new ClientLockout({ refusals: 5, windowMs: 60_000, lockoutMs: 900_000 }, () => now);
    for (let i = 0; i < 4; i++) expect(lockout.refused('tcp:10.0.0.9').locked).toBe(false);
    expect(lockout.refused('tcp:10.0.0.8').locked).toBe(false);
    now = 1_000;
    expect(lockout.refused('tcp:10.0.0.9')).toMatchObject({ locked: true, until: 901_000 });
    expect(lockout.lockedUntil('tcp:10.0.0.9')).toBe(901_000);
    expect(lockout.lockedUntil('tcp:10.0.0.8')).toBeUndefined();
    now = 901_000;
    expect(lockout.lockedUntil('tcp:10.0.0.9')).toBeUndefined();
  });

  it('forgets refusals older than the window', () => {
    let now = 0;
    const lockout = new ClientLockout({ refusals: 3, windowMs: 10_000, lockoutMs: 60_000 }, () => now);
    lockout.refused('a');
    lockout.refused('a');
    now = 20_000;
    expect(lockout.refused('a').locked).toBe(false);
  });

  it('keeps its locks across a restart, and drops the expired and the damaged ones', () => {
    let now = 0;
    const store = memory();
    const first = new ClientLockout(
      { refusals: 2, windowMs: 10_000, lockoutMs: 60_000, persistence: store },
      () => now,
    );
    first.refused('token:1');
    first.refused('token:1');
    expect(store.saved).toEqual({ 'token:1': 60_000 });
    now = 30_000;
    store.saved = { ...store.saved, junk: Number.NaN as unknown as number, old: 10 };
    const second = new ClientLockout(
      { refusals: 2, windowMs: 10_000, lockoutMs: 60_000, persistence: store },
      () => now,
    );
    expect(second.lockedUntil('token:1')).toBe(60_000);
    expect(second.lockedUntil('junk')).toBeUndefined();
    expect(second.lockedUntil('old')).toBeUndefined();
  });
});

describe('SupervisorGuard per client', () => {
  const pinHash = hashPin('1234');

  it('locks out the client that tried three wrong PINs; another client still gets in with the right PIN', () => {
    const now = 0;
    const guard = new SupervisorGuard({ pinHash }, () => now);
    for (let i = 0; i < 3; i++) expect(guard.verify('0000', 'refund', 'token:0').ok).toBe(false);
    expect(guard.verify('1234', 'refund', 'token:0')).toMatchObject({ ok: false, reason: 'locked-out' });
    expect(guard.verify('1234', 'refund', 'token:1')).toMatchObject({ ok: true });
    expect(guard.lockedOutUntil('token:0')).toBe(15 * 60_000);
    expect(guard.lockedOutUntil('token:1')).toBeUndefined();
  });

  it('keeps the PIN lockout across a restart', () => {
    let now = 0;
    const store = memory();
    const first = new SupervisorGuard({ pinHash, persistence: store }, () => now);
    for (let i = 0; i < 3; i++) first.verify('0000', 'void', 'console');
    now = 60_000;
    const second = new SupervisorGuard({ pinHash, persistence: store }, () => now);
    expect(second.verify('1234', 'void', 'console')).toMatchObject({ ok: false, reason: 'locked-out' });
    now = 15 * 60_000;
    expect(second.verify('1234', 'void', 'console')).toMatchObject({ ok: true });
    expect(store.saved).toEqual({});
  });
});
