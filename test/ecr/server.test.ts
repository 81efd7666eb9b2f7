/**
 * The ECR server over real loopback TCP and a real Unix socket, with a fake handler standing in for the terminal.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  EcrServer,
  LineReader,
  type EcrErrorReply,
  type EcrHandler,
  type EcrReply,
  type EcrRequest,
  type EcrServerOptions,
  type EcrSession,
} from '../../src/ecr/index.js';
import { until } from '../support/wait.js';
import { type Json, LineClient as Client } from './line-client.js';

/**
 * Echoes every request back in a `done` reply, except a few amounts that exercise the transaction stream and
 * the failure paths.
 */
class FakeHandler implements EcrHandler {
  readonly requests: EcrRequest[] = [];
  readonly disconnects: string[] = [];
  sessions: EcrSession[] = [];

  handle(request: EcrRequest, session: EcrSession): void | Promise<void> {
    this.requests.push(request);
    if (!this.sessions.includes(session)) this.sessions.push(session);
    if (request.cmd === 'status') {
      session.send({ id: request.id, type: 'status', state: 'idle', client: session.clientId });
      return;
    }
    if (request.cmd === 'sale') {
      if (request.amount === 666) throw new Error('handler bug');
      if (request.amount === 667) return Promise.reject(new Error('async handler bug'));
      if (request.amount === 668) {
        session.send({ id: request.id, type: 'done', big: 1n } as unknown as EcrReply);
        return;
      }
      if (request.amount === 669) {
        // Floods a client that does not read.
        const filler = 'x'.repeat(16 * 1024);
        for (let i = 0; i < 4096 && !session.closed; i++)
          session.send({ id: request.id, type: 'state', state: filler });
        return;
      }
      return (async () => {
        session.send({ id: request.id, type: 'ack', cmd: 'sale' });
        session.send({ id: request.id, type: 'state', state: 'present-card' });
        session.send({
          id: request.id,
          type: 'screen',
          screen: { title: 'SALE', lines: ['12.50 EUR'], severity: 'info' },
        });
        await new Promise((resolve) => setTimeout(resolve, 5));
        session.send({
          id: request.id,
          type: 'result',
          outcome: 'approved',
          stan: 1,
          amount: request.amount,
          currency: request.currency ?? '978',
        });
      })();
    }
    session.send({ id: request.id, type: 'done', request });
  }

  onDisconnect(session: EcrSession): void {
    this.disconnects.push(session.clientId);
  }
}

let dir: string;
let server: EcrServer | undefined;
let handler: FakeHandler;
let clients: Client[];
let protocolErrors: { clientId: string; error: EcrErrorReply }[];
let unauthorized: { clientId: string; request: EcrRequest }[];
let handlerErrors: unknown[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ecr-'));
  handler = new FakeHandler();
  clients = [];
  protocolErrors = [];
  unauthorized = [];
  handlerErrors = [];
});

afterEach(async () => {
  for (const c of clients) c.close();
  await server?.stop();
  server = undefined;
  rmSync(dir, { recursive: true, force: true });
});

async function startServer(options: Partial<EcrServerOptions> = {}) {
  server = new EcrServer(handler, {
    simulatorCommands: true,
    socketPath: join(dir, 'run', 'ecr.sock'),
    onProtocolError: (clientId, error) => protocolErrors.push({ clientId, error }),
    onUnauthorized: (clientId, request) => unauthorized.push({ clientId, request }),
    onHandlerError: (_clientId, _request, error) => handlerErrors.push(error),
    ...options,
  });
  return server.start();
}

async function tcpClient(port: number): Promise<Client> {
  const c = await Client.connect({ host: '127.0.0.1', port });
  clients.push(c);
  return c;
}

async function unixClient(path: string): Promise<Client> {
  const c = await Client.connect({ path });
  clients.push(c);
  return c;
}

const EVERY_COMMAND: Json[] = [
  { id: '1', cmd: 'sale', amount: 1250, currency: '978' },
  { id: '2', cmd: 'refund', amount: 500 },
  { id: '3', cmd: 'void', stan: 12, supervisorPin: '0000' },
  { id: '4', cmd: 'cancel' },
  { id: '5', cmd: 'confirm' },
  { id: '6', cmd: 'status' },
  { id: '7', cmd: 'reprint' },
  { id: '8', cmd: 'reprint', stan: 3 },
  { id: '9', cmd: 'selftest' },
  { id: '10', cmd: 'sim.card', name: 'declined' },
  { id: '11', cmd: 'sim.fault', device: 'network', code: 'down', atStep: 1, times: 2 },
  { id: 12, cmd: 'sim.remove' },
];

