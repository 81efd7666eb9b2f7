/**
 * The MQTT session of the publisher: one connection at a time to the broker, each with a fresh last will, retries
 * on the injected Clock, the cmd subscription, and the sender that drains the journal's outbox.
 *
 * The sender takes rows from the outbox in id order while the broker is connected and deletes each one only after
 * its PUBACK, so messages arrive in seq order, at least once, across broker outages and restarts of this process.
 *
 * Connections are made here (not by mqtt.js's own reconnect) so each one registers a fresh will and retries follow
 * the injected Clock. What a connection means for the sequence (Birth, State online, Health) is the publisher's.
 */
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { backoffDelay, type BackoffPolicy } from '../../hal/backoff.js';
import type { Clock, TimerHandle } from '../../hal/clock.js';
import type { OutboxStore } from '../journal/index.js';
import type { Logger } from '../util/log.js';
import { fleetPresenceFilters, parseFleetPresenceTopic, type TopicKind, wire } from './wire.js';

export interface MqttSessionOptions {
  url: string;
  terminalId: string;
  fleet: string;
  bootId: string;
  topics: Record<TopicKind, string>;
  /** Default: pos-<fleet>-<terminalId>. */
  clientId?: string | null;
  username?: string | null;
  password?: string | null;
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized: boolean };
  connectTimeoutMs?: number;
  keepaliveS?: number;
  reconnect?: BackoffPolicy;
  /** Messages handed to the broker before their PUBACKs come back. */
  maxInflight?: number;
  /** The outbox the sender drains. */
  outbox: Pick<OutboxStore, 'peek' | 'remove' | 'stats'>;
  clock: Clock;
  log: Logger;
  random?: () => number;
}

export interface MqttSessionEvents {
  /** After each CONNACK (the subscription is asked for), with the session number. */
  connected(session: number): void;
  /** A payload on the cmd topic, from the live connection; `retained` when the broker's retained store sent it. */
  command(payload: Buffer, retained: boolean): void;
  /** The number of pos-fleet consumers seen online changed. */
  consumers?(online: number): void;
  /** Everything in the outbox has been acknowledged. */
  backlogEmpty(): void;
}

type Waiter = () => void;

const DEFAULT_RECONNECT: BackoffPolicy = { initialDelayMs: 1_000, maxDelayMs: 60_000 };

export class MqttSession {
  /** Connections that reached CONNACK in this boot: `session` in Birth and State counts connections, not tries. */
  private session = 0;
  /** pos-fleet consumers by client id, from their retained presence on this connection. */
  private readonly consumers = new Map<string, boolean>();
  private client: MqttClient | undefined;
  /** The client whose CONNACK arrived: only it may send. */
  private live: MqttClient | undefined;
  private stopped = false;
  private attempts = 0;
  private reconnectTimer: TimerHandle | undefined;
  private readonly inflight = new Set<number>();
  private lastHandedId = 0;
  private acked: number[] = [];
  private flushScheduled = false;
  private pumpScheduled = false;
  private drainWaiters: Waiter[] = [];

  constructor(
    private readonly o: MqttSessionOptions,
    private readonly events: MqttSessionEvents,
  ) {}

  get connected(): boolean {
    return this.live !== undefined;
  }

  /** Connection number within this boot (1 = first); the will of that connection carries the same. */
  get number(): number {
    return this.session;
  }

  /** pos-fleet consumers seen online on the live connection. */
  get consumersOnline(): number {
    let n = 0;
    for (const online of this.consumers.values()) if (online) n++;
    return n;
  }

  /**
   * Sends one message at once, ahead of the outbox (the Birth of a connection). Not stored: a lost one belongs to a
   * connection that is gone, and the next connection sends its own. `done` gets the PUBACK or the failure.
   */
  sendFirst(topic: string, payload: Uint8Array, done: (err: Error | undefined) => void): void {
    const client = this.live;
    if (!client) {
      done(new Error('not connected'));
      return;
    }
    client.publish(topic, Buffer.from(payload), { qos: 1, retain: false }, (err) => done(err));
  }

  get inflightCount(): number {
    return this.inflight.size;
  }

  outboxDepth(): number {
    try {
      return this.o.outbox.stats().depth;
    } catch {
      return 0;
    }
  }

  start(): void {
    this.connectNow();
  }

  /** Something was queued: the sender looks at the outbox soon (never on the caller's stack). */
  wake(): void {
    this.schedulePump();
  }

