/**
 * The real pos-terminal process against a real Mosquitto: kill -9 it and the broker publishes the last will, a
 * retained State offline; the next start says why it started (crash, power loss, clean stop) in its Birth.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MARKER_FILE } from '../../src/telemetry/boot-marker.js';
import { startCli, type RunningCli } from '../support/cli.js';
import { startMosquitto, type Mosquitto } from '../support/mosquitto.js';
import { until } from '../support/wait.js';
import { Consumer, type Received } from './harness.js';

const TERMINAL = 'SIM00001';
const fleet = `will-${process.pid}`;
const filter = `pos/v1/${fleet}/${TERMINAL}/#`;

describe('pos-terminal process and the last will', () => {
  let broker: Mosquitto;
  let dir: string;
  let configPath: string;
  const running: RunningCli[] = [];
  const consumers: Consumer[] = [];

  beforeAll(async () => {
    broker = await startMosquitto();
    dir = mkdtempSync(join(tmpdir(), 'pos-will-'));
    configPath = join(dir, 'terminal.json');
    writeFileSync(
      configPath,
      JSON.stringify({
        terminal: { fleet },
        dataDir: join(dir, 'data'),
        log: { level: 'warn' },
        host: { address: '127.0.0.1:0' },
        ecr: { port: 0, socketPath: null },
        mqtt: { url: broker.url, embeddedBroker: false },
      }),
    );
  });
  afterEach(async () => {
    for (const c of consumers.splice(0)) await c.close();
    for (const t of running.splice(0)) {
      if (t.child.exitCode === null && t.child.signalCode === null) t.child.kill('SIGKILL');
      await t.exited;
    }
  });
  afterAll(async () => {
    await broker?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  async function consumer(): Promise<Consumer> {
    const c = await Consumer.connect(broker.url, filter);
    consumers.push(c);
    return c;
  }

  const knownBoots = new Set<string>();

  /** Starts the terminal and waits until it is ready and its new boot has said Birth and State online. */
  async function start(watch: Consumer): Promise<{ terminal: RunningCli; birth: Received }> {
    const terminal = startCli('pos-terminal', ['--config', configPath]);
    running.push(terminal);
    // Messages of an earlier run may still be arriving: this run is the boot id not seen before.
    const fresh = () =>
      watch.received.filter(
        (r) => !r.retained && r.message.header && !knownBoots.has(r.message.header.bootId) && r.message.header.seq > 0,
      );
    await until(
      () =>
        (terminal.stdout().includes('pos-terminal ready') &&
          fresh().some((r) => r.kind === 'state' && r.message['online'] === true)) ||
        terminal.child.exitCode !== null,
      'terminal online',
      15_000,
    );
    expect(terminal.child.exitCode, terminal.stderr() + terminal.stdout()).toBeNull();
    const birth = fresh().find((r) => r.kind === 'birth')!;
    knownBoots.add(birth.message.header!.bootId);
    return { terminal, birth };
  }

  const marker = () => readFileSync(join(dir, 'data', MARKER_FILE), 'utf8');

  it('kill -9: the broker sets the retained state offline with the will; the next start says crash', async () => {
    const watch = await consumer();
    const first = await start(watch);
    expect(first.birth.message).toMatchObject({ bootReason: 'BOOT_REASON_FIRST', session: 1 });
    const bootId = first.birth.message.header!.bootId;
    expect(marker()).toMatch(/^running /);

    first.terminal.child.kill('SIGKILL');
    await first.terminal.exited;
    await until(() => watch.of('state').some((s) => s.message['online'] === false), 'the will', 10_000);
    const will = watch.of('state').find((s) => s.message['online'] === false)!;
    expect(will.message).toMatchObject({ online: false, reason: 'connection lost', session: 1 });
    // The will stands outside the sequence and belongs to the boot that died.
    expect(will.message.header).toMatchObject({ bootId, seq: 0, terminalId: TERMINAL, fleet });

    // Retained: a consumer that starts now learns the terminal is offline.
    const late = await consumer();
    await until(() => late.of('state').length > 0, 'retained state');
    expect(late.of('state')[0]).toMatchObject({
      retained: true,
      message: { online: false, reason: 'connection lost' },
    });

    const second = await start(watch);
    expect(second.birth.message).toMatchObject({ bootReason: 'BOOT_REASON_CRASH' });
    expect(second.birth.message.header!.bootId).not.toBe(bootId);
    second.terminal.child.kill('SIGKILL');
    await second.terminal.exited;
  });

  it('SIGTERM stops cleanly (State offline "shutdown", no will); a system restart since shows as power loss', async () => {
    const watch = await consumer();
    const { terminal, birth } = await start(watch);
    const bootId = birth.message.header!.bootId;
    terminal.child.kill('SIGTERM');
    expect(await terminal.exited).toBe(0);
    await until(
      () => watch.of('state').some((s) => s.message.header!.bootId === bootId && s.message['online'] === false),
      'offline state',
    );
    expect(
      watch
        .of('state')
        .filter((s) => s.message.header!.bootId === bootId && !s.message['online'])
        .map((s) => s.message['reason']),
    ).toEqual(['shutdown']);
    expect(
      watch
        .of('event')
        .filter((e) => e.message.header!.bootId === bootId)
        .at(-1)!.message,
    ).toMatchObject({ kind: 'lifecycle', code: 'shutdown' });
    expect(marker()).toMatch(/^clean /);

    const clean = await start(watch);
    expect(clean.birth.message).toMatchObject({ bootReason: 'BOOT_REASON_CLEAN' });
    clean.terminal.child.kill('SIGKILL');
    await clean.terminal.exited;

    // As if the machine lost power: the marker still says running, but under another kernel boot id.
    writeFileSync(join(dir, 'data', MARKER_FILE), 'running 00000000-0000-0000-0000-000000000000\n');
    const afterPowerLoss = await start(watch);
    expect(afterPowerLoss.birth.message).toMatchObject({ bootReason: 'BOOT_REASON_POWER_LOSS' });
    const bootEvent = watch
      .of('event')
      .find(
        (e) => e.message.header!.bootId === afterPowerLoss.birth.message.header!.bootId && e.message['code'] === 'boot',
      );
    expect(bootEvent?.message).toMatchObject({
      kind: 'lifecycle',
      severity: 'SEVERITY_WARNING',
      message: expect.stringContaining('power-loss'),
    });
  });
});
