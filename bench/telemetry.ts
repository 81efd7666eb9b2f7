/**
 * Telemetry costs: encoded sizes of Health and Event beside the same content as JSON (target: protobuf at most 40%
 * of JSON), the encode + queue + publish + PUBACK rate to the embedded aedes broker, what queueing costs the caller
 * (the only part a sale ever waits for), and the publisher's memory after an hour of simulated broker outage
 * (ManualClock: Health every 60 s and a steady event rate) with the outbox at its bound.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { ManualClock, systemClock, type Clock } from '../hal/clock.js';
import { MockDisplay } from '../hal/display/mock.js';
import { AnomalyRecorder } from '../src/anomaly/recorder.js';
import { Journal } from '../src/journal/index.js';
import type { SelfTestReport } from '../src/selftest/selftest.js';
import { startEmbeddedBroker } from '../src/telemetry/embedded-broker.js';
import { TelemetryPublisher, type TelemetrySource } from '../src/telemetry/publisher.js';
import { wire } from '../src/telemetry/wire.js';
import type { TerminalStatus } from '../src/terminal/terminal.js';
import { createLogger } from '../src/util/log.js';
import { percentile } from './stats.js';

export interface TelemetryBenchOptions {
  /** Messages published for the rate. */
  publishCount?: number;
  /** Length of the simulated outage. */
  outageMinutes?: number;
  eventsPerSecond?: number;
  outboxMaxMessages?: number;
}

const now = Date.UTC(2026, 0, 1, 12);

const REPORT: SelfTestReport = {
  at: now,
  durationMs: 41,
  results: [
    { component: 'card-reader', status: 'ok', code: 'ok', detail: 'reader answered status', durationMs: 4 },
    { component: 'printer', status: 'warn', code: 'paper-near-end', detail: 'paper near end', durationMs: 9 },
    { component: 'host', status: 'ok', code: 'ok', detail: 'echo answered 00 in 38 ms', durationMs: 38 },
    { component: 'storage', status: 'ok', code: 'ok', detail: '12.4 GiB free', durationMs: 2 },
    { component: 'clock', status: 'ok', code: 'ok', detail: 'within 1 s of host time', durationMs: 0 },
  ],
  limitations: ['paper near end'],
  lockReasons: [],
};

const STATUS: TerminalStatus = {
  state: 'degraded',
  pendingReversals: 1,
  offlineQueue: { count: 4, total: 18_250, oldestAgeMs: 754_000 },
  connectivity: 'online',
  limitations: ['paper near end'],
  lockReasons: [],
  hostUp: true,
};

/** A representative Health: what a degraded terminal after a morning of sales reports. */
function sampleHealth() {
  return {
    header: {
      terminalId: 'TERM0042',
      fleet: 'shop-paris-01',
      bootId: '3f2a9c1e-8b7d-4e21-9a0f-5c6d7e8f9a0b',
      seq: 1234,
      sentAtMs: now,
    },
    state: wire.OperationState.OPERATION_STATE_DEGRADED,
    limitations: STATUS.limitations,
    lockReasons: [],
    components: REPORT.results.map((r) => ({
      component: r.component,
      status: r.status === 'ok' ? wire.CheckStatus.CHECK_STATUS_OK : wire.CheckStatus.CHECK_STATUS_WARN,
      code: r.code,
      detail: r.detail,
      durationMs: r.durationMs,
    })),
    pendingReversals: 1,
    storeAndForward: { depth: 4, totalMinor: 18_250, oldestAgeMs: 754_000 },
    outcomes: [
      { key: 'approved', count: 212 },
      { key: 'cancelled', count: 3 },
      { key: 'declined', count: 9 },
      { key: 'offline-approved', count: 4 },
    ],
    anomalies: [
      { key: 'E101', count: 2 },
      { key: 'E201', count: 9 },
      { key: 'E302', count: 1 },
    ],
    link: { hostUp: true, networkUp: true, interface: 'eth0', signalDbm: 0, signalPercent: 0, hostRttMs: 38 },
    resources: {
      rssBytes: 96_468_992,
      heapUsedBytes: 31_457_280,
      cpuPercent: 1.7,
      diskFreeBytes: 13_314_398_208,
      uptimeS: 15_120,
    },
    telemetryDropped: 0,
    eventsDropped: 0,
    outboxDepth: 0,
  };
}

