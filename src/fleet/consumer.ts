/**
 * The MQTT side of the fleet consumer: connects to the broker (mqtt.js; plain, TLS with a private CA, client
 * certificates, user and password), subscribes to every terminal's telemetry (`pos/v1/<fleet|+>/+/+`, or as a
 * shared subscription `$share/<group>/…` so several consumers split the load on a clustered broker), decodes each
 * message and feeds FleetState and the alert engine. Fleet commands are sent by send-command.ts.
 *
 * The session is persistent: a stable client id (never random), clean = false and, with MQTT 5, a session expiry,
 * so what terminals publish while pos-fleet is away or reconnecting waits at the broker and is delivered in order.
 * pos-fleet publishes its presence retained on pos/v1/<fleet|_all>/_fleet/consumer/<client id>, online on every
 * connect and offline as its last will or on stop, so terminals can tell whether anyone is listening.
 *
 * A bad message (unknown topic, garbage payload, a handler that throws) is counted and reported, never fatal.
 */
import type { IPublishPacket, MqttClient } from 'mqtt';
import { systemClock, type Clock } from '../../hal/clock.js';
import { fleetPresenceTopic, wire } from '../telemetry/wire.js';
import type { AlertEngine } from './alerts.js';
import { BrokerRefusedError, type BrokerOptions, connectClient, defaultClientId } from './broker-connection.js';
import {
  subscriptionFilter,
  TelemetryDecoder,
  type DecodeCounts,
  type TelemetryDecodeError,
  type TelemetryMessage,
} from './decode.js';
import type { FleetState, IngestResult } from './state.js';

export {
  type BrokerOptions,
  BrokerRefusedError,
  BrokerUnavailableError,
  brokerOptionsFromConfig,
  defaultClientId,
  oneOffClientId,
} from './broker-connection.js';
export * from './send-command.js';

export interface ReceivedInfo {
  receivedAt: number;
  retained: boolean;
  /** What FleetState made of it; absent for fleet commands (`cmd`), which carry no header. */
  result?: IngestResult;
}

export interface ConsumerOptions extends BrokerOptions {
  fleet?: string;
  share?: string;
  state: FleetState;
  alerts?: AlertEngine;
  clock?: Clock;
  maxPayloadBytes?: number;
  onMessage?: (msg: TelemetryMessage, info: ReceivedInfo) => void;
  onReject?: (error: TelemetryDecodeError) => void;
  /** Connection trouble (refused, lost, TLS) and handler failures; the consumer keeps going. */
  onError?: (error: Error) => void;
  onConnectionChange?: (connected: boolean) => void;
}

export interface ConsumerStats extends DecodeCounts {
  connected: boolean;
  handlerErrors: number;
}

export class FleetConsumer {
  readonly filter: string;
  /** Stable across restarts: the broker keeps this session's backlog. */
  readonly clientId: string;
  /** Where this consumer's presence is retained; null when presence is off. */
  readonly presenceTopic: string | null;
  private readonly clock: Clock;
  private readonly decoder: TelemetryDecoder;
  private client: MqttClient | null = null;
  private connected = false;
  private handlerErrors = 0;

  constructor(private readonly opts: ConsumerOptions) {
    this.clock = opts.clock ?? systemClock;
    this.filter = subscriptionFilter(opts.fleet, opts.share);
    this.clientId = opts.clientId ?? defaultClientId(opts.fleet, opts.share);
    if (/[/+#\u0000]/.test(this.clientId))
      throw new Error(`client id ${JSON.stringify(this.clientId)} cannot be a topic level (no "/", "+" or "#")`);
    this.presenceTopic = opts.presence === false ? null : fleetPresenceTopic(opts.fleet ?? null, this.clientId);
    this.decoder = new TelemetryDecoder(
      opts.maxPayloadBytes !== undefined ? { maxPayloadBytes: opts.maxPayloadBytes } : {},
    );
  }

  /** Connects, subscribes, and resolves once the subscription is granted. Reconnects and resubscribes by itself. */
  async start(): Promise<void> {
    const session = { clientId: this.clientId, presenceTopic: this.presenceTopic, will: this.presence(false) };
    const client = await connectClient(this.opts, this.clock, session, (c) => {
      c.on('message', (topic: string, payload: Buffer, packet: IPublishPacket) => this.handle(topic, payload, packet));
    });
    this.client = client;
    this.setConnected(true);
    this.announce(client);
    client.on('connect', () => {
      this.setConnected(true);
      this.announce(client);
    });
    client.on('close', () => this.setConnected(false));
    client.on('error', (err) => this.opts.onError?.(err));
    const granted = await client.subscribeAsync(this.filter, { qos: 1 });
    const refused = granted.find((g) => g.qos === 128 || g.qos > 2);
    if (refused) {
      await client.endAsync(true);
      this.client = null;
      throw new BrokerRefusedError(`the broker at ${this.opts.url} refused the subscription ${this.filter}`);
    }
  }

  /** Presence offline, then a clean DISCONNECT: the broker keeps the session (and its backlog) until it expires. */
  async stop(): Promise<void> {
    const client = this.client;
    this.client = null;
    if (client && this.presenceTopic && client.connected) {
      await client
        .publishAsync(this.presenceTopic, this.presence(false), { qos: 1, retain: true })
        .catch(() => undefined);
    }
    if (client) await client.endAsync();
    this.setConnected(false);
  }

  private presence(online: boolean): Buffer {
    return Buffer.from(
      wire.FleetConsumerState.encode({
        online,
        clientId: this.clientId,
        atMs: this.clock.now(),
        share: this.opts.share ?? '',
      }).finish(),
    );
  }

  /** Presence online on every connection (the will of a lost one may have set it offline). */
  private announce(client: MqttClient): void {
    if (!this.presenceTopic) return;
    client.publish(this.presenceTopic, this.presence(true), { qos: 1, retain: true }, (err) => {
      if (err) this.guard(() => this.opts.onError?.(err));
    });
  }

  stats(): ConsumerStats {
    return { ...this.decoder.stats(), connected: this.connected, handlerErrors: this.handlerErrors };
  }

  /** Decodes and applies one delivery; exposed for feeding captured traffic without a broker. */
  handle(topic: string, payload: Uint8Array, packet: { retain?: boolean } = {}): void {
    const receivedAt = this.clock.now();
    const decoded = this.decoder.decode(topic, payload);
    if (!decoded.ok) {
      this.guard(() => this.opts.onReject?.(decoded.error));
      return;
    }
    const msg = decoded.message;
    const retained = packet.retain ?? false;
    this.guard(() => {
      let result: IngestResult | undefined;
      if (msg.type !== 'cmd') {
        result = this.opts.state.ingest(msg, { receivedAt, retained });
        this.opts.alerts?.observe(msg, result);
      }
      this.opts.onMessage?.(msg, { receivedAt, retained, ...(result ? { result } : {}) });
    });
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.handlerErrors++;
      try {
        this.opts.onError?.(err instanceof Error ? err : new Error(String(err)));
      } catch {
        // The error reporter itself failed; the count above still records it.
      }
    }
  }

  private setConnected(connected: boolean): void {
    if (this.connected === connected) return;
    this.connected = connected;
    this.guard(() => this.opts.onConnectionChange?.(connected));
  }
}