describe.each(['tcp', 'unix'] as const)('EcrServer over %s', (transport) => {
  async function connect(): Promise<Client> {
    const { port, socketPath } = await startServer();
    return transport === 'tcp' ? tcpClient(port) : unixClient(socketPath!);
  }

  it('accepts every command and streams a transaction to its result', async () => {
    const c = await connect();
    for (const request of EVERY_COMMAND) {
      const replies = await c
        .write(`${JSON.stringify(request)}\n`)
        .then(() => c.until(request.cmd === 'sale' ? 'result' : request.cmd === 'status' ? 'status' : 'done'));
      expect(replies.every((r) => r.id === String(request.id))).toBe(true);
      if (request.cmd === 'sale') {
        expect(replies.map((r) => r.type)).toEqual(['ack', 'state', 'screen', 'result']);
        expect(replies[3]).toMatchObject({ outcome: 'approved', amount: 1250, currency: '978' });
      }
    }
    expect(handler.requests.map((r) => r.cmd)).toEqual(EVERY_COMMAND.map((r) => r.cmd));
    expect(handler.requests.at(-1)?.id).toBe('12');
    expect(handler.sessions[0]?.clientId).toMatch(transport === 'tcp' ? /^tcp:127\.0\.0\.1:\d+$/ : /^unix:\d+$/);
  });

  it('answers a bad line with a typed error and keeps the connection', async () => {
    const c = await connect();
    expect(await c.request({ id: 'a', cmd: 'sale', amount: '12.50' })).toEqual({
      id: 'a',
      type: 'error',
      code: 'invalid-request',
      field: 'amount',
      message: 'amount: expected an integer from 1 to 99999999, found "12.50"',
    });
    expect((await c.request({ id: 's', cmd: 'status' })).type).toBe('status');
  });
});

