import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CardVault, VaultError, type VaultCard, type VaultErrorCode } from '../../src/durability/card-vault.js';

const PAN = '4111111111111111';
const CARD: VaultCard = { pan: PAN, expiry: '2812', entryMode: 'chip', serviceCode: '201' };

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'card-vault-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function keyFile(name = 'saf.key', content: Buffer | string = Buffer.alloc(32, 7), mode = 0o600): string {
  const p = join(dir, name);
  writeFileSync(p, content, { mode });
  chmodSync(p, mode);
  return p;
}

function vaultError(fn: () => unknown, code: VaultErrorCode): VaultError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(VaultError);
    expect((err as VaultError).code, (err as Error).message).toBe(code);
    expect((err as Error).message).not.toContain('\n');
    return err as VaultError;
  }
  throw new Error(`expected VaultError ${code}`);
}

describe('sealing', () => {
  it('round-trips a card bound to its transaction reference', () => {
    const vault = CardVault.open(keyFile());
    const blob = vault.seal(CARD, 'txn-1');
    expect(vault.open(blob, 'txn-1')).toEqual(CARD);
    const plain: VaultCard = { pan: '378282246310005', expiry: '2701', entryMode: 'contactless' };
    expect(vault.open(vault.seal(plain, 'txn-2'), 'txn-2')).toEqual(plain);
  });

  it('lays out version, IV, ciphertext and tag, with a fresh IV each time', () => {
    const vault = CardVault.open(keyFile());
    const a = vault.seal(CARD, 'txn-1');
    const b = vault.seal(CARD, 'txn-1');
    expect(a[0]).toBe(1);
    expect(a.length).toBe(1 + 12 + JSON.stringify(CARD).length + 16);
    expect(a.subarray(1, 13).equals(b.subarray(1, 13))).toBe(false);
    expect(a.equals(b)).toBe(false);
  });

  it('never holds the card number in clear', () => {
    const vault = CardVault.open(keyFile());
    for (let i = 0; i < 50; i++) {
      const blob = vault.seal(CARD, `txn-${i}`);
      for (const encoding of ['latin1', 'hex', 'base64'] as const) expect(blob.toString(encoding)).not.toContain(PAN);
      expect(blob.toString('latin1')).not.toContain(PAN.slice(0, 6));
    }
  });

  it.each([
    ['wrong associated data', (blob: Buffer) => blob, 'txn-2'],
    ['a flipped ciphertext byte', (blob: Buffer) => flip(blob, 20), 'txn-1'],
    ['a flipped IV byte', (blob: Buffer) => flip(blob, 3), 'txn-1'],
    ['a flipped tag byte', (blob: Buffer) => flip(blob, blob.length - 1), 'txn-1'],
    ['another version byte', (blob: Buffer) => flip(blob, 0), 'txn-1'],
    ['a truncated blob', (blob: Buffer) => blob.subarray(0, 20), 'txn-1'],
  ])('refuses %s with decrypt-failed', (_what, alter, ad) => {
    const vault = CardVault.open(keyFile());
    const blob = alter(vault.seal(CARD, 'txn-1'));
    const err = vaultError(() => vault.open(blob, ad), 'decrypt-failed');
    expect(err.message).not.toContain(PAN);
  });

  it('refuses a blob sealed under another key', () => {
    const a = CardVault.open(keyFile('a.key', Buffer.alloc(32, 1)));
    const b = CardVault.open(keyFile('b.key', Buffer.alloc(32, 2)));
    vaultError(() => b.open(a.seal(CARD, 'txn-1'), 'txn-1'), 'decrypt-failed');
  });

  it.each([
    ['track 2', { ...CARD, track2: `${PAN}=28122011234567890` }],
    ['a CVV', { ...CARD, cvv: '123' }],
    ['a PIN block', { ...CARD, pinBlock: '0412AC89ABCDEF67' }],
    ['a field set to undefined', { ...CARD, cvv2: undefined }],
  ])('refuses a card carrying %s', (_what, card) => {
    const vault = CardVault.open(keyFile());
    const err = vaultError(() => vault.seal(card as VaultCard, 'txn-1'), 'refused-data');
    expect(err.message).not.toContain(PAN);
    expect(err.message).not.toContain('123');
  });

  it.each([
    ['a PAN with track separators', { ...CARD, pan: `${PAN}=2812` }],
    ['a short PAN', { ...CARD, pan: '4111' }],
    ['an expiry that is not YYMM', { ...CARD, expiry: '12/28' }],
    ['a bad service code', { ...CARD, serviceCode: '2011' }],
    ['not an object', null],
  ])('refuses %s', (_what, card) => {
    const vault = CardVault.open(keyFile());
    vaultError(() => vault.seal(card as VaultCard, 'txn-1'), 'refused-data');
  });

  it('does not show the key when the vault is printed', () => {
    const key = Buffer.alloc(32, 0xab);
    const vault = CardVault.open(keyFile('k.key', key));
    expect(JSON.stringify(vault)).not.toContain('abab');
    expect(Object.values(vault).some((v) => Buffer.isBuffer(v))).toBe(false);
  });
});

