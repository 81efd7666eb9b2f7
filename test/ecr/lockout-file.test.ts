/**
 * The lockouts file and the client lockout it keeps: list and clear (one client or all), written atomically; a damaged
 * or unreadable file is a typed error, the terminal runs on, and nobody it may have named gets back in for free.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LockoutFile, LockoutFileDamagedError } from '../../src/ecr/index.js';
import { ClientLockout } from '../../src/risk/client-lockout.js';

const OPTIONS = { refusals: 3, windowMs: 60_000, lockoutMs: 600_000 };
const T0 = Date.UTC(2026, 0, 1, 12);

function fileIn(): string {
  return join(mkdtempSync(join(tmpdir(), 'pos-lockouts-')), 'lockouts.json');
}

function lockoutOn(file: LockoutFile, now: () => number): ClientLockout {
  return new ClientLockout({ ...OPTIONS, persistence: file.section('clients') }, now);
}

function refuse(lockout: ClientLockout, client: string, times: number): void {
  for (let i = 0; i < times; i++) lockout.refused(client);
}

describe('client lockouts listed and cleared', () => {
  it('lists the live locks, clears one client or all, and persists each change', () => {
    const path = fileIn();
    let now = T0;
    const lockout = lockoutOn(new LockoutFile(path, { now: () => now }), () => now);
    refuse(lockout, 'token:1', 3);
    now += 1_000;
    refuse(lockout, 'tcp:10.0.0.7', 3);
    expect(lockout.list()).toEqual([
      { client: 'token:1', until: T0 + 600_000 },
      { client: 'tcp:10.0.0.7', until: T0 + 601_000 },
    ]);
    lockout.clear('token:1');
    expect(lockout.lockedUntil('token:1')).toBeUndefined();
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ clients: { 'tcp:10.0.0.7': T0 + 601_000 } });
    // A restart reads what was written.
    const again = lockoutOn(new LockoutFile(path, { now: () => now }), () => now);
    expect(again.list().map((l) => l.client)).toEqual(['tcp:10.0.0.7']);
    again.clear();
    expect(again.list()).toEqual([]);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ clients: {} });
    // Cleared means the refusals counted too: two more do not lock.
    refuse(again, 'tcp:10.0.0.7', 2);
    expect(again.lockedUntil('tcp:10.0.0.7')).toBeUndefined();
  });
});

describe('a damaged lockouts file', () => {
  it('is a typed error; the legible locks are held a full lockout from now, the file kept aside and rewritten', () => {
    const path = fileIn();
    const sound = JSON.stringify({ supervisor: { 'tcp:10.0.0.9': T0 + 5_000 }, clients: { 'token:1': T0 + 9_000 } });
    // Cut inside the last number: not JSON any more.
    writeFileSync(path, sound.slice(0, sound.length - 8));
    const now = T0 + 1_000;
    const file = new LockoutFile(path, { now: () => now, damagedHoldMs: 600_000 });
    expect(file.damage).toBeInstanceOf(LockoutFileDamagedError);
    expect(file.damage).toMatchObject({ reason: 'not-json', salvaged: 2 });
    expect(file.section('clients').load()).toEqual({ 'token:1': now + 600_000 });
    expect(file.section('supervisor').load()).toEqual({ 'tcp:10.0.0.9': now + 600_000 });
    expect(existsSync(`${path}.damaged`)).toBe(true);
    // The rewritten file holds the salvaged locks and the damage's mark: a second restart is as careful.
    const reread = new LockoutFile(path, { now: () => now });
    expect(reread.damage).toBeUndefined();
    expect(reread.section('clients').damaged()).toBe(true);
    expect(lockoutOn(reread, () => now).lockedUntil('token:1')).toBe(now + 600_000);
  });

  it('locks any client at its first refusal while the damage may hide locks; a full clear ends that', () => {
    const path = fileIn();
    writeFileSync(path, '\u0000\u0000garbage');
    let now = T0;
    const file = new LockoutFile(path, { now: () => now, damagedHoldMs: 600_000 });
    expect(file.damage).toMatchObject({ reason: 'not-json', salvaged: 0 });
    const lockout = lockoutOn(file, () => now);
    // Nobody is locked for having done nothing: registers with good tokens keep selling.
    expect(lockout.lockedUntil('token:0')).toBeUndefined();
    expect(lockout.refused('tcp:10.0.0.7')).toMatchObject({ locked: true });
    lockout.clear();
    const after = lockoutOn(new LockoutFile(path, { now: () => now }), () => now);
    expect(after.refused('tcp:10.0.0.8')).toEqual({ locked: false });
    // Without a clear the careful spell ends on its own after the hold.
    writeFileSync(path, '[1, 2');
    const aged = lockoutOn(new LockoutFile(path, { now: () => now, damagedHoldMs: 600_000 }), () => now);
    now += 600_001;
    expect(aged.refused('tcp:10.0.0.9')).toEqual({ locked: false });
  });

  it('reads a file of the wrong shape as damaged, not as no lockouts', () => {
    const path = fileIn();
    writeFileSync(path, JSON.stringify({ clients: { 'token:1': 'soon' }, extra: 3 }));
    const file = new LockoutFile(path, { now: () => T0 });
    expect(file.damage).toMatchObject({ reason: 'wrong-shape' });
    expect(file.section('clients').damaged()).toBe(true);
  });

  it('reports an unreadable file as damaged and starts', () => {
    // A directory where the file should be: reading fails (EISDIR) as a bad sector or a wrong permission would.
    const path = fileIn();
    mkdirSync(path);
    const file = new LockoutFile(path, { now: () => T0 });
    expect(file.damage).toMatchObject({ reason: 'unreadable' });
    // Saving fails too; the lock holds in memory.
    expect(lockoutOn(file, () => T0).refused('token:1')).toMatchObject({ locked: true });
  });

  it('is no error when missing (the first start)', () => {
    const file = new LockoutFile(fileIn());
    expect(file.damage).toBeUndefined();
    expect(file.section('clients').damaged()).toBe(false);
  });
});
