/**
 * The telemetry publisher: Birth, State, Health, Event and CommandResult on MQTT (protobuf, QoS 1).
 *
 * Every message is made once, with the next seq of this boot, and written to the journal's outbox (a local SQLite
 * insert: the only cost a sale ever pays). The MQTT session (session.ts) sends the outbox in order; while the broker
 * is away the outbox is bounded: old health goes first. Health facts come from the sampler (health-sampler.ts);
 * fleet commands are checked and handed to the terminal's handler (command-intake.ts).
 *
 * On connect: subscribe to cmd, Birth is sent at once (the first message of every connection, ahead of any
 * backlog), then State online (retained) and Health join the queue. Health made while the broker is away is marked
 * historical; Health asked for by changes is coalesced (health-coalescer.ts).
 */
import { randomUUID } from 'node:crypto';
import type { TimerHandle } from '../../hal/clock.js';
import type { RaisedAnomaly } from '../anomaly/recorder.js';
import type { OutboxKind } from '../journal/index.js';
import type { TerminalChange } from '../terminal/terminal.js';
import { BOOT_REASON_WIRE } from './boot-marker.js';
import { type CommandOutcome, receiveCommand } from './command-intake.js';
import { CommandMemory } from './command-memory.js';
import { HealthCoalescer } from './health-coalescer.js';
import type { pos } from './generated/telemetry.js';
import { HealthSampler } from './health-sampler.js';
import {
  anomalyEventBody,
  assertPublishable,
  healthBody,
  type LifecycleName,
  lifecycleEventBody,
  scrubCardData,
} from './messages.js';
import { MqttSession } from './session.js';
import { type TopicKind, telemetryTopics, type WireHeader, wire } from './wire.js';

import type { PublisherStats, TelemetryPublisherOptions } from './publisher-options.js';

export type { BirthFacts, PublisherStats, TelemetryPublisherOptions, TelemetrySource } from './publisher-options.js';

export class TelemetryPublisher {
  readonly bootId: string;
  readonly topics: Record<TopicKind, string>;
  private readonly o: TelemetryPublisherOptions;
  private readonly session: MqttSession;
  private readonly health: HealthSampler;
  private seq = 0;
  private started = false;
  private stopped = false;
  private stopping: Promise<void> | undefined;
  private healthTimer: TimerHandle | undefined;
  private readonly coalescer: HealthCoalescer;
  private readonly commandIds: CommandMemory;
  private readonly dropped = { health: 0, other: 0 };
  private dropReportedThisOutage = false;
  private readonly unsubscribers: Array<() => void> = [];
  private readonly connectListeners = new Set<(session: number) => void>();

  constructor(options: TelemetryPublisherOptions) {
    this.o = options;
    this.bootId = options.bootId ?? randomUUID();
    this.topics = telemetryTopics(options.fleet, options.terminalId);
    const { url, terminalId, fleet, clientId, username, password, tls, connectTimeoutMs, keepaliveS } = options;
    const { reconnect, maxInflight, random, clock, log } = options;
    this.session = new MqttSession(
      {
        url,
        terminalId,
        fleet,
        clientId,
        username,
        password,
        tls,
        connectTimeoutMs,
        keepaliveS,
        reconnect,
        maxInflight,
        random,
        clock,
        log,
        bootId: this.bootId,
        topics: this.topics,
        outbox: options.journal.outbox,
      },
      {
        connected: (session) => this.onConnected(session),
        command: (payload, retained) => this.onCommandPayload(payload, retained),
        consumers: () => this.requestHealth(),
        // The backlog is gone: the outage is over, so a later one reports its drops again.
        backlogEmpty: () => {
          this.dropReportedThisOutage = false;
        },
      },
    );
    this.coalescer = new HealthCoalescer({
      clock,
      burstMs: options.healthBurstMs ?? 500,
      minSpacingMs: options.healthMinSpacingMs ?? 2_000,
      publish: () => {
        if (!this.stopped) this.publishHealth();
      },
    });
    this.commandIds = new CommandMemory({
      ...(options.commandIdsFile ? { file: options.commandIdsFile } : {}),
      keepMs: 2 * this.commandMaxAgeMs,
      clock,
      log,
    });
    this.health = new HealthSampler({
      source: options.source,
      clock,
      bootedAtMs: options.boot.atMs,
      dataDir: options.dataDir,
      network: options.network,
      probe: options.probe,
    });
  }

  get connected(): boolean {
    return this.session.connected;
  }

  /** pos-fleet consumers seen online (their retained presence). */
  get fleetConsumersOnline(): number {
    return this.session.consumersOnline;
  }

  private get commandMaxAgeMs(): number {
    return this.o.commandMaxAgeMs ?? 5 * 60_000;
  }

