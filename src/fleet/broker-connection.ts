/**
 * Connecting to the broker, for the consumer and for one-off command clients: options from the config (TLS files
 * read here, the command key from the environment or its file), the consumer's stable client id, and a connect
 * that tells a refusal (final) from an unreachable broker (retried until the timeout).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import type { Clock } from '../../hal/clock.js';
import { loadCommandKey } from '../telemetry/wire-signature.js';
import type { FleetConfig } from './config.js';
import { COMMAND_KEY_ENV } from './config-session.js';

export interface BrokerOptions {
  url: string;
  /**
   * The consumer's default: pos-fleet-<host>-<fleet|all>[-<share>], stable across restarts so the broker keeps its
   * session (two consumers of one share group on one host must each be given one).
   */
  clientId?: string;
  /** MQTT 5 session expiry in seconds (0 = the session ends with the connection); default a day. */
  sessionExpirySeconds?: number;
  /** Publish pos-fleet's presence for the terminals (default true). */
  presence?: boolean;
  /** The fleet's command key: every command sent is signed with it. */
  commandKey?: Buffer;
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

/** The broker refused us for good (bad credentials, not authorised): retrying will not help. */
export class BrokerRefusedError extends Error {
  override readonly name = 'BrokerRefusedError';
}

export class BrokerUnavailableError extends Error {
  override readonly name = 'BrokerUnavailableError';
}

/** MQTT 3.1.1 CONNACK 4/5 and their MQTT 5 equivalents (134 bad user name or password, 135 not authorised…). */
const REFUSED_CODES = new Set([4, 5, 134, 135, 138, 140]);

function hostLevel(): string {
  return (
    hostname()
      .replace(/[^A-Za-z0-9_-]/g, '')
      .slice(0, 20) || 'host'
  );
}

/** The consumer's stable client id: the same host, fleet and share group find their session again. */
export function defaultClientId(fleet?: string, share?: string): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 40);
  return `pos-fleet-${hostLevel()}-${fleet === undefined ? 'all' : safe(fleet)}${share === undefined ? '' : `-${safe(share)}`}`;
}

/** A one-off client (sending a command): its own short clean session, never the consumer's. */
export function oneOffClientId(): string {
  return `pos-fleet-cmd-${hostLevel()}-${randomBytes(4).toString('hex')}`;
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
  const commandKey = loadCommandKey({ file: config.session.commandKeyFile, envName: COMMAND_KEY_ENV });
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
    sessionExpirySeconds: config.session.expirySeconds,
    presence: config.session.presence,
    ...(commandKey ? { commandKey } : {}),
  };
}

/** `session`: the consumer's persistent session with its presence will; absent, a one-off clean session. */
export function clientOptions(
  opts: BrokerOptions,
  session?: { clientId: string; presenceTopic: string | null; will: Buffer },
): IClientOptions {
  const v5 = (opts.protocolVersion ?? 4) === 5;
  return {
    clientId: session?.clientId ?? opts.clientId ?? oneOffClientId(),
    protocolVersion: opts.protocolVersion ?? 4,
    clean: session === undefined,
    ...(session && v5 ? { properties: { sessionExpiryInterval: opts.sessionExpirySeconds ?? 86_400 } } : {}),
    ...(session?.presenceTopic
      ? { will: { topic: session.presenceTopic, payload: session.will, qos: 1 as const, retain: true } }
      : {}),
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
export async function connectClient(
  opts: BrokerOptions,
  clock: Clock,
  session?: Parameters<typeof clientOptions>[1],
  attach?: (client: MqttClient) => void,
): Promise<MqttClient> {
  const client = connect(opts.url, clientOptions(opts, session));
  // Before the CONNACK: a persistent session's queued messages follow it at once.
  attach?.(client);
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
