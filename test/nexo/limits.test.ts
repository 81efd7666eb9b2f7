/**
 * The nexo endpoint bounds what clients can hold: connections beyond the limit are dropped, idle ones closed, and
 * requests are rate-limited per client (one budget for all of a client's connections).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../hal/clock.js';
import { type NexoServerOptions, type RunningNexoServer, startNexoServer } from '../../src/nexo/server.js';
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

  private readonly socket: tls.TLSSocket;

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

describe('nexo endpoint limits', () => {
  it('drops connections beyond maxConnections and closes connections that never send a request', async () => {
    const port = await start({
      // Short bounds so the idle connections go within the test's generous wait.
      limits: { maxConnections: 5, headersTimeoutMs: 300, requestTimeoutMs: 300, checkIntervalMs: 100 },
    });
    const held = await Promise.all(Array.from({ length: 5 }, () => open(port)));
    const extra = new RawConnection(port);
    await until(() => extra.closed, 'the sixth dropped');
    // Every idle one is closed by the server; the test's own timeout (5 s) is the bound.
    await until(() => held.every((c) => c.closed), 'the idle ones closed');
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
