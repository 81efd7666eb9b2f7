/**
 * The telemetry publisher: Birth, State, Health, Event and CommandResult on MQTT (protobuf, QoS 1).
 *
 * Every message is made once, with the next seq of this boot, and written to the journal's outbox (a local SQLite
 * insert: the only cost a sale ever pays). A sender takes rows from the outbox in id order while the broker is
 * connected and deletes each one only after its PUBACK, so messages arrive in seq order, at least once, across
 * broker outages and restarts of this process. While the broker is away the outbox is bounded: old health goes first.
 *
 * Connections are made here (not by mqtt.js's own reconnect) so each one registers a fresh will and retries follow
 * the injected Clock. On connect: subscribe to cmd, then Birth, State online (retained) and Health join the queue.
 */
import { randomUUID } from 'node:crypto';
import { statfsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { backoffDelay, type BackoffPolicy } from '../../hal/backoff.js';
import type { Clock, TimerHandle } from '../../hal/clock.js';
import type { NetworkState } from '../../hal/network/contract.js';
import type { AnomalyRecorder, RaisedAnomaly } from '../anomaly/recorder.js';
import type { Journal, OutboxKind } from '../journal/index.js';
import type { ProbeResult } from '../selftest/host-probe.js';
import type { SelfTestReport } from '../selftest/selftest.js';
import type { TerminalChange, TerminalStatus } from '../terminal/terminal.js';
import { TerminalError } from '../terminal/terminal.js';
import type { Logger } from '../util/log.js';
import { BOOT_REASON_WIRE, type BootReasonName } from './boot-marker.js';
import { checkCommand } from './commands.js';
import {
  anomalyEventBody,
  assertPublishable,
  componentSignature,
  healthBody,
  lifecycleEventBody,
  scrubCardData,
  type LifecycleName,
} from './messages.js';
import { telemetryTopics, wire, type CommandNameText, type TopicKind, type WireHeader } from './wire.js';

/** What the publisher needs of the terminal (the Terminal class has it all). */
export interface TelemetrySource {
  status(): TerminalStatus;
  readonly lastSelfTest: SelfTestReport | undefined;
  readonly lastRecovery?: { recovered: number; durationMs: number } | undefined;
  selfTest(): Promise<SelfTestReport>;
  unlock(): void;
  onChange(listener: (change: TerminalChange) => void): () => void;
}

export interface BirthFacts {
  firmwareVersion: string;
  configVersion: string;
  capabilities: string[];
  model: string;
}

export interface TelemetryPublisherOptions {
  url: string;
  terminalId: string;
  fleet: string;
  /** Default: pos-<fleet>-<terminalId>. */
  clientId?: string | null;
  username?: string | null;
  password?: string | null;
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized: boolean };
  healthIntervalMs: number;
  connectTimeoutMs?: number;
  keepaliveS?: number;
  reconnect?: BackoffPolicy;
  /** Allow-list of fleet commands. */
  commands: readonly string[];
  maxCommandBytes: number;
  outboxMaxMessages: number;
  /** Messages handed to the broker before their PUBACKs come back. */
  maxInflight?: number;
  /** How long stop() waits for the outbox to reach the broker before it disconnects anyway (real time). */
  flushTimeoutMs?: number;
  birth: BirthFacts;
  boot: { reason: BootReasonName; atMs: number };
  /** Default: a random UUID for this process. */
  bootId?: string;
  /** For disk free in Health. */
  dataDir?: string;
  journal: Journal;
  anomalies: AnomalyRecorder;
  source: TelemetrySource;
  clock: Clock;
  log: Logger;
  network?: { current(): NetworkState };
  probe?: { last(): ProbeResult | undefined };
  random?: () => number;
}

export interface PublisherStats {
  connected: boolean;
  session: number;
  lastSeq: number;
  outboxDepth: number;
  inflight: number;
  dropped: { health: number; other: number };
}

type Waiter = () => void;

const DEFAULT_RECONNECT: BackoffPolicy = { initialDelayMs: 1_000, maxDelayMs: 60_000 };

