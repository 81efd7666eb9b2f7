/** ecr.nexo: its defaults, the simulator overlay, POS_NEXO_PORT, and the start refused beyond loopback without keys. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, packageRoot } from '../../src/config/index.js';
import { nexoServerOptions } from '../../src/nexo/index.js';

const dir = mkdtempSync(join(tmpdir(), 'nexo-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function overlay(nexo: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  const path = join(dir, `overlay-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, JSON.stringify({ ...extra, ecr: { nexo } }));
  return path;
}

function problems(path: string): string[] {
  try {
    loadConfig({ path, env: {} });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).message.split('\n');
  }
  throw new Error('expected a ConfigError');
}

const key = { keyIdentifier: 'REGISTER1', keyVersion: 1, passphrase: 'a long shared passphrase' };

describe('ecr.nexo configuration', () => {
  it('is off by default, on loopback port 8443, sealed only, with the terminal id as POIID', () => {
    const { config } = loadConfig({ env: {} });
    expect(config.ecr.nexo).toEqual({
      enabled: false,
      host: '127.0.0.1',
      port: 8443,
      poiId: config.terminal.id,
      certFile: null,
      keyFile: null,
      securityKeys: [],
      allowPlain: false,
      maxConnections: 64,
      idleTimeoutMs: 5_000,
      requestTimeoutMs: 15_000,
      maxBodyBytes: 65_536,
    });
    expect(loadConfig({ path: overlay({ poiId: '' }), env: {} }).config.ecr.nexo.poiId).toBe(config.terminal.id);
    expect(loadConfig({ path: overlay({ poiId: 'POI-7' }), env: {} }).config.ecr.nexo.poiId).toBe('POI-7');
  });

  it('is on in the simulator overlay, plain allowed on loopback; off and sealed in the hardware example', () => {
    const sim = loadConfig({ path: join(packageRoot(), 'config', 'sim.json'), env: {} }).config.ecr.nexo;
    expect(sim).toMatchObject({ enabled: true, host: '127.0.0.1', port: 8443, allowPlain: true });
    const hw = loadConfig({ path: join(packageRoot(), 'config', 'terminal.example.json'), env: {} }).config.ecr.nexo;
    expect(hw).toMatchObject({ enabled: false, allowPlain: false });
  });

  it('takes its port from POS_NEXO_PORT and reports a bad one', () => {
    const { config, sources } = loadConfig({ env: { POS_NEXO_PORT: '9443' } });
    expect(config.ecr.nexo.port).toBe(9443);
    expect(sources).toContain('POS_NEXO_PORT');
    expect(() => loadConfig({ env: { POS_NEXO_PORT: 'abc' } })).toThrow(
      'ecr.nexo.port: expected an integer from 0 to 65535, found "abc" (from POS_NEXO_PORT)',
    );
  });

  it('refuses the start beyond loopback with plain allowed or without a security key', () => {
    expect(problems(overlay({ enabled: true, host: '0.0.0.0', allowPlain: true }))).toEqual([
      'ecr.nexo.allowPlain: expected false when ecr.nexo.host (0.0.0.0) is beyond loopback, found true',
      'ecr.nexo.securityKeys: expected at least one key when ecr.nexo.host (0.0.0.0) is beyond loopback, found []',
    ]);
    expect(problems(overlay({ enabled: true, host: '192.168.1.20', securityKeys: [] }))).toHaveLength(1);
    const ok = loadConfig({ path: overlay({ enabled: true, host: '0.0.0.0', securityKeys: [key] }), env: {} });
    expect(ok.config.ecr.nexo.securityKeys).toEqual([key]);
    // Disabled, or on loopback, nothing is refused.
    expect(() => loadConfig({ path: overlay({ host: '0.0.0.0', allowPlain: true }), env: {} })).not.toThrow();
    expect(() =>
      loadConfig({ path: overlay({ enabled: true, host: '::1', allowPlain: true }), env: {} }),
    ).not.toThrow();
  });

  it('refuses half a certificate pair, a repeated key and a short passphrase', () => {
    expect(problems(overlay({ certFile: 'nexo.crt' }))).toEqual([
      'ecr.nexo.keyFile: expected a key file path when certFile is set, found null',
    ]);
    expect(problems(overlay({ securityKeys: [key, key] }))[0]).toMatch(
      /^ecr\.nexo\.securityKeys: expected a list without/,
    );
    expect(problems(overlay({ securityKeys: [{ ...key, passphrase: 'short' }] }))[0]).toMatch(
      /^ecr\.nexo\.securityKeys\[0\]\.passphrase: expected a passphrase of 8 to 256 characters/,
    );
  });
});

describe('nexo server options from the configuration', () => {
  it('takes host, port, keys, plain and the certificate from ecr.nexo, the POI id as certificate subject', () => {
    const { config } = loadConfig({ path: overlay({ enabled: true, securityKeys: [key], poiId: 'POI-9' }), env: {} });
    const handler = async () => ({ SaleToPOIResponse: {} });
    expect(nexoServerOptions(config, handler)).toMatchObject({
      host: '127.0.0.1',
      port: 8443,
      allowPlain: false,
      securityKeys: [key],
      tls: { dataDir: config.dataDir, certFile: null, keyFile: null, commonName: 'POI-9' },
      handler,
    });
  });
});