describe('EcrServer: line handling', () => {
  it('reports a line over maxLineBytes once, skips to its newline and keeps working', async () => {
    const { port } = await startServer({ maxLineBytes: 1024 });
    const c = await tcpClient(port);
    // 5000 bytes in pieces, the newline only at the end.
    for (let i = 0; i < 5; i++) await c.write('{"id":"x","cmd":"status","pad":"'.padEnd(1000, 'z'));
    await c.write('"}\n');
    expect(await c.next()).toEqual({
      id: null,
      type: 'error',
      code: 'line-too-long',
      message: 'line longer than 1024 bytes; discarded up to the next newline',
    });
    expect(await c.request({ id: 'after', cmd: 'status' })).toMatchObject({ id: 'after', type: 'status' });
    expect(c.replies).toHaveLength(2);
    expect(handler.requests.map((r) => r.id)).toEqual(['after']);
    expect(protocolErrors.map((p) => p.error.code)).toEqual(['line-too-long']);
  });

  it('accepts a line of exactly maxLineBytes', async () => {
    const { port } = await startServer({ maxLineBytes: 1024 });
    const c = await tcpClient(port);
    const prefix = '{"id":"exact","cmd":"sim.card","name":"';
    const name = 'n'.repeat(64);
    const text = `${prefix}${name}"}`.padEnd(1024, ' ');
    expect(Buffer.byteLength(text)).toBe(1024);
    expect(await c.write(`${text}\n`).then(() => c.next())).toMatchObject({ id: 'exact', type: 'done' });
    expect((await c.write(`${text} \n`).then(() => c.next())).code).toBe('line-too-long');
  });

  it('answers invalid JSON with a null id', async () => {
    const { port } = await startServer();
    const c = await tcpClient(port);
    await c.write('{"id":"1","cmd":\n');
    expect(await c.next()).toEqual({
      id: null,
      type: 'error',
      code: 'invalid-json',
      message: 'the line is not valid JSON',
    });
    await c.write(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d, 0x0a]));
    expect(await c.next()).toMatchObject({ id: null, code: 'invalid-json', message: 'the line is not valid UTF-8' });
    expect((await c.request({ id: 2, cmd: 'status' })).id).toBe('2');
  });

  it('answers an unknown command and a missing field by name', async () => {
    const { port } = await startServer();
    const c = await tcpClient(port);
    expect(await c.request({ id: 'u', cmd: 'pay' })).toMatchObject({
      id: 'u',
      type: 'error',
      code: 'unknown-command',
      field: 'cmd',
    });
    expect(await c.request({ id: 'm', cmd: 'sale' })).toEqual({
      id: 'm',
      type: 'error',
      code: 'missing-field',
      field: 'amount',
      message: 'amount: expected an integer from 1 to 99999999, found nothing',
    });
    expect(await c.request({ cmd: 'status' })).toMatchObject({ id: null, code: 'missing-field', field: 'id' });
    expect(protocolErrors.map((p) => p.error.code)).toEqual(['unknown-command', 'missing-field', 'missing-field']);
    expect(protocolErrors[0]?.clientId).toMatch(/^tcp:/);
    expect(handler.requests).toEqual([]);
  });

  it('reassembles requests split across writes and separates requests merged in one write', async () => {
    const { port } = await startServer();
    const c = await tcpClient(port);
    const text = `${JSON.stringify({ id: 'split', cmd: 'sale', amount: 1250 })}\n`;
    for (const ch of text) {
      await c.write(ch);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect((await c.until('result')).at(-1)).toMatchObject({ id: 'split', outcome: 'approved' });

    const merged = [1, 2, 3].map((n) => JSON.stringify({ id: `m${n}`, cmd: 'status' })).join('\n');
    await c.write(`${merged}\n`);
    expect([await c.next(), await c.next(), await c.next()].map((r) => r.id)).toEqual(['m1', 'm2', 'm3']);

    // A newline split from its \r and a request split at a multi-byte character.
    const euro = Buffer.from(`${JSON.stringify({ id: 'caf\u20ac', cmd: 'status' })}\r\n`);
    const at = euro.indexOf(0xe2) + 1;
    await c.write(euro.subarray(0, at));
    await new Promise((resolve) => setTimeout(resolve, 5));
    await c.write(euro.subarray(at, euro.length - 1));
    await new Promise((resolve) => setTimeout(resolve, 5));
    await c.write(euro.subarray(euro.length - 1));
    expect((await c.next()).id).toBe('caf\u20ac');
  });

  it('tolerates \\r\\n and ignores empty lines', async () => {
    const { port } = await startServer();
    const c = await tcpClient(port);
    await c.write(`\n\r\n   \n${JSON.stringify({ id: 'crlf', cmd: 'status' })}\r\n\r\n`);
    expect(await c.next()).toMatchObject({ id: 'crlf', type: 'status' });
    expect(await c.request({ id: 'next', cmd: 'status' })).toMatchObject({ id: 'next' });
    expect(c.replies).toHaveLength(2);
    expect(protocolErrors).toEqual([]);
  });

  it('sends replies as one JSON object per line', async () => {
    const { port } = await startServer();
    const raw: string[] = [];
    const c = await tcpClient(port);
    c.socket.on('data', (t: string) => raw.push(t));
    await c.write(`${JSON.stringify({ id: 'l', cmd: 'sale', amount: 5 })}\n`);
    await c.until('result');
    const lines = raw.join('').split('\n');
    expect(lines.at(-1)).toBe('');
    expect(lines.slice(0, -1).map((l) => (JSON.parse(l) as Json).type)).toEqual(['ack', 'state', 'screen', 'result']);
  });

  it('processes an unterminated last line and replies before closing when the client half-closes', async () => {
    const { port } = await startServer();
    const c = await tcpClient(port);
    c.socket.end(
      `${JSON.stringify({ id: 'h1', cmd: 'status' })}\n${JSON.stringify({ id: 'h2', cmd: 'sale', amount: 9 })}`,
    );
    await until(() => c.closed, 'server to close');
    expect(c.replies.map((r) => `${r.id}:${r.type}`)).toEqual([
      'h1:status',
      'h2:ack',
      'h2:state',
      'h2:screen',
      'h2:result',
    ]);
  });
});

