/**
 * Test harness for the telemetry publisher: a broker (real Mosquitto or the embedded aedes one) that can be
 * restarted on the same port, a fake terminal the test moves through states, a journal on disk, and a consumer
 * that subscribes to the terminal's topics and decodes everything it receives.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { ManualClock } from '../../hal/clock.js';
import { MockDisplay } from '../../hal/display/mock.js';
import { AnomalyRecorder } from '../../src/anomaly/recorder.js';
import { createFleetCommandHandler, type FleetCommandService } from '../../src/app/fleet-commands.js';
import { Journal } from '../../src/journal/index.js';
import type { SelfTestReport } from '../../src/selftest/selftest.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../src/telemetry/embedded-broker.js';
import {
  TelemetryPublisher,
  type TelemetryPublisherOptions,
  type TelemetrySource,
} from '../../src/telemetry/publisher.js';
import type { pos } from '../../src/telemetry/generated/telemetry.js';
import { parseTelemetryTopic, wire, type TopicKind } from '../../src/telemetry/wire.js';
import { signCommand } from '../../src/telemetry/wire-signature.js';
import type { TerminalChange, TerminalStatus } from '../../src/terminal/terminal.js';
import { createLogger } from '../../src/util/log.js';
import { startMosquitto } from '../support/mosquitto.js';
import { until } from '../support/wait.js';

export interface TestBroker {
  name: string;
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startTestBroker(kind: 'mosquitto' | 'aedes'): Promise<TestBroker> {
  if (kind === 'mosquitto') {
    const m = await startMosquitto();
    return { name: kind, url: m.url, stop: () => m.stop(), start: () => m.start(), close: () => m.kill() };
  }
  const log = createLogger('silent');
  let broker: EmbeddedBroker | undefined = await startEmbeddedBroker('mqtt://127.0.0.1:0', log);
  const url = broker.url;
  return {
    name: kind,
    url,
    async stop() {
      await broker?.stop();
      broker = undefined;
    },
    async start() {
      if (broker) return;
      broker = await startEmbeddedBroker(url, log);
      if (broker.url !== url) throw new Error(`aedes came back on ${broker.url}, not ${url}`);
    },
    async close() {
      await broker?.stop();
      broker = undefined;
    },
  };
}

/** A terminal as telemetry sees it: the test sets its state and what its self-test reports. */
export class FakeTerminal implements TelemetrySource {
  private readonly listeners = new Set<(change: TerminalChange) => void>();
  state = 'ready';
  lockReasons: string[] = [];
  limitations: string[] = [];
  lastSelfTest: SelfTestReport | undefined;
  lastRecovery = { recovered: 0, durationMs: 1.5 };
  selfTests = 0;
  unlocks = 0;
  /** When set, selfTest() waits for it. */
  selfTestGate: Promise<void> | undefined;

  constructor(private readonly clock: ManualClock) {
    this.lastSelfTest = this.report('ok');
  }

  report(printer: 'ok' | 'warn' | 'fault'): SelfTestReport {
    return {
      at: this.clock.now(),
      durationMs: 12,
      results: [
        { component: 'card-reader', status: 'ok', code: 'ok', detail: 'reader answered', durationMs: 3 },
        {
          component: 'printer',
          status: printer,
          code: printer === 'ok' ? 'ok' : 'paper-out',
          detail: printer === 'ok' ? 'ready' : 'no paper',
          durationMs: 4,
        },
        { component: 'host', status: 'ok', code: 'ok', detail: 'echo 00', durationMs: 9 },
        { component: 'storage', status: 'ok', code: 'ok', detail: 'free', durationMs: 1 },
        { component: 'clock', status: 'ok', code: 'ok', detail: 'in sync', durationMs: 0 },
      ],
      limitations: [],
      lockReasons: [],
    };
  }

  status(): TerminalStatus {
    return {
      state: this.state,
      pendingReversals: 2,
      offlineQueue: { count: 3, total: 4500, oldestAgeMs: 60_000 },
      connectivity: 'online',
      limitations: this.limitations,
      lockReasons: this.lockReasons,
      hostUp: true,
    };
  }

