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

describe('configSchema: mqtt telemetry keys', () => {
  const defaults = JSON.parse(readFileSync(join(packageRoot(), 'config', 'default.json'), 'utf8')) as {
    mqtt: Record<string, unknown>;
  };
  const withMqtt = (patch: Record<string, unknown>) => ({ ...defaults, mqtt: { ...defaults.mqtt, ...patch } });
  const issues = (patch: Record<string, unknown>) => {
    const r = configSchema.safeParse(withMqtt(patch));
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('ships the issue defaults', () => {
    const mqtt = configSchema.parse(defaults).mqtt;
    expect(mqtt.commands).toEqual(['run-self-test', 'send-health', 'rebirth']);
    expect(mqtt.maxCommandBytes).toBe(4096);
    expect(mqtt.outbox).toEqual({ maxMessages: 10000 });
    expect(mqtt.reconnect.maxDelayMs).toBeGreaterThanOrEqual(mqtt.reconnect.initialDelayMs);
  });

  it('takes "unlock" only when listed, and nothing outside the known commands', () => {
    expect(issues({ commands: ['unlock', 'rebirth'] })).toEqual([]);
    expect(issues({ commands: [] })).toEqual([]);
    expect(issues({ commands: ['reboot'] })).toEqual([
      expect.stringMatching(/^mqtt\.commands\.0: one of "run-self-test", "send-health", "rebirth", "unlock"/),
    ]);
    expect(issues({ commands: ['rebirth', 'rebirth'] })).toEqual(['mqtt.commands: a list without repeated names']);
  });

  it('bounds the outbox, the command size and the reconnect delays', () => {
    expect(issues({ outbox: { maxMessages: 5 } })).toEqual([
      expect.stringMatching(/^mqtt\.outbox\.maxMessages: an integer from 10 to/),
    ]);
    expect(issues({ outbox: {} })).toHaveLength(1);
    expect(issues({ maxCommandBytes: 0 })).toEqual([
      expect.stringMatching(/^mqtt\.maxCommandBytes: an integer from 16 to/),
    ]);
    expect(issues({ reconnect: { initialDelayMs: 5000, maxDelayMs: 1000 } })).toEqual([
      'mqtt.reconnect.maxDelayMs: an integer >= mqtt.reconnect.initialDelayMs (5000)',
    ]);
  });

  it('allows port 0 only for the embedded broker', () => {
    expect(issues({ url: 'mqtt://127.0.0.1:0', embeddedBroker: true })).toEqual([]);
    expect(issues({ url: 'mqtt://127.0.0.1:0', embeddedBroker: false })).toEqual([
      'mqtt.url: a non-zero port unless mqtt.embeddedBroker is true',
    ]);
  });
});