function sampleEvent() {
  return {
    header: {
      terminalId: 'TERM0042',
      fleet: 'shop-paris-01',
      bootId: '3f2a9c1e-8b7d-4e21-9a0f-5c6d7e8f9a0b',
      seq: 1235,
      sentAtMs: now,
    },
    kind: 'anomaly',
    code: 'E202',
    name: 'declined-funds',
    severity: wire.Severity.SEVERITY_INFO,
    atMs: now,
    stan: 4242,
    amountMinor: 2500,
    currency: '978',
    maskedPan: '476173******0010',
    message: 'Declined: insufficient funds or limit: 51 Insufficient funds',
    txnRef: 'T-LYADPAG-BQKLNYD-YAFWGZR',
  };
}

/** Same content as JSON: field names, enum names, numbers as numbers; default values left out as protobuf does. */
function sizes<
  T extends {
    encode(m: never): { finish(): Uint8Array };
    fromObject(o: object): unknown;
    toObject(m: never, o: object): object;
  },
>(type: T, message: object) {
  const protobuf = type.encode(message as never).finish().byteLength;
  const json = Buffer.byteLength(
    JSON.stringify(type.toObject(type.fromObject(message) as never, { longs: Number, enums: String })),
  );
  return { protobufBytes: protobuf, jsonBytes: json, ratio: Math.round((protobuf / json) * 1000) / 1000 };
}