describe('the key file', () => {
  it('accepts 64 hex characters with or without a newline', () => {
    const raw = Buffer.alloc(32, 0x5a);
    const fromRaw = CardVault.open(keyFile('raw.key', raw));
    const fromHex = CardVault.open(keyFile('hex.key', `${raw.toString('hex')}\n`));
    const fromBare = CardVault.open(keyFile('bare.key', raw.toString('hex').toUpperCase()));
    const blob = fromRaw.seal(CARD, 'txn-1');
    expect(fromHex.open(blob, 'txn-1')).toEqual(CARD);
    expect(fromBare.open(blob, 'txn-1')).toEqual(CARD);
  });

  it('refuses a missing key with how to make one', () => {
    const p = join(dir, 'none', 'saf.key');
    const err = vaultError(() => CardVault.open(p), 'key-missing');
    expect(err.message).toBe(
      `store-and-forward key file ${p} does not exist: create it with (umask 077; head -c 32 /dev/urandom > ${p})`,
    );
  });

  it('creates a missing key when asked, mode 0600 in a 0700 directory, and reuses it afterwards', () => {
    const p = join(dir, 'keys', 'nested', 'saf.key');
    const vault = CardVault.open(p, { createIfMissing: true });
    expect(statSync(p).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'keys', 'nested')).mode & 0o777).toBe(0o700);
    const key = readFileSync(p);
    expect(key.length).toBe(32);
    const blob = vault.seal(CARD, 'txn-1');
    // A second open reads the same key instead of making a new one.
    const again = CardVault.open(p, { createIfMissing: true });
    expect(readFileSync(p).equals(key)).toBe(true);
    expect(again.open(blob, 'txn-1')).toEqual(CARD);
  });

  it('still checks an existing key when createIfMissing is set', () => {
    const p = keyFile('open.key', Buffer.alloc(32, 3), 0o644);
    vaultError(() => CardVault.open(p, { createIfMissing: true }), 'key-permissions');
    expect(readFileSync(p).equals(Buffer.alloc(32, 3))).toBe(true);
  });

  it.each([
    [0o644, 'readable by group and others (mode 0644)'],
    [0o604, 'readable by others (mode 0604)'],
    [0o620, 'writable by group (mode 0620)'],
    [0o640, 'readable by group (mode 0640)'],
    [0o666, 'readable and writable by group and others (mode 0666)'],
  ])('refuses a key reachable by others (mode %o)', (mode, phrase) => {
    const p = keyFile('loose.key', Buffer.alloc(32, 1), mode);
    const err = vaultError(() => CardVault.open(p), 'key-permissions');
    expect(err.message).toBe(`store-and-forward key file ${p} is ${phrase}: chmod 600 it`);
  });

  it('accepts a read-only key (mode 0400)', () => {
    const p = keyFile('ro.key', Buffer.alloc(32, 1), 0o400);
    expect(() => CardVault.open(p)).not.toThrow();
  });

  it.each([
    ['31 bytes', Buffer.alloc(31, 1)],
    ['33 bytes', Buffer.alloc(33, 1)],
    ['an empty file', Buffer.alloc(0)],
    ['63 hex characters', 'a'.repeat(63)],
    ['64 characters that are not hex', 'g'.repeat(64)],
    ['hex followed by more text', `${'a'.repeat(64)}\nmore`],
  ])('refuses a key of %s', (_what, content) => {
    const p = keyFile('bad.key', content);
    const err = vaultError(() => CardVault.open(p), 'key-invalid');
    expect(err.message).toMatch(/expected 32 raw bytes or 64 hex characters$/);
  });

  it('refuses a directory as the key file', () => {
    vaultError(() => CardVault.open(dir), 'key-invalid');
  });
});

function flip(blob: Buffer, at: number): Buffer {
  const copy = Buffer.from(blob);
  copy[at] = (copy[at] ?? 0) ^ 0x01;
  return copy;
}
