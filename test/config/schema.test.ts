import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configSchema, packageRoot, parseHostAddress } from '../../src/config/index.js';

describe('parseHostAddress', () => {
  it.each([
    ['127.0.0.1:8583', '127.0.0.1', 8583],
    ['acquirer.example.net:443', 'acquirer.example.net', 443],
    ['localhost:0', 'localhost', 0],
    ['[::1]:8583', '::1', 8583],
    ['[fe80::1%eth0]:1', 'fe80::1%eth0', 1],
  ])('parses %s', (address, host, port) => {
    expect(parseHostAddress(address)).toEqual({ host, port });
  });

  it.each(['nocolon', ':8583', 'host:', 'host:99999', 'host:80x', '::1:8583', '[nothex]:80', 'a b:80', 'h:-1'])(
    'refuses %s',
    (address) => {
      expect(() => parseHostAddress(address)).toThrow(/host:port|port must be/);
    },
  );
});

describe('configSchema', () => {
  const defaults = JSON.parse(readFileSync(join(packageRoot(), 'config', 'default.json'), 'utf8')) as Record<
    string,
    unknown
  >;

  it('accepts default.json as plain JSON', () => {
    expect(configSchema.safeParse(defaults).success).toBe(true);
  });

  it('accepts USB ids as integers or hex strings', () => {
    const cfg = structuredClone(defaults) as { hal: { cardReader: unknown } };
    cfg.hal.cardReader = { driver: 'hid', hid: { vendorId: 2049, productId: '0x00ff' } };
    const r = configSchema.parse(cfg);
    expect(r.hal.cardReader.hid).toEqual({ vendorId: 2049, productId: 255 });
  });

  it('refuses every key left out of default.json', () => {
    for (const key of Object.keys(defaults)) {
      const cfg = { ...defaults };
      delete cfg[key];
      expect(configSchema.safeParse(cfg).success, key).toBe(false);
    }
  });
});
