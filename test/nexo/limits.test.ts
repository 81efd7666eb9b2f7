/**
 * The nexo endpoint bounds what clients can hold, with time on a ManualClock: connections beyond the limit dropped,
 * idle and slow (slowloris) ones closed before any handler call, and requests rate-limited per client (one budget
 * for all of a client's connections).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../hal/clock.js';
import { loadConfig } from '../../src/config/index.js';
import { nexoServerOptions } from '../../src/nexo/from-config.js';
import {
  DEFAULT_NEXO_LIMITS,
  type NexoServerOptions,
  type RunningNexoServer,
  startNexoServer,
} from '../../src/nexo/server.js';
import { until } from '../support/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'nexo-limits-'));
let server: RunningNexoServer | undefined;
const sockets: tls.TLSSocket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await server?.stop();
  server = undefined;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let handled = 0;
async function start(options: Partial<NexoServerOptions>): Promise<number> {
  handled = 0;
  server = await startNexoServer({
    port: 0,
    tls: { dataDir: dir, certFile: null, keyFile: null },
    securityKeys: [],
    allowPlain: true,
    handler: async () => {
      handled++;
      return { SaleToPOIResponse: { MessageHeader: {}, DiagnosisResponse: { Response: { Result: 'Success' } } } };
    },
    ...options,
  });
  return server.port;
}

/** One raw keep-alive TLS connection: writes requests by hand, parses each HTTP response (Content-Length bodies). */
class RawConnection {
  readonly responses: Array<{ status: number; body: string }> = [];
  closed = false;
  private buffered = Buffer.alloc(0);
  readonly connected: Promise<void>;

