/**
 * The MQTT side of the fleet consumer: connects to the broker (mqtt.js; plain, TLS with a private CA, client
 * certificates, user and password), subscribes to every terminal's telemetry (`pos/v1/<fleet|+>/+/+`, or as a
 * shared subscription `$share/<group>/…` so several consumers split the load on a clustered broker), decodes each
 * message and feeds FleetState and the alert engine. It also sends fleet commands and waits for their result.
 *
 * A bad message (unknown topic, garbage payload, a handler that throws) is counted and reported, never fatal.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { connect, type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { systemClock, type Clock } from '../../hal/clock.js';
import { wire } from '../telemetry/wire.js';
import type { AlertEngine } from './alerts.js';
import type { FleetConfig } from './config.js';
import {
  commandNames,
  subscriptionFilter,
  TelemetryDecoder,
  topicFor,
  type CommandResultMessage,
  type DecodeCounts,
  type TelemetryDecodeError,
  type TelemetryMessage,
} from './decode.js';
import type { FleetState, IngestResult } from './state.js';

export interface BrokerOptions {
  url: string;
  /** Default: pos-fleet-<host>-<random>, so consumers in one share group never collide. */
  clientId?: string;
  username?: string;
  password?: string;
  /** PEM contents (not paths): the CA that signed the broker's certificate, and a client certificate and key. */
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized?: boolean;
  /** 4 = MQTT 3.1.1 (default; every broker, including the terminal's embedded one), 5 = MQTT 5. */
  protocolVersion?: 4 | 5;
  /** How long the first connection may take before start() gives up; default 10 s. */
  connectTimeoutMs?: number;
}

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

/** The broker refused us for good (bad credentials, not authorised): retrying will not help. */
export class BrokerRefusedError extends Error {
  override readonly name = 'BrokerRefusedError';
}

export class BrokerUnavailableError extends Error {
  override readonly name = 'BrokerUnavailableError';
}

/** MQTT 3.1.1 CONNACK 4/5 and their MQTT 5 equivalents (134 bad user name or password, 135 not authorised…). */
const REFUSED_CODES = new Set([4, 5, 134, 135, 138, 140]);

export function defaultClientId(): string {
  const host =
    hostname()
      .replace(/[^A-Za-z0-9_-]/g, '')
      .slice(0, 20) || 'host';
  return `pos-fleet-${host}-${randomBytes(3).toString('hex')}`;
}

