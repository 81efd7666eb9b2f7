/**
 * The assembled terminal (mock devices, embedded host simulator, SQLite journal) reacting to its devices at once:
 * a reader that goes away locks sales and its return opens them again, a PIN pad's absence limits sales until it is
 * back, tamper locks at once (E315 journaled and queued for telemetry) and unlocks only once the reader cleared it,
 * and "degraded" never outlives the fault it was for. No restart, no self-test awaited in between.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTerminalApp, type TerminalApp } from '../../src/app/compose.js';
import { loadConfig, type PosConfig } from '../../src/config/index.js';
import { LIMITATION } from '../../src/selftest/selftest.js';
import { PIN_PAD_MISSING } from '../../src/terminal/device-health.js';
import { createLogger } from '../../src/util/log.js';
import { until } from '../support/wait.js';

const running: TerminalApp[] = [];
afterEach(async () => {
  for (const app of running.splice(0)) await app.stop();
});

function testConfig(): PosConfig {
  const { config } = loadConfig({ env: {} });
  return {
    ...config,
    dataDir: mkdtempSync(join(tmpdir(), 'pos-health-')),
    host: { ...config.host, address: '127.0.0.1:0' },
    ecr: { ...config.ecr, port: 0, socketPath: null },
    mqtt: { ...config.mqtt, url: 'mqtt://127.0.0.1:0' },
  };
}

async function boot(): Promise<TerminalApp> {
  const app = await startTerminalApp(testConfig(), { log: createLogger('silent') });
  running.push(app);
  await app.terminal.settled();
  expect(app.terminal.status()).toMatchObject({ state: 'ready', limitations: [], lockReasons: [] });
  return app;
}

/** Telemetry events waiting in the outbox whose encoded body names this anomaly code. */
function telemetryEventsWith(app: TerminalApp, code: string): number {
  return app.journal.outbox
    .peek(0, 10_000)
    .filter((row) => row.kind === 'event' && Buffer.from(row.payload).includes(code)).length;
}

describe('terminal and its devices', () => {
  it('a reader that goes away locks the terminal at once; its return makes it ready again, no restart', async () => {
    const app = await boot();
    app.mocks.reader!.unplug();
    expect(app.terminal.status()).toMatchObject({
      state: 'locked',
      lockReasons: ['device: card reader: not-connected'],
    });
    app.mocks.reader!.replug();
    expect(app.terminal.status()).toMatchObject({ state: 'ready', lockReasons: [] });
  });

  it("an unlock while the reader is away: the self-test's reason is cleared by the reader's return too", async () => {
    const app = await boot();
    app.mocks.reader!.unplug();
    app.terminal.unlock();
    await app.terminal.settled();
    const status = app.terminal.status();
    expect(status.state).toBe('locked');
    expect(status.lockReasons).toEqual([expect.stringMatching(/^self-test: card reader: not-connected/)]);
    app.mocks.reader!.replug();
    expect(app.terminal.status()).toMatchObject({ state: 'ready', lockReasons: [] });
  });

  it('a PIN pad that goes away limits sales (degraded) until it is back, across a self-test that does not check it', async () => {
    const app = await boot();
    app.mocks.pinPad!.unplug();
    expect(app.terminal.status()).toMatchObject({ state: 'degraded', limitations: [PIN_PAD_MISSING] });
    // The self-test has no PIN pad result: the pad's own report still stands after it.
    await app.terminal.selfTest();
    expect(app.terminal.status()).toMatchObject({ state: 'degraded', limitations: [PIN_PAD_MISSING] });
    app.mocks.pinPad!.replug();
    expect(app.terminal.status()).toMatchObject({ state: 'ready', limitations: [] });
  });

  it('stale degraded: a printer fault found by the self-test clears as soon as the printer reports itself ok', async () => {
    const app = await boot();
    const printer = app.mocks.printer!;
    printer.setStatus({ paper: 'out' });
    await app.terminal.selfTest();
    expect(app.terminal.status()).toMatchObject({ state: 'degraded', limitations: [LIMITATION.noPrinter] });
    // Paper back: the printer's own 'health' event clears the reason at once, with no self-test in between.
    printer.setStatus({ paper: 'ok' });
    expect(app.terminal.status()).toMatchObject({ state: 'ready', limitations: [] });
  });

  it('tamper locks at once (E315 journaled, telemetry queued); unlock is refused by the self-test until the reader cleared it', async () => {
    const app = await boot();
    const reader = app.mocks.reader!;
    reader.tamper('drill mesh');
    // At once: no self-test ran in between.
    expect(app.terminal.status().state).toBe('locked');
    expect(app.terminal.status().lockReasons).toContain('card reader tamper: drill mesh');
    const journaled = app.journal.anomalies.list({ code: 'E315' });
    expect(journaled).toHaveLength(1);
    expect(journaled[0]!.message).toContain('drill mesh');
    await until(() => telemetryEventsWith(app, 'E315') === 1, 'E315 in the telemetry outbox');

    // Still tampered: the unlock's self-test finds it and the terminal stays locked.
    app.terminal.unlock();
    await app.terminal.settled();
    expect(app.terminal.status().state).toBe('locked');
    expect(app.terminal.status().lockReasons).toContainEqual(expect.stringMatching(/^self-test: card reader: tamper/));

    // Serviced: the reader clears tamper on the same connection, never closed.
    reader.clearTamper();
    expect(reader.opened).toBe(true);
    app.terminal.unlock();
    await app.terminal.settled();
    expect(app.terminal.status()).toMatchObject({ state: 'ready', lockReasons: [] });
    expect(reader.opened).toBe(true);
  });

  it('PIN pad tamper locks at once too, as E315', async () => {
    const app = await boot();
    app.mocks.pinPad!.inject({ op: 'request', code: 'tamper' });
    await app.mocks
      .pinPad!.requestPin({ pan: '4761739001010010', format: 0, minLength: 4, maxLength: 12, timeoutMs: 1000 })
      .catch(() => undefined);
    expect(app.terminal.status()).toMatchObject({ state: 'locked' });
    expect(app.terminal.status().lockReasons).toContain('PIN pad tamper: injected');
    expect(app.journal.anomalies.list({ code: 'E315' })).toHaveLength(1);
  });
});
