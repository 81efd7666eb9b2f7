/**
 * `pos-fleet serve` as an operator starts it (the built program, a real broker, a stand-in terminal): the terminal
 * appears in the table, a command sent from the API reaches the terminal over MQTT and its result lands in the audit
 * file, /metrics reports the connected consumer, the terminal's messages are kept in the configured history store and
 * come back as its timeline, and SIGTERM stops it cleanly.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wire } from '../../../src/telemetry/wire.js';
import { type RunningCli, startCli } from '../../support/cli.js';
import {
  encode,
  FLEET,
  fakeTerminal,
  freePort,
  startAedes,
  type TestBroker,
  TERMINAL,
  topic,
  until,
} from '../support.js';
import { CommandAudit } from '../../../src/fleet/web/command-audit.js';

let broker: TestBroker;
let dir: string;
let serve: RunningCli;
let base = '';
let metricsPort = 0;

beforeAll(async () => {
  broker = await startAedes();
  dir = mkdtempSync(join(tmpdir(), 'pos-fleet-serve-'));
  const config = join(dir, 'fleet.json');
  metricsPort = await freePort();
  writeFileSync(
    config,
    JSON.stringify({
      mqtt: { url: broker.url },
      operator: 'night-shift',
      web: { auditFile: join(dir, 'audit.sqlite'), metrics: { port: metricsPort } },
      history: { sqlite: { path: join(dir, 'history.sqlite') }, write: { flushIntervalMs: 20 } },
    }),
  );
  serve = startCli('pos-fleet', ['--config', config, 'serve', '--port', '0']);
  await until(() => /dashboard at (http:\/\/\S+?)\//.test(serve.stderr()), 'the dashboard to listen', 15_000);
  base = /dashboard at (http:\/\/\S+?)\//.exec(serve.stderr())?.[1] ?? '';
}, 30_000);

afterAll(async () => {
  if (serve && serve.child.exitCode === null) serve.child.kill('SIGKILL');
  await broker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('pos-fleet serve', () => {
  it('shows a terminal, runs a command over MQTT into the audit trail, exports metrics, stops on SIGTERM', async () => {
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const terminal = await fakeTerminal(broker.url);
    // The stand-in terminal answers every command with an ok result carrying its id.
    await terminal.client.subscribeAsync(topic('cmd'), { qos: 1 });
    terminal.client.on('message', (t, payload) => {
      if (t !== topic('cmd')) return;
      const cmd = wire.Command.decode(payload);
      void terminal.publish('cmd-result', encode.commandResult({ seq: 3 }, cmd.commandId, cmd.name, true, 0, 'sent'));
    });
    await terminal.publish('birth', encode.birth({ seq: 1 }));
    await terminal.publish('health', encode.health({ seq: 2 }));

    let table: { total: number; rows: { key: string; firmware: string }[] } = { total: 0, rows: [] };
    for (let i = 0; i < 200 && table.total === 0; i++) {
      table = (await (await fetch(`${base}/api/terminals`)).json()) as typeof table;
      if (table.total === 0) await new Promise((r) => setTimeout(r, 25));
    }
    expect(table.rows[0]).toMatchObject({ key: `${FLEET}/${TERMINAL}`, firmware: '1.4.2' });

    const sent = await fetch(`${base}/api/commands`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ fleet: FLEET, terminalId: TERMINAL, name: 'send-health' }),
    });
    expect(sent.status).toBe(202);
    let outcome = 'sent';
    for (let i = 0; i < 200 && outcome === 'sent'; i++) {
      const audit = (await (await fetch(`${base}/api/commands`)).json()) as { audit: { outcome: string }[] };
      outcome = audit.audit[0]?.outcome ?? 'sent';
      if (outcome === 'sent') await new Promise((r) => setTimeout(r, 25));
    }
    expect(outcome).toBe('ok');

    const metrics = await (await fetch(`${base}/metrics`)).text();
    // The same series on the listener that serves only /metrics.
    const own = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(await own.text()).toMatch(/^pos_fleet_consumer_connected 1$/m);
    expect((await fetch(`http://127.0.0.1:${metricsPort}/`)).status).toBe(404);
    expect(metrics).toMatch(/^pos_fleet_consumer_connected 1$/m);
    expect(metrics).toMatch(/^pos_fleet_terminals\{status="healthy"\} 1$/m);
    expect(metrics).toMatch(/^pos_fleet_messages_total\{type="health"\} 1$/m);

    const page = await fetch(`${base}/terminals/${FLEET}/${TERMINAL}`);
    const html = await page.text();
    expect(html).toContain(`data-terminal="${TERMINAL}"`);
    // The built script ends with the compiler's `export {}`: only a module script may hold that.
    expect(html).toContain('<script type="module" src="/assets/dashboard.js"></script>');
    const asset = await fetch(`${base}/assets/uplot.js`);
    expect(asset.status).toBe(200);
    expect((await asset.text()).length).toBeGreaterThan(10_000);

    // Birth and Health went into the history store and are read back, newest first, as the page's timeline.
    let kinds: string[] = [];
    for (let i = 0; i < 200 && kinds.length < 2; i++) {
      const t = (await (await fetch(`${base}/api/terminals/${FLEET}/${TERMINAL}/timeline`)).json()) as {
        configured: boolean;
        items: { kind: string }[];
      };
      expect(t.configured).toBe(true);
      kinds = t.items.map((item) => item.kind).filter((k) => k === 'birth' || k === 'health');
      if (kinds.length < 2) await new Promise((r) => setTimeout(r, 25));
    }
    expect(kinds).toEqual(['health', 'birth']);

    await terminal.end();
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
    const audit = new CommandAudit(join(dir, 'audit.sqlite'));
    const trail = audit.list({ limit: 5 });
    audit.close();
    expect(trail).toHaveLength(1);
    expect(trail[0]).toMatchObject({ by: 'night-shift', name: 'send-health', outcome: 'ok', detail: 'sent' });
  }, 30_000);
});