/** A port nobody listens on (taken and released at once). */
function freePortForBench(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

class BenchSource implements TelemetrySource {
  lastSelfTest = REPORT;
  status(): TerminalStatus {
    return STATUS;
  }
  async selfTest(): Promise<SelfTestReport> {
    return REPORT;
  }
  unlock(): void {}
  onChange(): () => void {
    return () => {};
  }
}

function rig(url: string, clock: Clock, outboxMaxMessages: number) {
  const dir = mkdtempSync(join(tmpdir(), 'pos-bench-telemetry-'));
  const journal = Journal.open(join(dir, 'journal.sqlite'), { now: () => clock.now() });
  const log = createLogger('silent');
  const anomalies = new AnomalyRecorder(journal, new MockDisplay(), log);
  const publisher = new TelemetryPublisher({
    url,
    terminalId: 'BENCH001',
    fleet: 'bench',
    healthIntervalMs: 60_000,
    reconnect: { initialDelayMs: 1_000, maxDelayMs: 60_000 },
    commands: [],
    maxCommandBytes: 4096,
    // No command is allowed here, so none is handed over.
    onCommand: async () => ({ ok: false, error: wire.CommandError.COMMAND_ERROR_NOT_ALLOWED, message: 'not allowed' }),
    outboxMaxMessages,
    birth: { firmwareVersion: '0', configVersion: '0', capabilities: [], model: 'bench' },
    boot: { reason: 'clean', atMs: clock.now() },
    dataDir: dir,
    journal,
    anomalies,
    source: new BenchSource(),
    clock,
    log,
  });
  return {
    journal,
    anomalies,
    publisher,
    async close() {
      await publisher.stop();
      journal.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function publishRate(count: number) {
  const broker = await startEmbeddedBroker('mqtt://127.0.0.1:0', createLogger('silent'));
  const r = rig(broker.url, systemClock, 1_000_000);
  try {
    r.publisher.start();
    const connected = performance.now();
    while (!r.publisher.connected || r.journal.outbox.stats().depth > 0) {
      if (performance.now() - connected > 10_000)
        throw new Error('bench publisher did not connect to the embedded broker');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    // What the caller pays: encode + one local insert per message, never the network.
    const queueTimes: number[] = [];
    const t0 = performance.now();
    for (let i = 0; i < count; i++) {
      const q0 = performance.now();
      if (i % 2 === 0) r.publisher.publishHealth();
      else
        r.anomalies.raise(
          'declined-funds',
          {
            reason: '51 Insufficient funds',
            stan: (i % 999_999) + 1,
            amount: 2500,
            currency: '978',
            maskedPan: '476173******0010',
          },
          { show: false },
        );
      queueTimes.push(performance.now() - q0);
      // Let the sender run alongside, as it would between sales.
      if (i % 50 === 49) await new Promise((resolve) => setImmediate(resolve));
    }
    await r.publisher.drained(60_000);
    const seconds = (performance.now() - t0) / 1000;
    queueTimes.sort((a, b) => a - b);
    const pct = (p: number) => Math.round(percentile(queueTimes, p) * 1000) / 1000;
    return {
      mix: 'half Health, half anomaly Events (each anomaly journaled too, as in service)',
      messages: count,
      messagesPerSecond: Math.round(count / seconds),
      acknowledged: r.journal.outbox.stats().depth === 0,
      queueMs: { p50: pct(50), p99: pct(99), max: pct(100) },
    };
  } finally {
    await r.close();
    await broker.stop();
  }
}

async function outageMemory(minutes: number, eventsPerSecond: number, outboxMaxMessages: number) {
  const clock = new ManualClock(now);
  // Nothing listens there: every reconnect attempt is refused, as with a broker that is down.
  const url = `mqtt://127.0.0.1:${await freePortForBench()}`;
  const r = rig(url, clock, outboxMaxMessages);
  const gc = (globalThis as { gc?: () => void }).gc;
  try {
    r.publisher.start();
    const samples: Array<{ minute: number; rssBytes: number; heapUsedBytes: number; outboxDepth: number }> = [];
    const sample = (minute: number) => {
      gc?.();
      const m = process.memoryUsage();
      samples.push({ minute, rssBytes: m.rss, heapUsedBytes: m.heapUsed, outboxDepth: r.journal.outbox.stats().depth });
      return m;
    };
    // The first minutes load code and fill SQLite's page cache: the delta is measured from after them.
    const warmMinutes = Math.max(1, Math.round(minutes / 6));
    let before: NodeJS.MemoryUsage | undefined;
    const started = performance.now();
    let events = 0;
    for (let second = 0; second < minutes * 60; second++) {
      if (second === warmMinutes * 60) before = sample(warmMinutes);
      else if (second % 600 === 0) sample(second / 60);
      for (let e = 0; e < eventsPerSecond; e++) {
        r.anomalies.raise(
          'host-timeout',
          { reason: 'no answer within 30000 ms', stan: (events++ % 999_999) + 1, amount: 1000, currency: '978' },
          { show: false },
        );
      }
      await clock.advance(1_000);
    }
    const after = sample(minutes);
    before ??= after;
    const stats = r.publisher.stats();
    const outbox = r.journal.outbox.stats();
    return {
      simulatedMinutes: minutes,
      eventsPerSecond,
      events,
      healthEveryMs: 60_000,
      outboxMaxMessages,
      outboxDepth: outbox.depth,
      outboxHealth: outbox.health,
      atBound: outbox.depth === outboxMaxMessages,
      dropped: stats.dropped,
      connectAttempts: stats.session,
      warmMinutes,
      rssDeltaBytes: after.rss - before.rss,
      heapDeltaBytes: after.heapUsed - before.heapUsed,
      gcExposed: gc !== undefined,
      samples,
      wallSeconds: Math.round((performance.now() - started) / 100) / 10,
    };
  } finally {
    await r.close();
  }
}

export async function benchTelemetry(options: TelemetryBenchOptions = {}) {
  const health = sizes(wire.Health as never, sampleHealth());
  const event = sizes(wire.Event as never, sampleEvent());
  const rate = await publishRate(options.publishCount ?? 5_000);
  const outage = await outageMemory(
    options.outageMinutes ?? 60,
    options.eventsPerSecond ?? 3,
    options.outboxMaxMessages ?? 10_000,
  );
  return {
    name: 'telemetry',
    sizes: { health, event, target: { maxRatio: 0.4 }, withinTarget: health.ratio <= 0.4 && event.ratio <= 0.4 },
    publish: { broker: 'embedded aedes on loopback', ...rate },
    outage,
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  benchTelemetry().then((r) => process.stdout.write(`${JSON.stringify(r)}\n`));
}