/** Broker options from the validated config; TLS files are read here, so a missing one fails at start. */
export function brokerOptionsFromConfig(config: FleetConfig): BrokerOptions {
  const { mqtt } = config;
  const read = (file: string | null, what: string): Buffer | undefined => {
    if (file === null) return undefined;
    try {
      return readFileSync(file);
    } catch (err) {
      throw new Error(
        `cannot read the ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
  };
  const ca = read(mqtt.tls.caFile, 'CA file (mqtt.tls.caFile)');
  const cert = read(mqtt.tls.certFile, 'client certificate (mqtt.tls.certFile)');
  const key = read(mqtt.tls.keyFile, 'client key (mqtt.tls.keyFile)');
  return {
    url: mqtt.url,
    ...(mqtt.clientId !== null ? { clientId: mqtt.clientId } : {}),
    ...(mqtt.username !== null ? { username: mqtt.username } : {}),
    ...(mqtt.password !== null ? { password: mqtt.password } : {}),
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    rejectUnauthorized: mqtt.tls.rejectUnauthorized,
    protocolVersion: mqtt.protocolVersion,
    connectTimeoutMs: mqtt.connectTimeoutSeconds * 1000,
  };
}

function clientOptions(opts: BrokerOptions): IClientOptions {
  return {
    clientId: opts.clientId ?? defaultClientId(),
    protocolVersion: opts.protocolVersion ?? 4,
    clean: true,
    reconnectPeriod: 2_000,
    connectTimeout: opts.connectTimeoutMs ?? 10_000,
    ...(opts.username !== undefined ? { username: opts.username } : {}),
    ...(opts.password !== undefined ? { password: opts.password } : {}),
    ...(opts.ca ? { ca: opts.ca } : {}),
    ...(opts.cert ? { cert: opts.cert } : {}),
    ...(opts.key ? { key: opts.key } : {}),
    rejectUnauthorized: opts.rejectUnauthorized ?? true,
  };
}

/**
 * Connects and resolves once the broker accepted us. Refusal is final (BrokerRefusedError); an unreachable broker
 * is retried until connectTimeoutMs, then BrokerUnavailableError.
 */
async function connectClient(opts: BrokerOptions, clock: Clock): Promise<MqttClient> {
  const client = connect(opts.url, clientOptions(opts));
  // mqtt.js reports every failed reconnect as an 'error' event; without a listener that would end the process.
  client.on('error', () => undefined);
  const limitMs = opts.connectTimeoutMs ?? 10_000;
  return new Promise<MqttClient>((resolve, reject) => {
    let lastError: Error | null = null;
    const done = (err: Error | null): void => {
      timer.cancel();
      client.removeListener('connect', onConnect);
      client.removeListener('error', onError);
      if (err === null) {
        resolve(client);
      } else {
        client.end(true);
        reject(err);
      }
    };
    const onConnect = (): void => done(null);
    const onError = (err: Error & { code?: unknown }): void => {
      lastError = err;
      if (typeof err.code === 'number' && REFUSED_CODES.has(err.code)) {
        done(new BrokerRefusedError(`the broker at ${opts.url} refused the connection: ${err.message}`));
      }
    };
    const timer = clock.setTimeout(() => {
      done(
        new BrokerUnavailableError(
          `no connection to the broker at ${opts.url} within ${limitMs / 1000} s${lastError ? `: ${lastError.message}` : ''}`,
        ),
      );
    }, limitMs);
    client.on('connect', onConnect);
    client.on('error', onError);
  });
}

export interface ConsumerStats extends DecodeCounts {
  connected: boolean;
  handlerErrors: number;
}

export class FleetConsumer {
  readonly filter: string;
  private readonly clock: Clock;
  private readonly decoder: TelemetryDecoder;
  private client: MqttClient | null = null;
  private connected = false;
  private handlerErrors = 0;

  constructor(private readonly opts: ConsumerOptions) {
    this.clock = opts.clock ?? systemClock;
    this.filter = subscriptionFilter(opts.fleet, opts.share);
    this.decoder = new TelemetryDecoder(
      opts.maxPayloadBytes !== undefined ? { maxPayloadBytes: opts.maxPayloadBytes } : {},
    );
  }

  /** Connects, subscribes, and resolves once the subscription is granted. Reconnects and resubscribes by itself. */
  async start(): Promise<void> {
    const client = await connectClient(this.opts, this.clock);
    this.client = client;
    this.setConnected(true);
    client.on('message', (topic: string, payload: Buffer, packet: IPublishPacket) =>
      this.handle(topic, payload, packet),
    );
    client.on('connect', () => this.setConnected(true));
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

  async stop(): Promise<void> {
    const client = this.client;
    this.client = null;
    if (client) await client.endAsync();
    this.setConnected(false);
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

// ---- commands --------------------------------------------------------------------------------------------------

/** The commands a fleet operator can send (each must be on the terminal's allow-list to run). */
export const COMMANDS = [
  'run-self-test',
  'send-health',
  'rebirth',
  'unlock',
  'settle',
  'check-health-external',
  'check-health-interactive',
] as const;
export type FleetCommand = (typeof COMMANDS)[number];

export class CommandTimeoutError extends Error {
  override readonly name = 'CommandTimeoutError';
}

export interface SendCommandOptions extends BrokerOptions {
  fleet: string;
  terminalId: string;
  name: FleetCommand;
  /** Who issued it, for the terminal's journal; default user@host. */
  issuedBy?: string;
  /** How long to wait for the CommandResult; default 30 s. */
  timeoutMs?: number;
  clock?: Clock;
  commandId?: string;
}

export function defaultOperator(): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry (containers): keep "unknown".
  }
  return `${user}@${hostname()}`;
}

/** Encodes a fleet command as it goes on the wire. */
export function encodeCommand(c: {
  commandId: string;
  name: FleetCommand;
  issuedAtMs: number;
  issuedBy: string;
}): Uint8Array {
  const name = commandNames.value(c.name);
  if (name === undefined) throw new Error(`the telemetry contract has no command ${JSON.stringify(c.name)}`);
  return wire.Command.encode(
    wire.Command.create({ commandId: c.commandId, name, issuedAtMs: c.issuedAtMs, issuedBy: c.issuedBy }),
  ).finish();
}

/**
 * Publishes a Command to pos/v1/<fleet>/<terminal>/cmd (QoS 1) and resolves with the terminal's CommandResult for
 * that command id, or rejects with CommandTimeoutError. Results for other commands and undecodable payloads on the
 * result topic are skipped.
 */
export async function sendCommand(opts: SendCommandOptions): Promise<CommandResultMessage> {
  const clock = opts.clock ?? systemClock;
  const client = await connectClient(opts, clock);
  const commandId = opts.commandId ?? randomUUID();
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const decoder = new TelemetryDecoder();
  try {
    const resultTopic = topicFor(opts.fleet, opts.terminalId, 'cmd-result');
    const result = new Promise<CommandResultMessage>((resolve, reject) => {
      const timer = clock.setTimeout(() => {
        reject(
          new CommandTimeoutError(
            `no result from ${opts.fleet}/${opts.terminalId} for ${opts.name} (command ${commandId}) within ${timeoutMs / 1000} s`,
          ),
        );
      }, timeoutMs);
      client.on('message', (topic: string, payload: Buffer) => {
        if (topic !== resultTopic) return;
        const decoded = decoder.decode(topic, payload);
        if (decoded.ok && decoded.message.type === 'cmd-result' && decoded.message.commandId === commandId) {
          timer.cancel();
          resolve(decoded.message);
        }
      });
    });
    result.catch(() => undefined); // rejection is handled by the await below
    const granted = await client.subscribeAsync(resultTopic, { qos: 1 });
    if (granted.some((g) => g.qos === 128))
      throw new BrokerRefusedError(`the broker refused the subscription ${resultTopic}`);
    await client.publishAsync(
      topicFor(opts.fleet, opts.terminalId, 'cmd'),
      Buffer.from(
        encodeCommand({
          commandId,
          name: opts.name,
          issuedAtMs: clock.now(),
          issuedBy: opts.issuedBy ?? defaultOperator(),
        }),
      ),
      { qos: 1, retain: false },
    );
    return await result;
  } finally {
    await client.endAsync(true).catch(() => undefined);
  }
}