export class TelemetryPublisher {
  readonly bootId: string;
  readonly topics: Record<TopicKind, string>;
  private readonly o: TelemetryPublisherOptions;
  private seq = 0;
  private session = 0;
  private client: MqttClient | undefined;
  /** The client whose CONNACK arrived: only it may send. */
  private live: MqttClient | undefined;
  private started = false;
  private stopped = false;
  private stopping: Promise<void> | undefined;
  private attempts = 0;
  private reconnectTimer: TimerHandle | undefined;
  private healthTimer: TimerHandle | undefined;
  private readonly inflight = new Set<number>();
  private lastHandedId = 0;
  private acked: number[] = [];
  private flushScheduled = false;
  private pumpScheduled = false;
  private healthQueued = false;
  private readonly dropped = { health: 0, other: 0 };
  private dropReportedThisOutage = false;
  private readonly outcomes = new Map<string, number>();
  private readonly anomalyCounts = new Map<string, number>();
  private booted = false;
  private components = '';
  private cpu = { usage: process.cpuUsage(), at: performance.now() };
  private readonly unsubscribers: Array<() => void> = [];
  private drainWaiters: Waiter[] = [];
  private readonly connectListeners = new Set<(session: number) => void>();

  constructor(options: TelemetryPublisherOptions) {
    this.o = options;
    this.bootId = options.bootId ?? randomUUID();
    this.topics = telemetryTopics(options.fleet, options.terminalId);
  }

  get connected(): boolean {
    return this.live !== undefined;
  }

  stats(): PublisherStats {
    return {
      connected: this.connected,
      session: this.session,
      lastSeq: this.seq,
      outboxDepth: this.outboxDepth(),
      inflight: this.inflight.size,
      dropped: { ...this.dropped },
    };
  }

  /** Told after each CONNACK, with the session number. */
  onConnect(listener: (session: number) => void): () => void {
    this.connectListeners.add(listener);
    return () => this.connectListeners.delete(listener);
  }

  /** Begins listening to the terminal, queues the boot event, schedules Health and connects. Returns at once. */
  start(): void {
    if (this.started) return;
    this.started = true;
    const { source, anomalies } = this.o;
    this.components = componentSignature(source.lastSelfTest);
    this.unsubscribers.push(
      source.onChange((change) => this.onTerminalChange(change)),
      anomalies.onAnomaly((raised) => this.onAnomaly(raised)),
    );
    const reason = this.o.boot.reason;
    const unclean = reason === 'crash' || reason === 'power-loss';
    this.lifecycle(
      'boot',
      `boot: ${reason}${unclean ? ' (the previous run did not stop cleanly)' : ''}`,
      unclean ? 'warning' : 'info',
    );
    this.scheduleHealth();
    this.connectNow();
  }

  /**
   * Clean stop: shutdown event and State offline are queued, the outbox is given up to flushTimeoutMs to reach the
   * broker, then a clean DISCONNECT (so the broker drops the will). Whatever is left stays queued for the next run.
   */
  stop(): Promise<void> {
    if (!this.started) return Promise.resolve();
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    for (const unsubscribe of this.unsubscribers.splice(0)) unsubscribe();
    this.healthTimer?.cancel();
    this.reconnectTimer?.cancel();
    this.lifecycle('shutdown', 'shutdown: clean stop', 'info');
    this.enqueue(
      'state',
      'state',
      (header) => wire.State.encode({ header, online: false, reason: 'shutdown', session: this.session }).finish(),
      true,
    );
    if (this.live) await this.drained(this.o.flushTimeoutMs ?? 2_000);
    this.stopped = true;
    // A connection lost during the wait may have scheduled a retry.
    this.reconnectTimer?.cancel();
    this.flushAcked();
    const client = this.client;
    // Waiting on a broker that stopped answering would hang the stop: then the connection is just cut.
    const clean = this.live !== undefined && this.inflight.size === 0;
    if (client) await endClient(client, !clean);
    this.client = undefined;
    this.live = undefined;
    this.flushAcked();
    for (const wake of this.drainWaiters.splice(0)) wake();
  }

