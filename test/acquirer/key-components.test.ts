import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tdesCheckValue, xor } from '../../hal/crypto/index.js';
import { combineComponents, KeyLoadError } from '../../src/acquirer/key-components.js';
import { openKeyStore } from '../../src/app/terminal-keys.js';
import { CardVault, VaultError } from '../../src/durability/card-vault.js';

const A = '0123456789ABCDEFFEDCBA9876543210';
const B = '1111111111111111222222222222222F';
const component = (hex: string) => ({ hex, checkValue: tdesCheckValue(Buffer.from(hex, 'hex')) });

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('loading a master key from components', () => {
  it('XORs two or three confirmed components; the check value is that of the result', () => {
    // The published check value of 0123456789ABCDEFFEDCBA9876543210 is 08D7B4.
    expect(component(A).checkValue).toBe('08D7B4');
    const { key, checkValue } = combineComponents([component(A), component(B)]);
    expect(key).toEqual(xor(Buffer.from(A, 'hex'), Buffer.from(B, 'hex')));
    expect(checkValue).toBe(tdesCheckValue(key));
    const C = 'A5A5A5A5A5A5A5A55A5A5A5A5A5A5A5A';
    expect(combineComponents([component(A), component(B), component(C)]).key).toEqual(xor(key, Buffer.from(C, 'hex')));
  });

  it('refuses a component whose check value is not the one entered, naming it but not its value', () => {
    const err = (() => {
      try {
        combineComponents([component(A), { hex: B, checkValue: '000000' }]);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(KeyLoadError);
    expect((err as KeyLoadError).code).toBe('component-check-value');
    expect((err as Error).message).toMatch(/component 2/);
    expect((err as Error).message).not.toContain(B);
  });

  it('refuses one or four components, malformed ones and a key that is single DES', () => {
    expect(() => combineComponents([component(A)])).toThrow(/2 or 3/);
    expect(() => combineComponents([component(A), { hex: 'XYZ', checkValue: '000000' }])).toThrow(/32 hex/);
    const half = '0123456789ABCDEF0123456789ABCDEF';
    const other = '00000000000000000000000000000000';
    expect(() => combineComponents([component(half), component(other)])).toThrow(KeyLoadError);
  });
});

describe('keys sealed by the card vault', () => {
  it('a sealed key opens under its own name only, and never as a card', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pos-keys-'));
    dirs.push(dir);
    const vault = CardVault.open(join(dir, 'vault.key'), { createIfMissing: true });
    const key = Buffer.from(A, 'hex');
    const blob = vault.sealKey(key, 'tmk');
    expect(blob.includes(key)).toBe(false);
    expect(vault.openKey(blob, 'tmk')).toEqual(key);
    expect(() => vault.openKey(blob, 'mac')).toThrow(VaultError);
    expect(() => vault.open(blob, 'tmk')).toThrow(VaultError);
  });

  it('the key store keeps the master key sealed with its check value; loading one drops the old session key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pos-keys-'));
    dirs.push(dir);
    const config = { dataDir: dir, offline: { keyFile: 'keys/saf.key', createKeyIfMissing: true } };
    const store = openKeyStore(config);
    try {
      const key = Buffer.from(A, 'hex');
      expect(store.keys.loadMaster(key, 'loaded')).toBe('08D7B4');
      store.keys.saveSession({ key: Buffer.from(B, 'hex'), checkValue: tdesCheckValue(Buffer.from(B, 'hex')) });
      expect(store.keys.masterKey()).toEqual(key);
      expect(store.keys.status().tmk).toMatchObject({ checkValue: '08D7B4', origin: 'loaded' });
      expect(store.keys.status().mac?.origin).toBe('sign-on');
      store.keys.loadMaster(Buffer.from(B, 'hex'), 'loaded');
      expect(store.keys.sessionKey()).toBeUndefined();
    } finally {
      store.close();
    }
    // Another vault key cannot open it: the terminal says so rather than use garbage.
    rmSync(join(dir, 'keys'), { recursive: true, force: true });
    const reopened = openKeyStore(config);
    try {
      expect(reopened.keys.masterKey()).toBeUndefined();
      expect(reopened.keys.whyNoMaster()).toMatch(/cannot be opened/);
    } finally {
      reopened.close();
    }
  });
});
