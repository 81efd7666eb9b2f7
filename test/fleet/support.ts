/**
 * Fleet test helpers: telemetry encoded with the generated classes exactly as a terminal would publish it, a real
 * mosquitto on a free loopback port, an in-process aedes broker, and a stand-in terminal speaking MQTT.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect as netConnect, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { wire } from '../../src/telemetry/wire.js';
import { requireTool } from '../support/tools.js';

// ---- payloads --------------------------------------------------------------------------------------------------

export interface HeaderFields {
  terminalId?: string;
  fleet?: string;
  bootId?: string;
  seq: number;
  sentAtMs?: number;
}

export const FLEET = 'shop-paris-01';
export const TERMINAL = 'TERM0042';
export const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

export function header(h: HeaderFields) {
  return {
    terminalId: h.terminalId ?? TERMINAL,
    fleet: h.fleet ?? FLEET,
    bootId: h.bootId ?? 'boot-a',
    seq: h.seq,
    sentAtMs: h.sentAtMs ?? T0,
  };
}

export function topic(type: string, terminalId = TERMINAL, fleet = FLEET): string {
  return `pos/v1/${fleet}/${terminalId}/${type}`;
}

export const encode = {
  birth: (h: HeaderFields, extra: Partial<Parameters<typeof wire.Birth.create>[0]> = {}) =>
    wire.Birth.encode(
      wire.Birth.create({
        header: header(h),
        firmwareVersion: '1.4.2',
        configVersion: 'cfg-7',
        capabilities: ['chip', 'contactless', 'printer'],
        bootReason: wire.BootReason.BOOT_REASON_CRASH,
        bootedAtMs: T0 - 5_000,
        model: 'PX-900',
        session: 1,
        healthIntervalMs: 60_000,
        ...extra,
      }),
    ).finish(),
  health: (h: HeaderFields, extra: Partial<Parameters<typeof wire.Health.create>[0]> = {}) =>
    wire.Health.encode(
      wire.Health.create({
        header: header(h),
        state: wire.OperationState.OPERATION_STATE_READY,
        components: [{ component: 'printer', status: wire.CheckStatus.CHECK_STATUS_OK, durationMs: 12 }],
        pendingReversals: 0,
        storeAndForward: { depth: 0, totalMinor: 0, oldestAgeMs: 0 },
        outcomes: [{ key: 'approved', count: 17 }],
        link: { hostUp: true, networkUp: true, interface: 'eth0', hostRttMs: 42 },
        resources: {
          rssBytes: 80_000_000,
          heapUsedBytes: 30_000_000,
          cpuPercent: 1.5,
          diskFreeBytes: 5_000_000_000,
          uptimeS: 3600,
        },
        ...extra,
      }),
    ).finish(),
  event: (h: HeaderFields, extra: Partial<Parameters<typeof wire.Event.create>[0]> = {}) =>
    wire.Event.encode(
      wire.Event.create({
        header: header(h),
        kind: 'anomaly',
        code: 'E101',
        name: 'host-timeout',
        severity: wire.Severity.SEVERITY_ERROR,
        atMs: h.sentAtMs ?? T0,
        stan: 12,
        amountMinor: 1250,
        currency: '978',
        maskedPan: '400000******0002',
        message: 'No answer from the acquirer',
        txnRef: 'T-1',
        ...extra,
      }),
    ).finish(),
  state: (h: HeaderFields, online: boolean, reason = '', session = 1) =>
    wire.State.encode(wire.State.create({ header: header(h), online, reason, session })).finish(),
  command: (commandId: string, name: number) =>
    wire.Command.encode(wire.Command.create({ commandId, name, issuedAtMs: T0, issuedBy: 'ops@fleet' })).finish(),
  commandResult: (h: HeaderFields, commandId: string, name: number, ok: boolean, error = 0, message = '') =>
    wire.CommandResult.encode(
      wire.CommandResult.create({ header: header(h), commandId, name, ok, error, message }),
    ).finish(),
};

// ---- waiting ---------------------------------------------------------------------------------------------------

/** Polls real I/O (a broker delivering, a child printing); never stands in for a timeout under test. */
export async function until(condition: () => boolean, what: string, limitMs = 5_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > limitMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

// ---- brokers ---------------------------------------------------------------------------------------------------

export interface TestBroker {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** A loopback port that was free a moment ago (bound, then released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = netConnect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export function mosquittoBinary(): string {
  return process.env['MOSQUITTO'] ?? requireTool('mosquitto');
}

/** A real mosquitto on a free loopback port with a throw-away config; stop() kills it and removes the config. */
export async function startMosquitto(): Promise<TestBroker> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'pos-fleet-mosquitto-'));
    const conf = join(dir, 'mosquitto.conf');
    writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n`);
    const child: ChildProcess = spawn(mosquittoBinary(), ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    let exited = false;
    const exit = new Promise<void>((resolve) =>
      child.once('exit', () => {
        exited = true;
        resolve();
      }),
    );
    child.once('error', () => {
      exited = true;
    });
    const stop = async (): Promise<void> => {
      if (!exited) {
        child.kill('SIGTERM');
        await exit;
      }
      rmSync(dir, { recursive: true, force: true });
    };
    const started = Date.now();
    while (!exited && Date.now() - started < 5_000 && !(await accepts(port)))
      await new Promise((r) => setTimeout(r, 20));
    if (!exited && (await accepts(port))) return { url: `mqtt://127.0.0.1:${port}`, port, stop };
    await stop();
    // Another process took the port between our probe and mosquitto's bind: try another.
    if (attempt >= 3)
      throw new Error(`mosquitto did not start (${mosquittoBinary()}): ${stderr.trim() || 'no output'}`);
  }
}

