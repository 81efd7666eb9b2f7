/**
 * Self-test duration: the full boot self-test (mock reader and printer, a real data dir, an echo to the acquirer host
 * simulator on loopback) run back to back. The terminal runs it at boot and on demand, so it must stay well under 1 s.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { MockCardReader } from '../hal/card-reader/mock.js';
import { systemClock } from '../hal/clock.js';
import { TcpHostLink } from '../hal/acquirer-link/tcp.js';
import { MockPrinter } from '../hal/printer/mock.js';
import { AcquirerClient, isoCorrelator } from '../src/acquirer/acquirer-client.js';
import { AcquirerHostSimulator } from '../src/acquirer-sim/simulator.js';
import { runSelfTest } from '../src/selftest/selftest.js';
import { spread } from './stats.js';

export interface SelfTestBenchResult {
  name: string;
  runs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Runs whose verdict was not all ok: should be 0, or the figures measure a failure path. */
  notOk: number;
}

export async function benchSelfTest(runs = 200): Promise<SelfTestBenchResult> {
  const clock = systemClock;
  const reader = new MockCardReader(clock);
  const printer = new MockPrinter(clock);
  await reader.open();
  await printer.open();
  const dataDir = mkdtempSync(join(tmpdir(), 'pos-bench-selftest-'));
  const sim = new AcquirerHostSimulator({ keepLedger: false });
  const { port } = await sim.start();
  const link = new TcpHostLink({ host: '127.0.0.1', port, correlator: isoCorrelator });
  link.start();
  let stan = 0;
  const deps = {
    reader,
    printer,
    acquirer: new AcquirerClient(link),
    dataDir,
    clock,
    terminalId: 'BENCH001',
    nextStan: () => (stan = (stan % 999_999) + 1),
  };
  try {
    // Warm-up also waits for the connection.
    for (let i = 0; i < 10; i++) await runSelfTest(deps);
    const durations: number[] = [];
    let notOk = 0;
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const report = await runSelfTest(deps);
      durations.push(performance.now() - t0);
      if (report.results.some((r) => r.status !== 'ok')) notOk += 1;
    }
    return {
      name: 'selftest',
      runs,
      ...spread(durations),
      notOk,
    };
  } finally {
    await link.stop();
    await sim.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  benchSelfTest().then((r) => process.stdout.write(`${JSON.stringify(r)}\n`));
}