describe('EcrServer: policy', () => {
  const TOKEN = 'register-1-token-0123456789';

  it('refuses a request without a listed token and reports it', async () => {
    const { port } = await startServer({ tokens: [TOKEN, 'register-2-token-abcdefghij'] });
    const c = await tcpClient(port);
    expect(await c.request({ id: 'n', cmd: 'status' })).toEqual({
      id: 'n',
      type: 'error',
      code: 'unauthorized',
      message: 'a valid token is required',
    });
    expect(await c.request({ id: 'w', cmd: 'sale', amount: 100, token: 'guess' })).toMatchObject({
      id: 'w',
      code: 'unauthorized',
    });
    expect(await c.request({ id: 'sim', cmd: 'sim.card', token: `${TOKEN}x` })).toMatchObject({ code: 'unauthorized' });
    expect(handler.requests).toEqual([]);
    expect(unauthorized.map((u) => u.request)).toEqual([
      { id: 'n', cmd: 'status' },
      { id: 'w', cmd: 'sale', amount: 100 },
      { id: 'sim', cmd: 'sim.card' },
    ]);
    expect(unauthorized[0]?.clientId).toMatch(/^tcp:127\.0\.0\.1:\d+$/);

    expect(await c.request({ id: 'ok', cmd: 'status', token: TOKEN })).toMatchObject({ id: 'ok', type: 'status' });
    expect(handler.requests).toEqual([{ id: 'ok', cmd: 'status', token: TOKEN }]);
  });

  it('refuses sim.* commands when simulator commands are off', async () => {
    const { port } = await startServer({ simulatorCommands: false });
    const c = await tcpClient(port);
    for (const cmd of ['sim.card', 'sim.remove']) {
      expect(await c.request({ id: cmd, cmd })).toEqual({
        id: cmd,
        type: 'error',
        code: 'not-allowed',
        field: 'cmd',
        message: `${cmd} is only available in simulator mode`,
      });
    }
    expect(await c.request({ id: 'f', cmd: 'sim.fault', device: 'printer', code: 'paper-out' })).toMatchObject({
      code: 'not-allowed',
    });
    expect(handler.requests).toEqual([]);
    expect(await c.request({ id: 's', cmd: 'status' })).toMatchObject({ type: 'status' });
  });

  it('turns a handler throw or rejection into an internal error for that id', async () => {
    const { port } = await startServer();
    const c = await tcpClient(port);
    expect(await c.request({ id: 'sync', cmd: 'sale', amount: 666 })).toEqual({
      id: 'sync',
      type: 'error',
      code: 'internal',
      message: 'the terminal failed to process the request',
    });
    expect(await c.request({ id: 'async', cmd: 'sale', amount: 667 })).toMatchObject({ id: 'async', code: 'internal' });
    expect(await c.request({ id: 'enc', cmd: 'sale', amount: 668 })).toMatchObject({ id: 'enc', code: 'internal' });
    expect(handlerErrors.map((e) => (e as Error).message)).toEqual(['handler bug', 'async handler bug']);
    expect(await c.request({ id: 'alive', cmd: 'status' })).toMatchObject({ id: 'alive', type: 'status' });
  });
});

describe('EcrServer: connections', () => {
  it('drops writes to a closed client and reports the disconnect', async () => {
    const { port } = await startServer();
    const c = await tcpClient(port);
    await c.request({ id: '1', cmd: 'status' });
    const session = handler.sessions[0]!;
    c.close();
    await until(() => handler.disconnects.length === 1, 'disconnect');
    expect(handler.disconnects).toEqual([session.clientId]);
    expect(session.closed).toBe(true);
    for (let i = 0; i < 100; i++) session.send({ id: '1', type: 'state', state: 'late' });
    const other = await tcpClient(port);
    expect(await other.request({ id: '2', cmd: 'status' })).toMatchObject({ type: 'status' });
  });

  it('survives a client that resets while replies are being written', async () => {
    const { port } = await startServer();
    for (let i = 0; i < 5; i++) {
      const c = await tcpClient(port);
      await c.write(`${JSON.stringify({ id: 'r', cmd: 'sale', amount: 1 })}\n`);
      c.socket.resetAndDestroy();
    }
    await until(() => handler.disconnects.length === 5, 'disconnects');
    await new Promise((resolve) => setTimeout(resolve, 20));
    const c = await tcpClient(port);
    expect(await c.request({ id: 'ok', cmd: 'status' })).toMatchObject({ type: 'status' });
  });

  it('drops a client that does not read once its reply backlog passes the limit', async () => {
    const { port } = await startServer({ maxWriteBufferBytes: 1024 * 1024 });
    const c = await tcpClient(port);
    c.socket.pause();
    await c.write(`${JSON.stringify({ id: 'flood', cmd: 'sale', amount: 669 })}\n`);
    await until(() => handler.disconnects.length === 1, 'the flooded client to be dropped');
    expect(handler.sessions[0]?.closed).toBe(true);
    const other = await tcpClient(port);
    expect(await other.request({ id: 'ok', cmd: 'status' })).toMatchObject({ type: 'status' });
  });

  it('broadcasts to every client', async () => {
    const { port, socketPath } = await startServer();
    const a = await tcpClient(port);
    const b = await unixClient(socketPath!);
    await until(() => server!.connectionCount === 2, 'both connections');
    server!.broadcast({ id: 'screen', type: 'screen', screen: { title: 'IDLE', lines: [], severity: 'info' } });
    expect(await a.next()).toMatchObject({ type: 'screen' });
    expect(await b.next()).toMatchObject({ type: 'screen' });
  });
});