  /** Health now (interval, change, command). */
  publishHealth(): void {
    this.healthQueued = false;
    const facts = this.healthFacts();
    this.enqueue('health', 'health', (header) => {
      const body = { header, ...healthBody(facts) };
      assertPublishable(body, 'health');
      return wire.Health.encode(body).finish();
    });
  }

  /** Birth again, as on a connect (the rebirth command). */
  rebirth(): void {
    this.publishBirth();
    this.publishHealth();
  }

  /** Resolves once everything queued so far has been acknowledged by the broker, or after `limitMs` of real time. */
  drained(limitMs: number): Promise<void> {
    if (this.outboxDepth() === 0 && this.inflight.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      // Real time on purpose: this bounds a wait on the network at shutdown, not terminal behaviour.
      const timer = setTimeout(done, limitMs);
      timer.unref?.();
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.drainWaiters.push(done);
    });
  }

  // ---- making messages ----

  /** Every message goes through here: next seq, encode, local insert; the sender is woken, never awaited. */
  private enqueue(
    kind: OutboxKind,
    topic: TopicKind,
    encode: (header: WireHeader) => Uint8Array,
    retain = false,
  ): void {
    const seq = ++this.seq;
    const header: WireHeader = {
      terminalId: this.o.terminalId,
      fleet: this.o.fleet,
      bootId: this.bootId,
      seq,
      sentAtMs: this.o.clock.now(),
    };
    try {
      const payload = encode(header);
      const result = this.o.journal.outbox.append(
        { kind, topic: this.topics[topic], payload, retain, bootId: this.bootId, seq },
        this.o.outboxMaxMessages,
      );
      this.noteDrops(result.dropped);
    } catch (err) {
      // Lost before it was stored (journal closed, storage fault): counted, so the gap in seq is explained.
      if (kind === 'health') this.dropped.health += 1;
      else this.dropped.other += 1;
      this.o.log.error({ err, kind, seq }, 'telemetry message could not be queued');
      return;
    }
    this.schedulePump();
  }

  private noteDrops(dropped: { health: number; other: number }): void {
    if (dropped.health === 0 && dropped.other === 0) return;
    this.dropped.health += dropped.health;
    this.dropped.other += dropped.other;
    this.o.log.warn({ dropped, total: this.dropped }, 'telemetry outbox full: oldest messages dropped');
    if (this.dropReportedThisOutage) return;
    this.dropReportedThisOutage = true;
    const what =
      dropped.other > 0
        ? `${dropped.health} health and ${dropped.other} other messages`
        : `${dropped.health} health messages`;
    this.o.anomalies.raise(
      'system-fault',
      {
        reason: `telemetry outbox full (${this.o.outboxMaxMessages} messages) while the broker is away: ${what} dropped`,
        detail: { telemetryDropped: this.dropped.health, eventsDropped: this.dropped.other },
      },
      { show: false },
    );
  }

  private lifecycle(name: LifecycleName, message: string, level: 'info' | 'warning'): void {
    const body = lifecycleEventBody(name, message, level, this.o.clock.now());
    this.enqueue('event', 'event', (header) => {
      const event = { header, ...body };
      assertPublishable(event, 'event');
      return wire.Event.encode(event).finish();
    });
  }

  private publishBirth(): void {
    const { birth, boot } = this.o;
    this.enqueue('birth', 'birth', (header) =>
      wire.Birth.encode({
        header,
        firmwareVersion: birth.firmwareVersion,
        configVersion: birth.configVersion,
        capabilities: birth.capabilities,
        bootReason: BOOT_REASON_WIRE[boot.reason],
        bootedAtMs: boot.atMs,
        model: birth.model,
        session: this.session,
        healthIntervalMs: this.o.healthIntervalMs,
      }).finish(),
    );
  }

  private publishResult(
    check: { commandId: string; wireName: number },
    ok: boolean,
    error: number,
    message: string,
  ): void {
    this.enqueue('cmd-result', 'cmd-result', (header) => {
      const result = {
        header,
        commandId: check.commandId,
        name: check.wireName,
        ok,
        error,
        message: scrubCardData(message),
      };
      assertPublishable(result, 'command result');
      return wire.CommandResult.encode(result).finish();
    });
  }

  private healthFacts() {
    const { source } = this.o;
    const memory = process.memoryUsage();
    const now = performance.now();
    const usage = process.cpuUsage();
    const cpuMs = (usage.user - this.cpu.usage.user + usage.system - this.cpu.usage.system) / 1000;
    const wallMs = now - this.cpu.at;
    this.cpu = { usage, at: now };
    return {
      status: source.status(),
      booted: this.booted,
      selfTest: source.lastSelfTest,
      outcomes: this.outcomes,
      anomalies: this.anomalyCounts,
      network: this.o.network?.current(),
      hostRttMs: this.o.probe?.last()?.rttMs,
      resources: {
        rssBytes: memory.rss,
        heapUsedBytes: memory.heapUsed,
        cpuPercent: wallMs > 0 ? Math.round((cpuMs / wallMs) * 1000) / 10 : 0,
        diskFreeBytes: this.diskFree(),
        uptimeS: Math.max(0, Math.floor((this.o.clock.now() - this.o.boot.atMs) / 1000)),
      },
      dropped: { ...this.dropped },
      outboxDepth: this.outboxDepth(),
    };
  }

  private diskFree(): number {
    if (!this.o.dataDir) return 0;
    try {
      const fs = statfsSync(this.o.dataDir);
      return fs.bavail * fs.bsize;
    } catch {
      return 0;
    }
  }

  private outboxDepth(): number {
    try {
      return this.o.journal.outbox.stats().depth;
    } catch {
      return 0;
    }
  }

  // ---- what the terminal tells us ----

  private onTerminalChange(change: TerminalChange): void {
    if (change.type === 'transaction') {
      this.outcomes.set(change.output.outcome, (this.outcomes.get(change.output.outcome) ?? 0) + 1);
      return;
    }
    if (change.type === 'self-test') {
      const signature = componentSignature(change.report);
      if (signature !== this.components) {
        this.components = signature;
        this.requestHealth();
      }
      return;
    }
    const { state, previous } = change;
    if (state === 'ready' || state === 'degraded' || state === 'locked') this.booted = true;
    if (previous === 'recovering') {
      const r = this.o.source.lastRecovery;
      this.lifecycle(
        'recovery-done',
        r ? `recovery done: ${r.recovered} unfinished transaction(s) settled in ${r.durationMs} ms` : 'recovery done',
        'info',
      );
    }
    if (state === 'locked' && previous !== 'locked') {
      this.lifecycle(
        'lock',
        `locked: ${this.o.source.status().lockReasons.join('; ') || 'no reason given'}`,
        'warning',
      );
    }
    if (previous === 'locked' && state !== 'locked') this.lifecycle('unlock', 'unlocked', 'info');
    this.requestHealth();
  }

  /** Several changes in one turn (boot runs through states quickly) make one Health with the latest state. */
  private requestHealth(): void {
    if (this.healthQueued || this.stopped) return;
    this.healthQueued = true;
    queueMicrotask(() => {
      if (this.healthQueued && !this.stopped) this.publishHealth();
    });
  }

  private onAnomaly(raised: RaisedAnomaly): void {
    const code = raised.definition.code;
    this.anomalyCounts.set(code, (this.anomalyCounts.get(code) ?? 0) + 1);
    const body = anomalyEventBody(raised, this.o.clock.now());
    this.enqueue('event', 'event', (header) => {
      const event = { header, ...body };
      assertPublishable(event, 'event');
      return wire.Event.encode(event).finish();
    });
  }

  private scheduleHealth(): void {
    this.healthTimer = this.o.clock.setTimeout(() => {
      if (this.stopped) return;
      this.publishHealth();
      this.scheduleHealth();
    }, this.o.healthIntervalMs);
  }

  // ---- connection ----

  private connectNow(): void {
    if (this.stopped) return;
    this.session += 1;
    const session = this.session;
    const o = this.o;
    // The will is made now, so it cannot take a place in the sequence: seq 0 (see the proto).
    const will = wire.State.encode({
      header: { terminalId: o.terminalId, fleet: o.fleet, bootId: this.bootId, seq: 0, sentAtMs: o.clock.now() },
      online: false,
      reason: 'connection lost',
      session,
    }).finish();
    const options: IClientOptions = {
      clientId: o.clientId ?? `pos-${o.fleet}-${o.terminalId}`,
      clean: true,
      protocolVersion: 4,
      keepalive: o.keepaliveS ?? 30,
      connectTimeout: o.connectTimeoutMs ?? 10_000,
      reconnectPeriod: 0,
      resubscribe: false,
      // The default pre-builds 65,536 two-byte Buffers (about 8 MB of heap, kept for good) to save one tiny allocation
      // per packet; a terminal sends a few messages a minute. The switch is process-wide: the embedded broker too.
      writeCache: false,
      will: { topic: this.topics.state, payload: Buffer.from(will), qos: 1, retain: true },
      ...(o.username ? { username: o.username } : {}),
      ...(o.password ? { password: o.password } : {}),
      ...(o.tls
        ? {
            ...(o.tls.ca ? { ca: o.tls.ca } : {}),
            ...(o.tls.cert ? { cert: o.tls.cert } : {}),
            ...(o.tls.key ? { key: o.tls.key } : {}),
            rejectUnauthorized: o.tls.rejectUnauthorized,
          }
        : {}),
    };
    let client: MqttClient;
    try {
      client = connect(o.url, options);
    } catch (err) {
      o.log.error({ err }, 'telemetry broker connection could not be set up');
      this.scheduleReconnect();
      return;
    }
    this.client = client;
    client.on('connect', () => this.onConnected(client, session));
    client.on('message', (topic, payload) => this.onMessage(client, topic, payload));
    client.on('error', (err) => o.log.debug({ err: err.message }, 'telemetry broker connection error'));
    client.on('close', () => this.onClosed(client));
  }

  private onConnected(client: MqttClient, session: number): void {
    if (this.client !== client || this.stopped) return;
    const wasOutage = this.attempts > 0 || session > 1;
    this.live = client;
    this.attempts = 0;
    this.inflight.clear();
    this.lastHandedId = 0;
    this.o.log.info(
      { url: this.o.url, session, outboxDepth: this.outboxDepth() },
      wasOutage ? 'telemetry broker reconnected' : 'telemetry broker connected',
    );
    client.subscribe(this.topics.cmd, { qos: 1 }, (err) => {
      if (err) this.o.log.warn({ err: err.message }, 'telemetry command subscription failed');
    });
    // Behind whatever the outage left queued: the sequence stays in order on the wire.
    this.publishBirth();
    this.enqueue(
      'state',
      'state',
      (header) => wire.State.encode({ header, online: true, reason: 'connected', session }).finish(),
      true,
    );
    this.publishHealth();
    for (const listener of this.connectListeners) listener(session);
  }

  private onClosed(client: MqttClient): void {
    if (this.client !== client || this.stopped) return;
    const wasLive = this.live === client;
    this.client = undefined;
    this.live = undefined;
    this.inflight.clear();
    client.removeAllListeners('connect');
    client.removeAllListeners('message');
    client.end(true);
    if (this.stopped) return;
    if (wasLive)
      this.o.log.warn(
        { url: this.o.url, outboxDepth: this.outboxDepth() },
        'telemetry broker connection lost; queueing on disk',
      );
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    this.attempts += 1;
    const delay = backoffDelay(this.attempts, this.o.reconnect ?? DEFAULT_RECONNECT, this.o.random);
    this.reconnectTimer?.cancel();
    this.reconnectTimer = this.o.clock.setTimeout(() => this.connectNow(), delay);
  }

  // ---- sending ----

  private schedulePump(): void {
    if (this.pumpScheduled || !this.live) return;
    this.pumpScheduled = true;
    // Off the caller's stack: a sale that raised an anomaly never waits for a socket write.
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    const client = this.live;
    if (!client) return;
    const room = (this.o.maxInflight ?? 64) - this.inflight.size;
    if (room <= 0) return;
    let rows;
    try {
      rows = this.o.journal.outbox.peek(this.lastHandedId, room);
    } catch (err) {
      this.o.log.error({ err }, 'telemetry outbox could not be read');
      return;
    }
    for (const row of rows) {
      this.inflight.add(row.id);
      this.lastHandedId = row.id;
      client.publish(row.topic, row.payload, { qos: 1, retain: row.retain }, (err) => this.onAck(client, row.id, err));
    }
    if (rows.length === 0 && this.inflight.size === 0) {
      // The backlog is gone: the outage is over, so a later one reports its drops again.
      this.dropReportedThisOutage = false;
      this.wakeDrainWaiters();
    }
  }

  private onAck(client: MqttClient, id: number, err: Error | undefined): void {
    // An error means the connection went: the row stays and is sent again on the next connection.
    if (this.live !== client || err) return;
    this.inflight.delete(id);
    this.acked.push(id);
    // While stopping, stop() removes them itself before the journal closes.
    if (this.flushScheduled || this.stopped) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flushAcked();
      this.pump();
    });
  }

  /** One commit for a run of PUBACKs. */
  private flushAcked(): void {
    const ids = this.acked.splice(0);
    if (ids.length === 0) return;
    try {
      this.o.journal.outbox.remove(ids);
    } catch (err) {
      // Left in the outbox, they are sent again: a duplicate seq the consumer drops, never a loss.
      this.o.log.error({ err }, 'sent telemetry could not be removed from the outbox');
    }
  }

  private wakeDrainWaiters(): void {
    for (const wake of this.drainWaiters.splice(0)) wake();
  }

  // ---- fleet commands ----

  private onMessage(client: MqttClient, topic: string, payload: Buffer): void {
    if (this.live !== client || topic !== this.topics.cmd) return;
    const check = checkCommand(payload, { maxBytes: this.o.maxCommandBytes, allowed: this.o.commands });
    if (!check.ok) {
      this.o.log.warn(
        { error: check.error, commandId: check.commandId, issuedBy: check.issuedBy },
        `fleet command refused: ${check.message}`,
      );
      this.o.anomalies.raise(
        check.anomaly,
        {
          reason: `fleet command${check.commandId ? ` ${check.commandId}` : ''}${check.issuedBy ? ` from ${check.issuedBy}` : ''}: ${check.message}`,
        },
        { show: false },
      );
      this.publishResult(check, false, check.error, check.message);
      return;
    }
    this.o.log.info({ command: check.name, commandId: check.commandId, issuedBy: check.issuedBy }, 'fleet command');
    void this.runCommand(check.name).then(({ ok, error, message }) => this.publishResult(check, ok, error, message));
  }

  private async runCommand(name: CommandNameText): Promise<{ ok: boolean; error: number; message: string }> {
    const { CommandError } = wire;
    const done = (message: string) => ({ ok: true, error: CommandError.COMMAND_ERROR_NONE, message });
    const state = this.o.source.status().state;
    switch (name) {
      case 'send-health':
        this.publishHealth();
        return done('health sent');
      case 'rebirth':
        this.rebirth();
        return done('birth sent');
      case 'unlock':
        if (state === 'transacting')
          return { ok: false, error: CommandError.COMMAND_ERROR_BUSY, message: 'a transaction is in progress' };
        if (state !== 'locked') return done(`not locked (${state})`);
        this.o.source.unlock();
        return done('unlocked; self-test running');
      case 'run-self-test': {
        if (state === 'transacting')
          return { ok: false, error: CommandError.COMMAND_ERROR_BUSY, message: 'a transaction is in progress' };
        try {
          const report = await this.o.source.selfTest();
          const summary = report.results.map((r) => `${r.component} ${r.status}`).join(', ');
          return done(`self-test done in ${report.durationMs} ms: ${summary}; now ${this.o.source.status().state}`);
        } catch (err) {
          if (err instanceof TerminalError && err.code === 'busy')
            return { ok: false, error: CommandError.COMMAND_ERROR_BUSY, message: err.message };
          return {
            ok: false,
            error: CommandError.COMMAND_ERROR_FAILED,
            message: `self-test failed: ${(err as Error).message}`,
          };
        }
      }
    }
  }
}

function endClient(client: MqttClient, force: boolean): Promise<void> {
  return new Promise((resolve) => client.end(force, {}, () => resolve()));
}