  onChange(listener: (change: TerminalChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(change: TerminalChange): void {
    for (const l of this.listeners) l(change);
  }

  setState(state: string, lockReasons: string[] = []): void {
    const previous = this.state;
    this.state = state;
    this.lockReasons = lockReasons;
    this.emit({ type: 'state', state, previous });
  }

  finishSelfTest(report: SelfTestReport): void {
    this.lastSelfTest = report;
    this.emit({ type: 'self-test', report });
  }

  async selfTest(): Promise<SelfTestReport> {
    this.selfTests += 1;
    await this.selfTestGate;
    const report = this.report('ok');
    this.finishSelfTest(report);
    return report;
  }

  unlock(): void {
    this.unlocks += 1;
    this.setState('selfTesting');
    this.setState('ready');
  }
}

/**
 * The command service as the fleet adapter uses it, over the fake terminal: unlock and self-test reach the terminal.
 * The real service's fleet commands are tested in test/app/commands.test.ts.
 */
export function fakeCommandService(terminal: FakeTerminal): FleetCommandService {
  const run = async (request: { kind: string }) => {
    if (request.kind === 'unlock') {
      terminal.unlock();
      return { ok: true, value: {} };
    }
    if (request.kind === 'selftest') {
      const report = await terminal.selfTest();
      return { ok: true, value: { ...report, state: terminal.status().state } };
    }
    throw new Error(`not a fleet command: ${request.kind}`);
  };
  return { state: () => terminal.status().state, run: run as FleetCommandService['run'] };
}

export const TERMINAL_ID = 'TEST0001';
/** The fleet command key of the rigs (as a fleet's key file would hold it). */
export const TEST_COMMAND_KEY = Buffer.from('0123456789abcdef0123456789abcdef-test-key');

/** A command as pos-fleet sends it: addressed to the rig's terminal, issued now, signed with the test key. */
export function signedCommand(
  rig: { fleet: string; clock: { now(): number } },
  fields: Partial<pos.telemetry.v1.Command.$Properties> & { commandId: string },
  key: Uint8Array = TEST_COMMAND_KEY,
): Uint8Array {
  return signCommand(key, {
    issuedAtMs: rig.clock.now(),
    issuedBy: 'ops@test',
    fleet: rig.fleet,
    terminalId: TERMINAL_ID,
    ...fields,
  });
}

export interface Rig {
  clock: ManualClock;
  journal: Journal;
  anomalies: AnomalyRecorder;
  terminal: FakeTerminal;
  publisher: TelemetryPublisher;
  dir: string;
  fleet: string;
  close(): Promise<void>;
}

let rigCount = 0;

/** A publisher on a fresh journal; reconnects after exactly `reconnect` ms of ManualClock time. */
export function makeRig(url: string, overrides: Partial<TelemetryPublisherOptions> = {}): Rig {
  const clock = new ManualClock();
  const dir = mkdtempSync(join(tmpdir(), 'telemetry-test-'));
  const journal = Journal.open(join(dir, 'journal.sqlite'), { now: () => clock.now() });
  const log = createLogger('silent');
  const anomalies = new AnomalyRecorder(journal, new MockDisplay(), log);
  const terminal = new FakeTerminal(clock);
  // A fleet per rig: brokers outlive tests, and retained messages of one test must not reach the next.
  const fleet = `test-${process.pid}-${++rigCount}`;
  const publisher: TelemetryPublisher = new TelemetryPublisher({
    url,
    terminalId: TERMINAL_ID,
    fleet,
    clientId: `pos-${fleet}`,
    healthIntervalMs: 60_000,
    reconnect: { initialDelayMs: 1_000, maxDelayMs: 1_000 },
    random: () => 1,
    commands: ['run-self-test', 'send-health', 'rebirth'],
    maxCommandBytes: 4096,
    commandKey: TEST_COMMAND_KEY,
    onCommand: (command) => commands(command),
    outboxMaxMessages: 10_000,
    birth: {
      firmwareVersion: '0.1.0',
      configVersion: 'abc123',
      capabilities: ['chip', 'printer'],
      model: 'test-board',
    },
    boot: { reason: 'clean', atMs: clock.now() },
    dataDir: dir,
    journal,
    anomalies,
    source: terminal,
    clock,
    log,
    ...overrides,
  });
  const commands = createFleetCommandHandler({ commands: fakeCommandService(terminal), telemetry: publisher });
  return {
    clock,
    journal,
    anomalies,
    terminal,
    publisher,
    dir,
    fleet,
    async close() {
      await publisher.stop();
      journal.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Received {
  topic: string;
  kind: TopicKind;
  /** Delivered from the broker's retained store on subscribe, not live. */
  retained: boolean;
  qos: number;
  payload: Buffer;
  message: Record<string, unknown> & {
    header?: { bootId: string; seq: number; terminalId: string; fleet: string; sentAtMs: number };
  };
}

const DECODERS: Record<
  TopicKind,
  { decode(b: Uint8Array): unknown; toObject(m: never, o: object): Record<string, unknown> }
> = {
  birth: wire.Birth as never,
  health: wire.Health as never,
  event: wire.Event as never,
  state: wire.State as never,
  cmd: wire.Command as never,
  'cmd-result': wire.CommandResult as never,
};

export function decode(kind: TopicKind, payload: Uint8Array): Received['message'] {
  const d = DECODERS[kind];
  return d.toObject(d.decode(payload) as never, {
    longs: Number,
    enums: String,
    defaults: true,
    arrays: true,
  }) as Received['message'];
}

/**
 * The fleet side of the tests: subscribes to pos/v1/<fleet>/<terminal>/# at QoS 1 and keeps what arrives. It
 * reconnects by itself (real time: it is the observer, not the system under test) and subscribes again.
 */
export class Consumer {
  readonly received: Received[] = [];
  subscriptions = 0;
  private readonly client: MqttClient;

  private constructor(client: MqttClient) {
    this.client = client;
  }

  static async connect(url: string, topicFilter: string, options: IClientOptions = {}): Promise<Consumer> {
    const client = connect(url, {
      protocolVersion: 4,
      reconnectPeriod: 50,
      resubscribe: false,
      connectTimeout: 2_000,
      ...options,
    });
    const consumer = new Consumer(client);
    client.on('error', () => {});
    client.on('connect', () => {
      client.subscribe(topicFilter, { qos: 1 }, (err) => {
        if (!err) consumer.subscriptions += 1;
      });
    });
    client.on('message', (topic, payload, packet) => {
      const parsed = parseTelemetryTopic(topic);
      // Commands are the fleet's own (and some tests send garbage on purpose).
      if (!parsed || parsed.kind === 'cmd') return;
      consumer.received.push({
        topic,
        kind: parsed.kind,
        retained: packet.retain,
        qos: packet.qos,
        payload: Buffer.from(payload),
        message: decode(parsed.kind, payload),
      });
    });
    await until(() => consumer.subscriptions > 0, `consumer subscribed on ${url}`);
    return consumer;
  }

  of(kind: TopicKind): Received[] {
    return this.received.filter((r) => r.kind === kind);
  }

  publish(topic: string, payload: Uint8Array, options: { retain?: boolean } = {}): Promise<void> {
    return new Promise((resolve, reject) =>
      this.client.publish(topic, Buffer.from(payload), { qos: 1, retain: options.retain ?? false }, (err) =>
        err ? reject(err) : resolve(),
      ),
    );
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.client.end(true, {}, () => resolve()));
  }
}

export function topicFilter(rig: Rig): string {
  return `pos/v1/${rig.fleet}/${TERMINAL_ID}/#`;
}

/**
 * "Gap detection quiet", as a fleet consumer checks it: within one boot id, over everything delivered live (not
 * retained-on-subscribe, not the will's seq 0), the seqs seen, de-duplicated, run 1..max; a seq that never arrived
 * is a gap. The only gaps allowed are the messages the terminal itself reports dropped in Health.
 */
export function gapReport(received: readonly Received[], bootId: string) {
  const live = received.filter(
    (r) => !r.retained && r.message.header?.bootId === bootId && (r.message.header?.seq ?? 0) > 0,
  );
  const seqs = live.map((r) => r.message.header!.seq);
  const unique = [...new Set(seqs)];
  const max = Math.max(0, ...unique);
  const seen = new Set(unique);
  const missing: number[] = [];
  for (let s = 1; s <= max; s++) if (!seen.has(s)) missing.push(s);
  // A connection's Birth is sent ahead of the backlog queued before it (the proto's Header): the rest rise.
  const rest = live.filter((r) => r.kind !== 'birth').map((r) => r.message.header!.seq);
  let increasing = true;
  for (let i = 1; i < rest.length; i++) if (rest[i]! <= rest[i - 1]!) increasing = false;
  const healths = live.filter((r) => r.kind === 'health');
  const lastHealth = healths.at(-1)?.message as { telemetryDropped?: number; eventsDropped?: number } | undefined;
  return {
    max,
    missing,
    duplicates: seqs.length - unique.length,
    /** Arrival order matches seq order (duplicates aside). */
    increasing,
    reportedDropped: (lastHealth?.telemetryDropped ?? 0) + (lastHealth?.eventsDropped ?? 0),
  };
}