describe('EcrServer: Unix socket file', () => {
  it('creates the parent directory, sets mode 0660 and removes the socket on stop', async () => {
    const path = join(dir, 'a', 'b', 'ecr.sock');
    const started = await startServer({ socketPath: path });
    expect(started.socketPath).toBe(path);
    expect(lstatSync(path).isSocket()).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o660);
    await server!.stop();
    expect(existsSync(path)).toBe(false);
  });

  it('replaces a stale socket file left by a dead process', async () => {
    const path = join(dir, 'ecr.sock');
    // A process that binds the socket and exits without closing leaves the file behind.
    execFileSync(process.execPath, [
      '-e',
      `require('net').createServer().listen(${JSON.stringify(path)}, () => process.exit(0))`,
    ]);
    expect(lstatSync(path).isSocket()).toBe(true);
    await startServer({ socketPath: path });
    const c = await unixClient(path);
    expect(await c.request({ id: 'fresh', cmd: 'status' })).toMatchObject({ id: 'fresh', type: 'status' });
  });

  it('refuses to remove a regular file at the socket path', async () => {
    const path = join(dir, 'ecr.sock');
    writeFileSync(path, 'not a socket');
    await expect(startServer({ socketPath: path })).rejects.toThrow(/is not a socket/);
    expect(readFileSync(path, 'utf8')).toBe('not a socket');
  });

  it('refuses a socket another live server is listening on', async () => {
    const path = join(dir, 'ecr.sock');
    const first = new EcrServer(new FakeHandler(), { simulatorCommands: false, socketPath: path });
    await first.start();
    try {
      await expect(startServer({ socketPath: path })).rejects.toThrow(/in use/);
      const c = await unixClient(path);
      expect(await c.request({ id: 'first', cmd: 'status' })).toMatchObject({ type: 'status' });
    } finally {
      await first.stop();
    }
  });

  it('runs TCP only when no socket path is given', async () => {
    const started = await startServer({ socketPath: null });
    expect(started.socketPath).toBeNull();
    const c = await tcpClient(started.port);
    expect(await c.request({ id: 't', cmd: 'status' })).toMatchObject({ type: 'status' });
  });
});

describe('LineReader', () => {
  it('never holds more than maxLineBytes and yields the same lines for any chunking', () => {
    const max = 32;
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: fc.constantFrom('a', 'b', '\r', '\u00e9'), maxLength: 48 }), { maxLength: 10 }),
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 10 }),
        (lines, cuts) => {
          const wire = Buffer.from(lines.map((l) => `${l}\n`).join(''));
          const reader = new LineReader(max);
          const out: string[] = [];
          let offset = 0;
          let i = 0;
          while (offset < wire.length) {
            const size = cuts[i++ % cuts.length]!;
            for (const e of reader.push(wire.subarray(offset, offset + size)))
              out.push('line' in e ? e.line.toString() : '<too long>');
            expect(reader.pendingBytes).toBeLessThanOrEqual(max);
            offset += size;
          }
          const expected = lines.map((l) => (Buffer.byteLength(l) > max ? '<too long>' : l.replace(/\r$/, '')));
          expect(out).toEqual(expected);
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('reports an overlong line as soon as it crosses the limit', () => {
    const reader = new LineReader(8);
    expect(reader.push(Buffer.from('12345'))).toEqual([]);
    expect(reader.push(Buffer.from('6789'))).toEqual([{ tooLong: true }]);
    expect(reader.pendingBytes).toBe(0);
    expect(reader.push(Buffer.from('xxxxxxxxxxxxxxxxxxxx'))).toEqual([]);
    expect(reader.push(Buffer.from('x\nok\n')).map((e) => ('line' in e ? e.line.toString() : 'too long'))).toEqual([
      'ok',
    ]);
  });
});