  constructor(port: number, localAddress = '127.0.0.1') {
    // Over a plain socket so the source address can be chosen (another address is another client).
    const raw = net.connect({ host: '127.0.0.1', port, localAddress });
    raw.on('error', () => {});
    const socket = tls.connect({ socket: raw, rejectUnauthorized: false });
    sockets.push(socket);
    this.socket = socket;
    socket.on('error', () => {});
    socket.on('close', () => (this.closed = true));
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      for (;;) {
        const end = this.buffered.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = this.buffered.subarray(0, end).toString('latin1');
        const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (this.buffered.length < end + 4 + length) return;
        const body = this.buffered.subarray(end + 4, end + 4 + length).toString('utf8');
        this.responses.push({ status: Number(head.split(' ')[1]), body });
        this.buffered = this.buffered.subarray(end + 4 + length);
      }
    });
    this.connected = new Promise((resolve) => socket.once('secureConnect', () => resolve()));
  }

  readonly socket: tls.TLSSocket;

  /** Writes raw bytes (part of a request, to dribble one in). */
  write(text: string): void {
    this.socket.write(text);
  }

  post(category: string, n = 1): void {
    const body = JSON.stringify({
      SaleToPOIRequest: {
        MessageHeader: { MessageCategory: category, MessageType: 'Request', SaleID: 'S', ServiceID: '1' },
      },
    });
    const one = `POST /nexo/ HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    this.socket.write(one.repeat(n));
  }
}

async function open(port: number, localAddress?: string): Promise<RawConnection> {
  const c = new RawConnection(port, localAddress);
  await c.connected;
  return c;
}

/** A request on another connection, answered: by then the server has read what was written before it. */
async function barrier(port: number): Promise<void> {
  const probe = await open(port);
  probe.post('Diagnosis');
  await until(() => probe.responses.length === 1 || probe.closed, 'the probe answered');
  probe.socket.destroy();
}

describe('nexo endpoint limits on the simulated clock', () => {
  it('closes a kept-alive connection idle for idleTimeoutMs, and one that never sent a request', async () => {
    const clock = new ManualClock();
    const port = await start({ clock, limits: { keepAliveTimeoutMs: 30_000, requestTimeoutMs: 10_000 } });
    const kept = await open(port);
    const never = await open(port);
    kept.post('Diagnosis');
    await until(() => kept.responses.length === 1, 'answered');
    await clock.advance(29_000);
    await barrier(port);
    expect([kept.closed, never.closed]).toEqual([false, false]);
    // Used again, the kept-alive connection's idle time starts over.
    kept.post('Diagnosis');
    await until(() => kept.responses.length === 2, 'answered again');
    await clock.advance(1_000);
    await until(() => never.closed, 'the unused connection closed');
    expect(kept.closed).toBe(false);
    await clock.advance(29_000);
    await until(() => kept.closed, 'the idle kept-alive connection closed');
    // Two of its own and the barrier's.
    expect(handled).toBe(3);
  });

  it('closes a request whose headers dribble in after requestTimeoutMs, with no handler call', async () => {
    const clock = new ManualClock();
    const port = await start({ clock, limits: { keepAliveTimeoutMs: 60_000, requestTimeoutMs: 10_000 } });
    const slow = await open(port);
    slow.write('POST /nexo/ HTTP/1.1\r\n');
    await barrier(port);
    for (const line of ['Host: t\r\n', 'Content-Type: application/json\r\n', 'X-Slow: 1\r\n']) {
      await clock.advance(3_000);
      slow.write(line);
      await barrier(port);
    }
    expect(slow.closed).toBe(false);
    await clock.advance(1_000);
    await until(() => slow.closed, 'the slow request closed');
    // The barriers' own requests are the only ones handled.
    expect(handled).toBe(4);
  });

  it('closes a request whose body dribbles in after requestTimeoutMs, with no handler call', async () => {
    const clock = new ManualClock();
    const port = await start({ clock, limits: { keepAliveTimeoutMs: 60_000, requestTimeoutMs: 10_000 } });
    const slow = await open(port);
    slow.write('POST /nexo/ HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n{');
    await barrier(port);
    for (let i = 0; i < 9; i++) {
      await clock.advance(1_000);
      slow.write('"');
    }
    await barrier(port);
    expect(slow.closed).toBe(false);
    await clock.advance(1_000);
    await until(() => slow.closed, 'the slow body closed');
    expect(handled).toBe(2);
    expect(slow.responses).toEqual([]);
  });

  it('drops a connection past maxConnections while an existing client still gets answers', async () => {
    const clock = new ManualClock();
    const port = await start({ clock, limits: { maxConnections: 3 } });
    const client = await open(port);
    const held = await Promise.all([open(port), open(port)]);
    const extra = new RawConnection(port);
    await until(() => extra.closed, 'the fourth dropped');
    client.post('Diagnosis', 2);
    await until(() => client.responses.length === 2, 'the client answered');
    expect(client.responses.map((r) => r.status)).toEqual([200, 200]);
    expect(held.some((c) => c.closed)).toBe(false);
    // A freed slot is taken again.
    held[0]!.socket.destroy();
    await until(() => held[0]!.closed, 'one closed');
    const next = await open(port);
    next.post('Diagnosis');
    await until(() => next.responses.length === 1 || next.closed, 'the new one answered');
    expect(next.responses[0]?.status).toBe(200);
  });
});

describe('nexo rate limit per client', () => {
  const served = (c: RawConnection) => c.responses.filter((r) => r.status === 200).length;

  it.each([2, 10])('gives %i connections of one client one budget, answering Busy beyond it', async (n) => {
    const clock = new ManualClock();
    const port = await start({ clock, rateLimit: { burst: 6, perSecond: 1 } });
    const conns = await Promise.all(Array.from({ length: n }, () => open(port)));
    for (const c of conns) c.post('Diagnosis', 4);
    await until(() => conns.every((c) => c.responses.length === 4), 'every request answered');
    expect(conns.reduce((sum, c) => sum + served(c), 0)).toBe(6);
    expect(handled).toBe(6);
    const busy = conns.flatMap((c) => c.responses).find((r) => r.status === 429);
    expect(JSON.parse(busy!.body)).toMatchObject({
      SaleToPOIResponse: { DiagnosisResponse: { Response: { Result: 'Failure', ErrorCondition: 'Busy' } } },
    });
    // An Abort gets through over the limit; time refills the budget.
    conns[0]!.post('Abort');
    await until(() => conns[0]!.responses.length === 5, 'the abort answered');
    expect(conns[0]!.responses[4]!.status).toBe(200);
    await clock.advance(1_000);
    conns[1]!.post('Diagnosis');
    await until(() => conns[1]!.responses.length === 5, 'answered after the refill');
    expect(conns[1]!.responses[4]!.status).toBe(200);
  });

  it('gives two clients (two addresses) a budget each', async () => {
    const clock = new ManualClock();
    const port = await start({ clock, rateLimit: { burst: 3, perSecond: 1 } });
    // 127.0.0.2 is another address of loopback: another client.
    const one = await open(port);
    const two = await open(port, '127.0.0.2');
    one.post('Diagnosis', 5);
    two.post('Diagnosis', 5);
    await until(() => one.responses.length === 5 && two.responses.length === 5, 'every request answered');
    expect([served(one), served(two)]).toEqual([3, 3]);
  });
});

describe('nexo limits from configuration', () => {
  it('defaults to the built-in limits and takes ecr.nexo.maxConnections, idleTimeoutMs, requestTimeoutMs, maxBodyBytes', () => {
    const { config } = loadConfig({ env: {} });
    const handler = async () => ({ SaleToPOIResponse: {} });
    expect(nexoServerOptions(config, handler).limits).toEqual({
      maxConnections: DEFAULT_NEXO_LIMITS.maxConnections,
      keepAliveTimeoutMs: DEFAULT_NEXO_LIMITS.keepAliveTimeoutMs,
      requestTimeoutMs: DEFAULT_NEXO_LIMITS.requestTimeoutMs,
      maxBodyBytes: DEFAULT_NEXO_LIMITS.maxBodyBytes,
    });
    const file = join(dir, 'limits.json');
    const nexo = { maxConnections: 10, idleTimeoutMs: 2_000, requestTimeoutMs: 3_000, maxBodyBytes: 4_096 };
    writeFileSync(file, JSON.stringify({ ecr: { nexo } }));
    const custom = loadConfig({ path: file, env: {} }).config;
    expect(nexoServerOptions(custom, handler).limits).toEqual({
      maxConnections: 10,
      keepAliveTimeoutMs: 2_000,
      requestTimeoutMs: 3_000,
      maxBodyBytes: 4_096,
    });
    writeFileSync(file, JSON.stringify({ ecr: { nexo: { requestTimeoutMs: 5 } } }));
    expect(() => loadConfig({ path: file, env: {} })).toThrow(/ecr\.nexo\.requestTimeoutMs/);
  });
});