  /** No new connection attempt until one is asked for (stop in progress). */
  cancelReconnect(): void {
    this.reconnectTimer?.cancel();
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

  /** Ends the session: a clean DISCONNECT (the broker drops the will) when nothing is in flight, else a cut. */
  async close(): Promise<void> {
    this.stopped = true;
    // A connection lost during the drain may have scheduled a retry.
    this.reconnectTimer?.cancel();
    this.flushAcked();
    const client = this.client;
    // Waiting on a broker that stopped answering would hang the stop: then the connection is just cut.
    const clean = this.live !== undefined && this.inflight.size === 0;
    if (client) await endClient(client, !clean);
    this.client = undefined;
    this.live = undefined;
    this.flushAcked();
    this.wakeDrainWaiters();
  }

  // ---- connection ----

  private connectNow(): void {
    if (this.stopped) return;
    // The number this connection gets if it is accepted; a failed try does not use it up.
    const session = this.session + 1;
    const o = this.o;
    // The will is made now, so it cannot take a place in the sequence: seq 0 (see the proto).
    const will = wire.State.encode({
      header: { terminalId: o.terminalId, fleet: o.fleet, bootId: o.bootId, seq: 0, sentAtMs: o.clock.now() },
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
      will: { topic: o.topics.state, payload: Buffer.from(will), qos: 1, retain: true },
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
    client.on('message', (topic, payload, packet) => {
      if (this.live !== client) return;
      if (topic === o.topics.cmd) this.events.command(payload, packet.retain ?? false);
      else this.onPresence(topic, payload);
    });
    client.on('error', (err) => o.log.debug({ err: err.message }, 'telemetry broker connection error'));
    client.on('close', () => this.onClosed(client));
  }

  private onConnected(client: MqttClient, session: number): void {
    if (this.client !== client || this.stopped) return;
    const wasOutage = this.attempts > 0 || session > 1;
    this.session = session;
    this.live = client;
    this.setConsumers(new Map());
    this.attempts = 0;
    this.inflight.clear();
    this.lastHandedId = 0;
    this.o.log.info(
      { url: this.o.url, session, outboxDepth: this.outboxDepth() },
      wasOutage ? 'telemetry broker reconnected' : 'telemetry broker connected',
    );
    client.subscribe(this.o.topics.cmd, { qos: 1 }, (err) => {
      if (err) this.o.log.warn({ err: err.message }, 'telemetry command subscription failed');
    });
    client.subscribe(fleetPresenceFilters(this.o.fleet), { qos: 1 }, (err) => {
      if (err) this.o.log.debug({ err: err.message }, 'fleet presence subscription failed');
    });
    this.events.connected(session);
  }

  private onClosed(client: MqttClient): void {
    if (this.client !== client || this.stopped) return;
    const wasLive = this.live === client;
    this.client = undefined;
    this.live = undefined;
    this.inflight.clear();
    this.setConsumers(new Map());
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

  private onPresence(topic: string, payload: Buffer): void {
    const clientId = parseFleetPresenceTopic(topic);
    if (clientId === undefined) return;
    let online = false;
    try {
      // An empty payload is a cleared retained presence: that consumer is gone.
      online = payload.length > 0 && wire.FleetConsumerState.decode(payload).online === true;
    } catch {
      this.o.log.debug({ topic }, 'fleet presence does not decode');
    }
    const next = new Map(this.consumers);
    next.set(clientId, online);
    this.setConsumers(next);
  }

  private setConsumers(next: Map<string, boolean>): void {
    const before = this.consumersOnline;
    this.consumers.clear();
    for (const [id, online] of next) this.consumers.set(id, online);
    const after = this.consumersOnline;
    if (after !== before) {
      this.o.log.info({ consumers: after }, after > 0 ? 'fleet consumer online' : 'no fleet consumer online');
      this.events.consumers?.(after);
    }
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
    let rows: ReturnType<MqttSessionOptions['outbox']['peek']>;
    try {
      rows = this.o.outbox.peek(this.lastHandedId, room);
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
      this.events.backlogEmpty();
      this.wakeDrainWaiters();
    }
  }

  private onAck(client: MqttClient, id: number, err: Error | undefined): void {
    // An error means the connection went: the row stays and is sent again on the next connection.
    if (this.live !== client || err) return;
    this.inflight.delete(id);
    this.acked.push(id);
    // While stopping, close() removes them itself before the journal closes.
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
      this.o.outbox.remove(ids);
    } catch (err) {
      // Left in the outbox, they are sent again: a duplicate seq the consumer drops, never a loss.
      this.o.log.error({ err }, 'sent telemetry could not be removed from the outbox');
    }
  }

  private wakeDrainWaiters(): void {
    for (const wake of this.drainWaiters.splice(0)) wake();
  }
}

function endClient(client: MqttClient, force: boolean): Promise<void> {
  return new Promise((resolve) => client.end(force, {}, () => resolve()));
}
