/** pos-fleet as a separate process (compiled, as installed): tail --json, alerts, watch, command, and its exits. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { wire } from '../../src/telemetry/wire.js';
import { startCli, type RunningCli } from '../support/cli.js';
import {
  encode,
  FLEET,
  fakeTerminal,
  freePort,
  rawClient,
  startAedes,
  startMosquitto,
  TERMINAL,
  topic,
  until,
  type FakeTerminal,
  type TestBroker,
} from './support.js';

let mosquitto: TestBroker | undefined;
let aedes: TestBroker | undefined;
const running: RunningCli[] = [];
const terminals: { url: string; t: FakeTerminal }[] = [];

beforeAll(async () => {
  mosquitto = await startMosquitto();
  aedes = await startAedes();
});

afterEach(async () => {
  for (const cli of running.splice(0)) {
    if (cli.child.exitCode === null) cli.child.kill('SIGTERM');
    await cli.exited;
  }
  for (const { url, t } of terminals.splice(0)) {
    await t.end();
    const c = await rawClient(url);
    await c.publishAsync(topic('state'), Buffer.alloc(0), { qos: 1, retain: true });
    await c.endAsync();
  }
});

afterAll(async () => {
  await mosquitto?.stop();
  await aedes?.stop();
});

function cli(args: string[], env: NodeJS.ProcessEnv = {}): RunningCli {
  const c = startCli('pos-fleet', args, env);
  running.push(c);
  return c;
}

async function subscribed(c: RunningCli): Promise<void> {
  await until(() => c.stderr().includes('subscribed to') || c.child.exitCode !== null, 'pos-fleet subscribed');
  expect(c.stderr()).toContain('subscribed to');
}

async function terminal(url: string): Promise<FakeTerminal> {
  const t = await fakeTerminal(url);
  terminals.push({ url, t });
  return t;
}

function configFile(json: object): string {
  const path = join(mkdtempSync(join(tmpdir(), 'pos-fleet-cli-')), 'fleet.json');
  writeFileSync(path, `// written by the test\n${JSON.stringify(json, null, 2)}\n`);
  return path;
}

const lines = (text: string) => text.split('\n').filter((l) => l !== '');

describe('pos-fleet tail --json', () => {
  it('prints one JSON line per decoded message, sends rejects to stderr, and keeps running', async () => {
    const url = mosquitto!.url;
    const tail = cli(['tail', '--json', '--url', url]);
    await subscribed(tail);
    expect(tail.stderr()).toContain(`subscribed to pos/v1/+/+/+ at ${url}`);
    const t = await terminal(url);
    await t.publish('birth', encode.birth({ seq: 1 }));
    await t.publish('health', Buffer.from([0x0a, 0xff, 0xff, 0xff]));
    await t.publish('health', encode.health({ seq: 2 }, { pendingReversals: 3 }));
    await t.publish('event', encode.event({ seq: 5 }));
    await until(() => lines(tail.stdout()).length === 3, 'three JSON lines');
    const out = lines(tail.stdout()).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(out.map((o) => [o['topic'], o['type'], o['sequence']])).toEqual([
      [topic('birth'), 'birth', 'first'],
      [topic('health'), 'health', 'in-order'],
      [topic('event'), 'event', 'gap'],
    ]);
    expect(out[0]).toMatchObject({
      fleet: FLEET,
      terminalId: TERMINAL,
      firmwareVersion: '1.4.2',
      bootReason: 'crash',
      retained: false,
    });
    expect(out[1]).toMatchObject({
      header: { seq: 2, bootId: 'boot-a' },
      pendingReversals: 3,
      state: 'ready',
      link: { hostUp: true },
    });
    expect(out[2]).toMatchObject({ code: 'E101', severity: 'error', gap: 2, maskedPan: '400000******0002' });
    expect(typeof out[2]?.['receivedAt']).toBe('string');
    expect(tail.stderr()).toMatch(
      /rejected bad-payload: health on pos\/v1\/shop-paris-01\/TERM0042\/health does not decode/,
    );
    expect(tail.child.exitCode).toBeNull();
    tail.child.kill('SIGTERM');
    expect(await tail.exited).toBe(0);
  });
});

describe('pos-fleet alerts and watch', () => {
  it('alerts prints only alert lines', async () => {
    const url = aedes!.url;
    const config = configFile({
      alerts: { rules: [{ type: 'event-burst', name: 'host timeouts', code: 'E101', moreThan: 1, withinMinutes: 10 }] },
    });
    const alerts = cli(['alerts', '--config', config, '--url', url]);
    await subscribed(alerts);
    const t = await terminal(url);
    await t.publish('health', encode.health({ seq: 1 }));
    await t.publish('event', encode.event({ seq: 2, sentAtMs: Date.now() }, { atMs: Date.now() }));
    await t.publish('event', encode.event({ seq: 3, sentAtMs: Date.now() }, { atMs: Date.now() }));
    await until(() => lines(alerts.stdout()).length === 1, 'one alert line');
    expect(lines(alerts.stdout())[0]).toMatch(
      /^\d{4}-\d\d-\d\dT[\d:.]+Z RAISED {2}shop-paris-01\/TERM0042 host timeouts: 2 E101 events within 10 min \(limit 1\)$/,
    );
  });

  it('watch redraws a plain table (no ANSI when piped) and shows the last will as OFFLINE', async () => {
    const url = mosquitto!.url;
    const watch = cli(['watch', '--url', url, '--interval', '0.2']);
    await subscribed(watch);
    const t = await terminal(url);
    await t.publish('state', encode.state({ seq: 1 }, true, 'connected'), { retain: true });
    await t.publish(
      'health',
      encode.health(
        { seq: 2 },
        { pendingReversals: 2, storeAndForward: { depth: 4, totalMinor: 100, oldestAgeMs: 3_600_000 } },
      ),
    );
    await until(() => /TERM0042\s+HEALTHY/.test(watch.stdout()), 'healthy row');
    const screen =
      watch
        .stdout()
        .split('\n\n')
        .filter((s) => s.includes('TERM0042 '))
        .at(-1) ?? '';
    expect(screen).toMatch(/TERMINAL\s+STATUS\s+SEEN\s+STATE\s+REV\s+SAF\s+LINK\s+ANOMALIES\s+GAPS\s+RESTARTS\s+WHY/);
    expect(screen).toMatch(
      /shop-paris-01\/TERM0042\s+HEALTHY\s+\d+s ago\s+ready\s+2\s+4\/60m\s+host up 42ms\s+-\s+0\s+0\s+-/,
    );
    t.vanish();
    await until(() => /TERM0042\s+OFFLINE.*connection lost/.test(watch.stdout()), 'offline row');
    expect(watch.stdout()).not.toContain('\x1b[');
  });
});

describe('pos-fleet command', () => {
  it('sends the command and prints the result; exit 0 when it ran, 1 when refused', async () => {
    const url = aedes!.url;
    const t = await terminal(url);
    await t.client.subscribeAsync(topic('cmd'), { qos: 1 });
    t.client.on('message', (_topic, payload) => {
      const cmd = wire.Command.decode(payload);
      const ok = cmd.name !== wire.CommandName.COMMAND_NAME_UNLOCK;
      void t.publish(
        'cmd-result',
        encode.commandResult(
          { seq: 1 },
          cmd.commandId,
          cmd.name,
          ok,
          ok ? 0 : wire.CommandError.COMMAND_ERROR_NOT_ALLOWED,
          ok ? 'health sent' : 'remote unlock is disabled',
        ),
      );
    });
    const ran = cli(['command', `${FLEET}/${TERMINAL}`, 'send-health', '--url', url]);
    expect(await ran.exited).toBe(0);
    expect(ran.stdout()).toBe(`${FLEET}/${TERMINAL} send-health: ok - health sent\n`);
    const refused = cli(['command', TERMINAL, 'unlock', '--fleet', FLEET, '--url', url, '--json']);
    expect(await refused.exited).toBe(1);
    expect(JSON.parse(refused.stdout())).toMatchObject({
      type: 'cmd-result',
      name: 'unlock',
      ok: false,
      error: 'not-allowed',
    });
  });

  it('refuses an unknown command name and a missing fleet', async () => {
    const bad = cli(['command', TERMINAL, 'reboot']);
    expect(await bad.exited).toBe(1);
    expect(bad.stderr()).toMatch(
      /'reboot' is invalid for argument 'name'. Allowed choices are run-self-test, send-health, rebirth, unlock/,
    );
    const noFleet = cli(['command', TERMINAL, 'rebirth']);
    expect(await noFleet.exited).toBe(1);
    expect(noFleet.stderr()).toMatch(/name the fleet with --fleet/);
  });
});

describe('pos-fleet exits', () => {
  it('exits 78 with one line per bad key and no stack trace', async () => {
    const config = configFile({ fleet: 'a/b', missedHealthFactor: -1, alerts: { rules: [{ type: 'saf-age' }] } });
    const c = cli(['tail', '--config', config]);
    expect(await c.exited).toBe(78);
    expect(lines(c.stderr())).toEqual([
      'config error: fleet: expected a topic level (no "/", "+" or "#") or null, found "a/b"',
      'config error: missedHealthFactor: expected a number of health intervals above 0 (at most 1000), found -1',
      'config error: alerts.rules[0].aboveHours: expected a number of hours above 0 (at most 8760), found nothing',
    ]);
    const badUrl = cli(['watch', '--url', 'localhost:1883']);
    expect(await badUrl.exited).toBe(78);
    expect(badUrl.stderr()).toContain('(from --url)');
  });

  it('exits 69 when no broker answers', async () => {
    const config = configFile({ mqtt: { connectTimeoutSeconds: 0.5 } });
    const port = await freePort();
    const c = cli(['alerts', '--config', config, '--url', `mqtt://127.0.0.1:${port}`]);
    expect(await c.exited).toBe(69);
    expect(c.stderr()).toContain(`no connection to the broker at mqtt://127.0.0.1:${port} within 0.5 s`);
  });
});
