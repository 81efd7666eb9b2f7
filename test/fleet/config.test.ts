/** The fleet consumer's own config: defaults, the annotated example, and one clear line per bad key. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FleetConfigError, formatFleetConfigError, loadFleetConfig, PASSWORD_ENV } from '../../src/fleet/config.js';
import { brokerOptionsFromConfig } from '../../src/fleet/consumer.js';
import { repoRoot } from '../support/cli.js';

function file(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'pos-fleet-config-')), 'fleet.json');
  writeFileSync(path, text);
  return path;
}

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(FleetConfigError);
    return formatFleetConfigError(err as FleetConfigError)
      .trimEnd()
      .split('\n');
  }
  throw new Error('expected a FleetConfigError');
}

describe('fleet config', () => {
  it('runs on built-in defaults without a file', () => {
    const c = loadFleetConfig({ env: {} });
    expect(c).toMatchObject({
      mqtt: { url: 'mqtt://127.0.0.1:1883', protocolVersion: 4, clientId: null },
      fleet: null,
      share: null,
      healthIntervalMs: 60_000,
      missedHealthFactor: 3,
      anomalyWindowMinutes: 15,
    });
    expect(c.alerts.rules.map((r) => r.type)).toEqual(['event-burst', 'unreachable', 'saf-age', 'pending-reversals']);
  });

  it('loads the annotated example, comments and all', () => {
    const c = loadFleetConfig({ path: join(repoRoot, 'config', 'fleet.example.json'), env: {} });
    expect(c.mqtt).toMatchObject({ url: 'mqtts://telemetry.example.net:8883', username: 'fleet-operator' });
    expect(c.healthIntervalByTerminal).toEqual({ 'shop-paris-01/TERM0042': 30_000 });
    expect(c.alerts.rules[0]).toEqual({
      type: 'event-burst',
      name: 'host timeouts',
      code: 'E101',
      moreThan: 5,
      withinMinutes: 10,
    });
  });

  it('lets --url/--fleet/--share and the password variable override the file', () => {
    const path = file('{ "mqtt": { "url": "mqtt://a:1883" }, "fleet": "x" }');
    const c = loadFleetConfig({
      path,
      env: { [PASSWORD_ENV]: 's3cret' },
      overrides: { url: 'mqtts://b:8883', fleet: 'y', share: 'ops' },
    });
    expect([c.mqtt.url, c.mqtt.password, c.fleet, c.share]).toEqual(['mqtts://b:8883', 's3cret', 'y', 'ops']);
  });

  it('reports every bad key on its own line', () => {
    const path = file(`{
      // a comment is fine
      "mqtt": { "url": "http://broker", "protocolVersion": 3, "tls": { "certFile": "/c.pem" }, "colour": "red" },
      "missedHealthFactor": 0,
      "healthIntervalByTerminal": { "T1": 10 },
      "alerts": {
        "rules": [
          { "type": "event-burst", "code": "E101", "moreThan": -1, "withinMinutes": 10 },
          { "type": "offline-for", "minutes": 3 },
          { "type": "saf-age", "aboveHours": 2, "code": "E101" }
        ]
      },
      "fleet": "a/b",
    }`);
    expect(problems(() => loadFleetConfig({ path, env: {} }))).toEqual([
      'config error: mqtt.url: expected an mqtt://, mqtts://, ws:// or wss:// URL, found "http://broker"',
      'config error: mqtt.protocolVersion: expected 4 (MQTT 3.1.1) or 5 (MQTT 5), found 3',
      'config error: mqtt.tls.keyFile: expected a file path, since certFile is set (set both or neither), found null',
      'config error: mqtt.colour: expected one of the keys url, clientId, username, password, protocolVersion, connectTimeoutSeconds, tls, found unknown key',
      'config error: fleet: expected a topic level (no "/", "+" or "#") or null, found "a/b"',
      'config error: missedHealthFactor: expected a number of health intervals above 0 (at most 1000), found 0',
      'config error: healthIntervalByTerminal.T1: expected an integer >= 1000, found 10',
      'config error: alerts.rules[0].moreThan: expected an integer from 0 to 1000000, found -1',
      'config error: alerts.rules[1].type: expected a rule whose "type" is one of "event-burst", "unreachable", "saf-age", "pending-reversals", found "offline-for"',
      'config error: alerts.rules[2].code: expected one of the keys type, name, aboveHours, found unknown key',
    ]);
  });

  it('names the source of an overridden value, and points at syntax errors by line and column', () => {
    expect(problems(() => loadFleetConfig({ env: {}, overrides: { url: 'broker:1883' } }))).toEqual([
      'config error: mqtt.url: expected an mqtt://, mqtts://, ws:// or wss:// URL, found "broker:1883" (from --url)',
    ]);
    const path = file('{\n  "fleet": "a"\n  "share": "b"\n}');
    expect(problems(() => loadFleetConfig({ path, env: {} }))).toEqual([
      `config error: ${path}:3:3: expected "," between entries, found "\\"share\\""`,
    ]);
    expect(problems(() => loadFleetConfig({ path: '/nonexistent/fleet.json', env: {} }))).toEqual([
      'config error: /nonexistent/fleet.json: expected a readable config file, found no such file',
    ]);
    expect(problems(() => loadFleetConfig({ path: file('{ "fleet": "a", "fleet": "b" }'), env: {} }))[0]).toMatch(
      /duplicate key "fleet"/,
    );
    // Nesting deep enough to overflow a recursive reader is a config error, not a crash.
    const deep = file(`{ "x": ${'['.repeat(10_000)}${']'.repeat(10_000)} }`);
    expect(problems(() => loadFleetConfig({ path: deep, env: {} }))).toEqual([
      `config error: ${deep}:1:71: expected at most 64 levels of nesting, found deeper nesting`,
    ]);
  });
});

describe('fleet config: session and command key', () => {
  it('defaults to a day of session expiry, presence on, no key; a key file signs, a short key is refused', () => {
    expect(loadFleetConfig({ env: {} }).session).toEqual({
      expirySeconds: 86_400,
      presence: true,
      commandKeyFile: null,
    });
    expect(problems(() => loadFleetConfig({ path: file('{"session": {"expirySeconds": -1}}'), env: {} }))).toEqual([
      'config error: session.expirySeconds: expected a number of seconds from 0 to 4294967295 (MQTT 5 session expiry), found -1',
    ]);
    const keyFile = file('0123456789abcdef0123456789abcdef\n');
    const config = loadFleetConfig({ path: file(JSON.stringify({ session: { commandKeyFile: keyFile } })), env: {} });
    expect(brokerOptionsFromConfig(config).commandKey?.toString()).toBe('0123456789abcdef0123456789abcdef');
    const short = loadFleetConfig({
      path: file(JSON.stringify({ session: { commandKeyFile: file('short') } })),
      env: {},
    });
    expect(() => brokerOptionsFromConfig(short)).toThrow(/at least 32 characters/);
  });
});