  stats(): PublisherStats {
    return {
      connected: this.connected,
      session: this.session.number,
      lastSeq: this.seq,
      outboxDepth: this.session.outboxDepth(),
      inflight: this.session.inflightCount,
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
    this.health.begin();
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
    this.session.start();
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
    this.coalescer.cancel();
    this.session.cancelReconnect();
    this.lifecycle('shutdown', 'shutdown: clean stop', 'info');
    this.publishState(false, 'shutdown', this.session.number);
    if (this.session.connected) await this.session.drained(this.o.flushTimeoutMs ?? 2_000);
    this.stopped = true;
    await this.session.close();
  }

  /** Health now (interval, change, command). */
  publishHealth(): void {
    this.coalescer.sent();
    const facts = this.health.sample({ dropped: this.dropped, outboxDepth: this.session.outboxDepth() });
    // Made while the broker is away, it reaches the fleet after the Health of the next connection was made.
    const historical = !this.session.connected;
    const fleetConsumersOnline = this.session.consumersOnline;
    this.enqueue('health', 'health', (header) => {
      const body = { header, ...healthBody(facts), historical, fleetConsumersOnline };
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
    return this.session.drained(limitMs);
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
    this.session.wake();
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

  private publishState(online: boolean, reason: string, session: number): void {
    this.enqueue('state', 'state', (header) => wire.State.encode({ header, online, reason, session }).finish(), true);
  }

  /** Through the outbox (rebirth), or with `first` straight ahead of the backlog (a new connection). */
  private publishBirth(first = false): void {
    if (!first) {
      this.enqueue('birth', 'birth', (header) => this.encodeBirth(header));
      return;
    }
    const seq = ++this.seq;
    const { terminalId, fleet, clock } = this.o;
    const payload = this.encodeBirth({ terminalId, fleet, bootId: this.bootId, seq, sentAtMs: clock.now() });
    this.session.sendFirst(this.topics.birth, payload, (err) => {
      // Lost with its connection: a seq the fleet never sees, accounted for like a drop.
      if (err) this.dropped.other += 1;
    });
  }

  private encodeBirth(header: WireHeader): Uint8Array {
    const { birth, boot } = this.o;
    return wire.Birth.encode({
      header,
      firmwareVersion: birth.firmwareVersion,
      configVersion: birth.configVersion,
      capabilities: birth.capabilities,
      bootReason: BOOT_REASON_WIRE[boot.reason],
      bootedAtMs: boot.atMs,
      model: birth.model,
      session: this.session.number,
      healthIntervalMs: this.o.healthIntervalMs,
    }).finish();
  }

  private publishResult(
    command: { commandId: string; wireName: pos.telemetry.v1.CommandName },
    { ok, error, message }: CommandOutcome,
  ): void {
    this.enqueue('cmd-result', 'cmd-result', (header) => {
      const result = {
        header,
        commandId: command.commandId,
        name: command.wireName,
        ok,
        error,
        message: scrubCardData(message),
      };
      assertPublishable(result, 'command result');
      return wire.CommandResult.encode(result).finish();
    });
  }

  // ---- what the session tells us ----

  private onConnected(session: number): void {
    // Birth first, ahead of what the outage left queued; then State and Health behind that backlog, in seq order.
    this.publishBirth(true);
    this.publishState(true, 'connected', session);
    this.publishHealth();
    for (const listener of this.connectListeners) listener(session);
  }

  private onCommandPayload(payload: Buffer, retained: boolean): void {
    receiveCommand(payload, {
      allowed: this.o.commands,
      maxBytes: this.o.maxCommandBytes,
      key: this.o.commandKey,
      terminalId: this.o.terminalId,
      fleet: this.o.fleet,
      now: this.o.clock.now(),
      maxAgeMs: this.commandMaxAgeMs,
      retained,
      memory: this.commandIds,
      handler: this.o.onCommand,
      anomalies: this.o.anomalies,
      log: this.o.log,
      answer: (command, outcome) => this.publishResult(command, outcome),
    });
  }

  // ---- what the terminal tells us ----

  private onTerminalChange(change: TerminalChange): void {
    if (change.type === 'transaction') {
      this.health.countOutcome(change.output.outcome);
      return;
    }
    if (change.type === 'self-test') {
      if (this.health.noteSelfTest(change.report)) this.requestHealth();
      return;
    }
    const { state, previous } = change;
    this.health.noteState(state);
    // A sale's start is not news: its end (back to ready, with the outcome counted) is.
    const quiet = state === 'transacting';
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
    if (!quiet) this.requestHealth();
  }

  /** A burst of changes (boot runs through states quickly, a sale) makes one Health with the latest state. */
  private requestHealth(): void {
    if (!this.stopped) this.coalescer.request();
  }

  private onAnomaly(raised: RaisedAnomaly): void {
    this.health.countAnomaly(raised.definition.code);
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
}
