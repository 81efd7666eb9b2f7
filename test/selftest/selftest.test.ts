/**
 * The self-test with mock devices, a real temp data dir and the acquirer host simulator on loopback. Time limits run
 * on a ManualClock: a hanging check is ended by advancing the clock, never by sleeping.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import type { CardReader, CardReaderInfo } from '../../hal/card-reader/contract.js';
import { MockCardReader } from '../../hal/card-reader/mock.js';
import { ManualClock, type Clock } from '../../hal/clock.js';
import { TcpHostLink } from '../../hal/acquirer-link/tcp.js';
import { MockPrinter } from '../../hal/printer/mock.js';
import { AcquirerClient, isoCorrelator } from '../../src/acquirer/acquirer-client.js';
import { AcquirerHostSimulator } from '../../src/acquirer-sim/simulator.js';
import { HostProbe } from '../../src/selftest/host-probe.js';
import {
  LIMITATION,
  runSelfTest,
  summarize,
  type CheckResult,
  type CheckStatus,
  type SelfTestDeps,
  type SelfTestReport,
} from '../../src/selftest/selftest.js';
import type { SelfTestSummary } from '../../src/terminal/machine.js';
import { until } from '../support/wait.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function offsetClock(base: Clock, offsetMs: number): Clock {
  return { now: () => base.now() + offsetMs, setTimeout: (fn, ms) => base.setTimeout(fn, ms) };
}

async function setup(opts: { hostOffsetMs?: number; port?: number } = {}) {
  const clock = new ManualClock();
  const reader = new MockCardReader(clock, { model: 'MR-100', firmware: '2.4.1', serial: 'SN42' });
  const printer = new MockPrinter(clock);
  await reader.open();
  await printer.open();
  const dataDir = mkdtempSync(join(tmpdir(), 'pos-selftest-'));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const sim = new AcquirerHostSimulator({ clock: offsetClock(clock, opts.hostOffsetMs ?? 0) });
  const { port } = await sim.start();
  const link = new TcpHostLink({
    host: '127.0.0.1',
    port: opts.port ?? port,
    correlator: isoCorrelator,
    clock,
    connectTimeoutMs: 5_000,
  });
  link.start();
  cleanups.push(
    () => sim.stop(),
    () => link.stop(),
  );
  if (opts.port === undefined) await until(() => link.isUp(), 'link up');
  let stan = 0;
  const progress: CheckResult[] = [];
  const deps: SelfTestDeps = {
    reader,
    printer,
    acquirer: new AcquirerClient(link),
    dataDir,
    clock,
    terminalId: 'TERM0001',
    nextStan: () => ++stan,
    onResult: (r) => progress.push(r),
  };
  return { clock, reader, printer, sim, link, dataDir, deps, progress };
}

function result(report: SelfTestReport, component: CheckResult['component']): CheckResult {
  const r = report.results.find((x) => x.component === component);
  if (!r) throw new Error(`no ${component} result`);
  return r;
}

describe('runSelfTest', () => {
  it('removes probe files a killed process left behind, and keeps everything else', async () => {
    const { deps, dataDir } = await setup();
    writeFileSync(join(dataDir, '.selftest-999999-0a1b2c3d.tmp'), Buffer.alloc(512));
    writeFileSync(join(dataDir, '.selftest-12-ff.tmp'), '');
    writeFileSync(join(dataDir, 'journal.sqlite'), 'keep');
    const report = await runSelfTest(deps);
    expect(result(report, 'storage').status).toBe('ok');
    expect(readdirSync(dataDir)).toEqual(['journal.sqlite']);
  });

  it('passes every check on healthy devices and leaves no trace in the data dir', async () => {
    const { deps, dataDir, clock, progress } = await setup();
    const report = await runSelfTest(deps);

    expect(report.results.map((r) => [r.component, r.status, r.code])).toEqual([
      ['card-reader', 'ok', 'ok'],
      ['printer', 'ok', 'ok'],
      ['host', 'ok', 'ok'],
      ['storage', 'ok', 'ok'],
      ['clock', 'ok', 'ok'],
    ]);
    expect(result(report, 'card-reader').detail).toBe('MR-100 firmware 2.4.1 serial SN42');
    expect(result(report, 'storage').detail).toMatch(/free of/);
    expect(result(report, 'clock').detail).toContain('host skew 0 s');
    expect(report.limitations).toEqual([]);
    expect(report.lockReasons).toEqual([]);
    expect(report.at).toBe(clock.now());
    expect(progress).toHaveLength(5);
    expect(readdirSync(dataDir)).toEqual([]);
  });

  it('has typed results that the terminal machine accepts as its summary', async () => {
    const { deps } = await setup();
    const report = await runSelfTest(deps);
    expectTypeOf(report).toEqualTypeOf<SelfTestReport>();
    expectTypeOf(report.results[0]!.status).toEqualTypeOf<CheckStatus>();
    expectTypeOf(report).toExtend<SelfTestSummary>();
    for (const r of report.results) {
      expect(['ok', 'warn', 'fault']).toContain(r.status);
      expect(typeof r.durationMs).toBe('number');
      expect(r.detail.length).toBeGreaterThan(0);
    }
  });

  it('locks on a card reader fault (unplugged: it cannot be reopened)', async () => {
    const { deps, reader } = await setup();
    reader.unplug();
    const report = await runSelfTest(deps);
    expect(result(report, 'card-reader')).toMatchObject({ status: 'fault', code: 'not-connected' });
    expect(report.lockReasons).toEqual([expect.stringMatching(/^card reader: not-connected/)]);
    expect(report.limitations).toEqual([]);
  });

  it('reopens a reader and a printer that are closed, and the other devices it is given', async () => {
    const { deps, reader, printer } = await setup();
    await reader.close();
    await printer.close();
    const pad = {
      opened: false,
      opens: 0,
      async open() {
        this.opens++;
        this.opened = true;
      },
    };
    const report = await runSelfTest({ ...deps, reopen: [pad] });
    expect(result(report, 'card-reader')).toMatchObject({ status: 'ok' });
    expect(result(report, 'printer')).toMatchObject({ status: 'ok' });
    expect([reader.opened, printer.opened, pad.opened, pad.opens]).toEqual([true, true, true, 1]);
    // Open ones are left alone.
    await runSelfTest({ ...deps, reopen: [pad] });
    expect(pad.opens).toBe(1);
  });

  it('limits on a printer fault and on paper near end, without locking', async () => {
    const a = await setup();
    a.printer.setStatus({ coverOpen: true });
    const faulty = await runSelfTest(a.deps);
    expect(result(faulty, 'printer')).toMatchObject({ status: 'fault', code: 'cover-open' });
    expect(faulty.limitations).toEqual([LIMITATION.noPrinter]);
    expect(faulty.lockReasons).toEqual([]);

    a.printer.setStatus({ coverOpen: false, paper: 'near-end' });
    const low = await runSelfTest(a.deps);
    expect(result(low, 'printer')).toMatchObject({ status: 'warn', code: 'paper-near-end' });
    expect(low.limitations).toEqual(['paper near end']);

    a.printer.setStatus({ paper: 'ok' });
    a.printer.inject({ op: 'status', code: 'offline' });
    const silent = await runSelfTest(a.deps);
    expect(result(silent, 'printer')).toMatchObject({ status: 'fault', code: 'offline' });
    expect(silent.limitations).toEqual(['no printer: receipts kept pending']);
  });

  it('warns (offline rules) when the host cannot be reached', async () => {
    const { deps } = await setup({ port: await closedPort() });
    const report = await runSelfTest(deps);
    expect(result(report, 'host')).toMatchObject({ status: 'warn', code: 'not-connected' });
    expect(report.limitations).toEqual(['host unreachable: offline rules apply']);
    expect(report.lockReasons).toEqual([]);
    // No host time, so no skew verdict.
    expect(result(report, 'clock').status).toBe('ok');
  });

  it('warns with code timeout when the host does not answer within the time limit', async () => {
    const { deps, sim, clock, progress } = await setup();
    sim.setBehaviour({ misbehaviour: 'silent' });
    const running = runSelfTest({ ...deps, timeLimitMs: 1_500 });
    await until(() => progress.length === 3 && sim.ledger.some((e) => e.mti === '0800'), 'other checks and the echo');
    await clock.advance(1_500);
    const report = await running;
    expect(result(report, 'host')).toMatchObject({ status: 'warn', code: 'timeout', durationMs: 1_500 });
    expect(report.limitations).toEqual([LIMITATION.hostUnreachable]);
  });

  it('turns a check that never finishes into a timeout fault at the time limit', async () => {
    const { deps, clock, progress } = await setup();
    const hanging: CardReader = {
      on: () => () => {},
      open: async () => {},
      close: async () => {},
      info: () => new Promise<CardReaderInfo>(() => {}),
      waitForCard: () => new Promise(() => {}),
      read: () => new Promise(() => {}),
      waitForRemoval: () => new Promise(() => {}),
    };
    let finished = false;
    const running = runSelfTest({ ...deps, reader: hanging }).finally(() => {
      finished = true;
    });
    await until(() => progress.length === 3, 'the other checks');
    await clock.advance(1_999);
    expect(finished).toBe(false);
    await clock.advance(1);
    const report = await running;
    expect(result(report, 'card-reader')).toMatchObject({ status: 'fault', code: 'timeout', durationMs: 2_000 });
    expect(report.durationMs).toBe(2_000);
    expect(report.lockReasons).toEqual([expect.stringMatching(/^card reader: timeout/)]);
    expect(clock.pending()).toBe(0);
  });

  it('locks when the data dir cannot be written', async () => {
    const { deps, dataDir } = await setup();
    // Tests may run as root, which writes anywhere: a path under a regular file fails for everyone.
    const file = join(dataDir, 'not-a-dir');
    writeFileSync(file, 'x');
    const report = await runSelfTest({ ...deps, dataDir: join(file, 'data') });
    expect(result(report, 'storage')).toMatchObject({
      status: 'fault',
      code: 'write-failed',
      detail: expect.stringContaining('ENOTDIR'),
    });
    expect(report.lockReasons).toEqual([expect.stringMatching(/^storage: write-failed/)]);
  });

  it('warns when free space is under the minimum', async () => {
    const { deps } = await setup();
    const report = await runSelfTest({ ...deps, minFreeBytes: Number.MAX_SAFE_INTEGER });
    expect(result(report, 'storage')).toMatchObject({ status: 'warn', code: 'low-space' });
    expect(report.limitations).toEqual([expect.stringMatching(/^storage low: .* free of .*, below /)]);
    expect(report.lockReasons).toEqual([]);
  });

  it('locks on an implausible clock and warns on skew against the host', async () => {
    const { deps } = await setup();
    const epoch = await runSelfTest({ ...deps, now: () => Date.UTC(1970, 0, 1) });
    expect(result(epoch, 'clock')).toMatchObject({ status: 'fault', code: 'implausible-time' });
    expect(epoch.lockReasons).toEqual([expect.stringMatching(/^clock: implausible-time \(clock reads 1970-/)]);

    const future = await runSelfTest({ ...deps, now: () => Date.UTC(2101, 0, 1) });
    expect(result(future, 'clock').status).toBe('fault');

    const skewed = await setup({ hostOffsetMs: 6 * 60_000 });
    const report = await runSelfTest(skewed.deps);
    expect(result(report, 'host').status).toBe('ok');
    expect(result(report, 'clock')).toMatchObject({
      status: 'warn',
      code: 'skew',
      detail: 'host time differs by 360 s',
    });
    expect(report.limitations).toEqual([LIMITATION.clockSkew]);

    const close = await setup({ hostOffsetMs: 4 * 60_000 });
    expect(result(await runSelfTest(close.deps), 'clock').status).toBe('ok');
  });

  it('uses the probe when no acquirer is given, and skips the host without either', async () => {
    const { deps, clock } = await setup({ hostOffsetMs: 10 * 60_000 });
    const probe = new HostProbe({ acquirer: deps.acquirer!, clock, terminalId: 'TERM0001', nextStan: deps.nextStan });
    const { acquirer: _unused, ...withoutAcquirer } = deps;
    // No echo yet: the check waits for the probe's first answer rather than calling the host unreachable.
    const report = await runSelfTest({ ...withoutAcquirer, probe });
    expect(result(report, 'host')).toMatchObject({ status: 'ok', code: 'ok' });
    expect(result(report, 'clock')).toMatchObject({ status: 'warn', code: 'skew' });
    expect(probe.last()?.ok).toBe(true);

    const none = await runSelfTest(withoutAcquirer);
    expect(none.results.map((r) => r.component)).toEqual(['card-reader', 'printer', 'storage', 'clock']);
    expect(none.limitations).toEqual([]);
  });

  it('reports the probe last result when it says the host is unreachable', async () => {
    const { deps, clock, sim, link } = await setup();
    const probe = new HostProbe({ acquirer: deps.acquirer!, clock, terminalId: 'TERM0001', nextStan: deps.nextStan });
    await sim.stop();
    await until(() => !link.isUp(), 'link down');
    await probe.probeNow();
    const { acquirer: _unused, ...withoutAcquirer } = deps;
    const report = await runSelfTest({ ...withoutAcquirer, probe });
    expect(result(report, 'host')).toMatchObject({
      status: 'warn',
      code: 'unreachable',
      detail: expect.stringContaining('not-connected'),
    });
    expect(report.limitations).toEqual([LIMITATION.hostUnreachable]);
  });
});

describe('summarize', () => {
  const r = (
    component: CheckResult['component'],
    status: CheckStatus,
    code = status === 'ok' ? 'ok' : 'x',
  ): CheckResult => ({
    component,
    status,
    code,
    detail: 'd',
    durationMs: 0,
  });
  it('maps faults of reader, storage and clock to locks, and the rest to limitations', () => {
    expect(
      summarize([
        r('card-reader', 'fault'),
        r('storage', 'fault'),
        r('clock', 'fault'),
        r('printer', 'ok'),
        r('host', 'ok'),
      ]),
    ).toEqual({
      lockReasons: ['card reader: x (d)', 'storage: x (d)', 'clock: x (d)'],
      limitations: [],
    });
    expect(summarize([r('printer', 'fault'), r('host', 'warn'), r('card-reader', 'ok')])).toEqual({
      lockReasons: [],
      limitations: [LIMITATION.noPrinter, LIMITATION.hostUnreachable],
    });
    expect(summarize([r('printer', 'warn', 'paper-near-end')]).limitations).toEqual([LIMITATION.paperNearEnd]);
  });
});

/** A loopback port with nothing listening. */
/**
 * A loopback port nothing listens on. A port just freed by another listener can be taken again by any of the tests
 * running beside this one (that made this test flaky on a loaded machine); port 1 (tcpmux) is never served here.
 */
async function closedPort(): Promise<number> {
  const { connect } = await import('node:net');
  await new Promise<void>((resolve, reject) => {
    const socket = connect(1, '127.0.0.1');
    socket.once('connect', () => reject(new Error('something listens on 127.0.0.1:1')));
    socket.once('error', () => resolve());
  });
  return 1;
}