/** An in-process aedes broker (MQTT 3.1.1), as a terminal embeds on a desktop. */
export async function startAedes(): Promise<TestBroker> {
  const broker = await Aedes.createBroker();
  const server: Server = createServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    stop: async () => {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// ---- a stand-in terminal ---------------------------------------------------------------------------------------

export interface FakeTerminal {
  client: MqttClient;
  publish(type: string, payload: Uint8Array, opts?: { retain?: boolean; terminalId?: string }): Promise<void>;
  /** Drops the TCP connection without DISCONNECT, as a crash or power cut would: the broker publishes the will. */
  vanish(): void;
  end(): Promise<void>;
}

/** Connects like a terminal: clean session, last will = retained State{online:false} on its state topic. */
export async function fakeTerminal(
  url: string,
  opts: { terminalId?: string; bootId?: string; session?: number } = {},
): Promise<FakeTerminal> {
  const terminalId = opts.terminalId ?? TERMINAL;
  const options: IClientOptions = {
    clientId: `terminal-${terminalId}-${Math.random().toString(16).slice(2, 8)}`,
    protocolVersion: 4,
    reconnectPeriod: 0,
    will: {
      topic: topic('state', terminalId),
      // As the contract says: the will is written at connect time, with seq 0 and the connection's session.
      payload: Buffer.from(
        encode.state(
          { terminalId, bootId: opts.bootId ?? 'boot-a', seq: 0 },
          false,
          'connection lost',
          opts.session ?? 1,
        ),
      ),
      qos: 1,
      retain: true,
    },
  };
  const client = await connectAsync(url, options);
  client.on('error', () => undefined);
  return {
    client,
    publish: async (type, payload, p = {}) => {
      await client.publishAsync(topic(type, p.terminalId ?? terminalId), Buffer.from(payload), {
        qos: 1,
        retain: p.retain ?? false,
      });
    },
    vanish: () => client.stream.destroy(),
    /** A clean stop: DISCONNECT first, so the broker discards the will. */
    end: async () => {
      if (client.connected) await client.endAsync().catch(() => undefined);
      else client.end(true);
    },
  };
}

/** A plain MQTT client for clearing retained messages and the like. */
export async function rawClient(url: string): Promise<MqttClient> {
  const client = await connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0 });
  client.on('error', () => undefined);
  return client;
}
