/**
 * ECR API transport: newline-delimited JSON over TCP (loopback by default) and a Unix socket. This layer splits,
 * decodes and validates lines, enforces tokens and the simulator switch, and hands valid requests to the handler.
 * Nothing a client sends or fails to read can bring the server down: every bad line gets a typed error reply.
 * Line splitting is in line-reader.ts, the client side of a connection in socket-session.ts, the Unix socket's
 * file in socket-file.ts.
 */
import { promises as fs } from 'node:fs';
import net from 'node:net';
import { type Clock, systemClock } from '../../hal/clock.js';
import { matchingToken } from './client-tokens.js';
import { principalOf, addressKey } from './limits/client-key.js';
import { IdleWatch } from './limits/idle-watch.js';
import { type RateLimitOptions, RateLimiter } from './limits/token-bucket.js';
import { type LineEvent, LineReader } from './line-reader.js';
import {
  ecrError,
  isSimulatorCommand,
  parseRequestLine,
  type EcrErrorReply,
  type EcrReply,
  type EcrRequest,
} from './protocol.js';
import { prepareSocketPath, removeSocketFile } from './socket-file.js';
import { type EcrSession, SocketSession } from './socket-session.js';

export type { EcrSession } from './socket-session.js';

export interface EcrHandler {
  /**
   * Called once per valid, authorised request, in arrival order, without waiting for earlier calls to settle
   * (a cancel must reach a sale in progress). Return a promise that settles after the command's last reply so
   * that a client that half-closes its side still receives it. A throw or rejection becomes an `internal` error.
   */
  handle(request: EcrRequest, session: EcrSession): void | Promise<void>;
  onDisconnect?(session: EcrSession): void;
}

export interface EcrServerOptions {
  /** TCP listen address; default 127.0.0.1. */
  host?: string;
  /** TCP port; 0 (the default) picks a free one. */
  port?: number;
  /** Unix socket path, or null/absent for TCP only. */
  socketPath?: string | null;
  /** Longest accepted line in bytes, newline excluded; default 65536. Also the most buffered per connection. */
  maxLineBytes?: number;
  /** sim.* commands are refused with `not-allowed` when false. */
  simulatorCommands: boolean;
  /** When non-empty, a request without one of these tokens is refused `unauthorized`. */
  tokens?: string[];
  /** A refused token. The request is passed without its `token`, so the guess is not logged. */
  onUnauthorized?(clientId: string, request: EcrRequest): void;
  /** Every error reply this layer produces (bad line, bad request, sim.* refused). */
  onProtocolError?(clientId: string, error: EcrErrorReply): void;
  /** A handler that threw or rejected; the client only gets a generic `internal` error. */
  onHandlerError?(clientId: string, request: EcrRequest, error: unknown): void;
  /** A client that does not read is dropped once this many reply bytes are queued; default 1 MiB. */
  maxWriteBufferBytes?: number;
  /** Time for idle timeouts and rate limits; default the system clock. */
  clock?: Clock;
  /** Open connections at most (TCP and Unix together); beyond, a new one gets `too-many-connections`. Default 32. */
  maxConnections?: number;
  /** A connection silent this long (and with no command running) is closed; default 5 minutes; null: never. */
  idleTimeoutMs?: number | null;
  /**
   * Requests per client (a token bucket by principal: a token's holder or an address, shared by all of that client's
   * connections); over it a request gets `rate-limited`. Absent: no limit.
   */
  rateLimit?: RateLimitOptions;
  /** Per-client lockout (by principal: a token's holder or an address); absent: nobody is locked out here. */
  clientLockout?: ClientLockoutHook;
  /** A client just locked out by its refusals. */
  onClientLocked?(principal: string, until: number): void;
}

/** What the server needs of a client lockout (src/risk/client-lockout.ts provides it). */
export interface ClientLockoutHook {
  lockedUntil(principal: string): number | undefined;
  refused(principal: string): { locked: false } | { locked: true; until: number };
}

export const DEFAULT_MAX_LINE_BYTES = 65_536;
export const DEFAULT_MAX_WRITE_BUFFER_BYTES = 1024 * 1024;
export const DEFAULT_MAX_CONNECTIONS = 32;
export const DEFAULT_IDLE_TIMEOUT_MS = 5 * 60_000;
const REPLY_BATCH = 256;

interface Connection {
  socket: net.Socket;
  session: SocketSession;
  reader: LineReader;
  inFlight: number;
  remoteEnded: boolean;
  idle: IdleWatch | undefined;
}

// fatal: bytes that are not UTF-8 are refused rather than turned into U+FFFD inside an otherwise valid request.
const utf8 = new TextDecoder('utf-8', { fatal: true });

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

function listen(server: net.Server, options: net.ListenOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(options, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

export class EcrServer {
  private readonly maxLineBytes: number;
  private readonly maxWriteBufferBytes: number;
  private readonly tokens: readonly string[];
  private readonly connections = new Set<Connection>();
  private tcpServer: net.Server | undefined;
  private unixServer: net.Server | undefined;
  private socketPath: string | null = null;
  private unixCount = 0;
  private state: 'new' | 'starting' | 'running' | 'stopped' = 'new';
  private readonly clock: Clock;
  private readonly maxConnections: number;
  private readonly idleTimeoutMs: number | null;
  private readonly rateLimiter: RateLimiter | undefined;

  constructor(
    private readonly handler: EcrHandler,
    private readonly options: EcrServerOptions,
  ) {
    this.maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.maxWriteBufferBytes = options.maxWriteBufferBytes ?? DEFAULT_MAX_WRITE_BUFFER_BYTES;
    if (!Number.isInteger(this.maxLineBytes) || this.maxLineBytes < 1) {
      throw new RangeError(`maxLineBytes must be a positive integer, got ${this.maxLineBytes}`);
    }
    this.tokens = options.tokens ?? [];
    this.clock = options.clock ?? systemClock;
    this.maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    this.idleTimeoutMs = options.idleTimeoutMs === undefined ? DEFAULT_IDLE_TIMEOUT_MS : options.idleTimeoutMs;
    this.rateLimiter = options.rateLimit ? new RateLimiter(options.rateLimit, () => this.clock.now()) : undefined;
  }

  async start(): Promise<{ port: number; socketPath: string | null }> {
    if (this.state !== 'new') throw new Error('EcrServer can only be started once');
    this.state = 'starting';
    try {
      const tcp = this.createServer((socket) => `tcp:${socket.remoteAddress}:${socket.remotePort}`);
      this.tcpServer = tcp;
      await listen(tcp, { host: this.options.host ?? '127.0.0.1', port: this.options.port ?? 0 });
      const address = tcp.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;

      const path = this.options.socketPath ?? null;
      if (path !== null) {
        await prepareSocketPath(path);
        const unix = this.createServer(() => `unix:${++this.unixCount}`);
        this.unixServer = unix;
        await listen(unix, { path });
        this.socketPath = path;
        await fs.chmod(path, 0o660);
      }
      this.state = 'running';
      return { port, socketPath: path };
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    for (const conn of this.connections) {
      conn.idle?.stop();
      conn.socket.destroy();
    }
    const closing: Promise<void>[] = [];
    if (this.tcpServer?.listening) closing.push(closeServer(this.tcpServer));
    if (this.unixServer?.listening) closing.push(closeServer(this.unixServer));
    await Promise.all(closing);
    if (this.socketPath !== null) {
      await removeSocketFile(this.socketPath);
      this.socketPath = null;
    }
  }

  /** Sends a reply to every connected client (e.g. a screen change nobody asked for). */
  broadcast(reply: EcrReply): void {
    for (const conn of this.connections) conn.session.send(reply);
  }

  /** Number of open client connections. */
  get connectionCount(): number {
    return this.connections.size;
  }

  private createServer(clientId: (socket: net.Socket) => string): net.Server {
    // allowHalfOpen: a register may send its request and shut down its side, still expecting the replies.
    const server = net.createServer({ allowHalfOpen: true }, (socket) => this.accept(socket, clientId(socket)));
    // Accept failures (EMFILE and the like) are transient; the server keeps listening.
    server.on('error', () => {});
    return server;
  }

  private accept(socket: net.Socket, clientId: string): void {
    if (this.state === 'stopped') {
      socket.destroy();
      return;
    }
    socket.on('error', () => socket.destroy());
    if (this.connections.size >= this.maxConnections) {
      // Refused with a reason and closed at once: a flood of connections costs a reply each, never a session.
      const reply = ecrError(null, 'too-many-connections', `at most ${this.maxConnections} connections`);
      socket.end(`${JSON.stringify(reply)}\n`, () => socket.destroy());
      return;
    }
    if (typeof socket.setNoDelay === 'function') socket.setNoDelay(true);
    const conn: Connection = {
      socket,
      session: new SocketSession(clientId, socket, this.maxWriteBufferBytes),
      reader: new LineReader(this.maxLineBytes),
      inFlight: 0,
      remoteEnded: false,
      idle: undefined,
    };
    this.connections.add(conn);
    if (this.idleTimeoutMs !== null) {
      conn.idle = new IdleWatch(
        this.clock,
        this.idleTimeoutMs,
        () => conn.inFlight > 0,
        () => {
          conn.session.send(ecrError(null, 'idle-timeout', `no request for ${this.idleTimeoutMs} ms`));
          conn.socket.end(() => conn.socket.destroy());
        },
      );
    }

    // EPIPE, ECONNRESET and friends: the client is gone, 'close' follows (the handler is attached above).
    socket.on('data', (chunk: Buffer) => {
      conn.idle?.touch();
      this.receive(conn, conn.reader.push(chunk));
    });
    socket.on('end', () => {
      this.receive(conn, conn.reader.end());
      conn.remoteEnded = true;
      this.endIfIdle(conn);
    });
    socket.on('close', () => {
      conn.idle?.stop();
      this.connections.delete(conn);
      try {
        this.handler.onDisconnect?.(conn.session);
      } catch {
        // A failing disconnect hook must not take other connections with it.
      }
    });
  }

  private receive(conn: Connection, events: LineEvent[]): void {
    // Replies to a batch of lines leave in one write: a flood of bad lines costs a syscall per batch, not per line.
    // Batches stay small so a batch's replies are flushed long before they could reach the write-buffer bound.
    const cork = events.length > 1 && typeof conn.socket.cork === 'function';
    for (let i = 0; i < events.length; i += REPLY_BATCH) {
      if (cork) conn.socket.cork();
      try {
        this.receiveLines(conn, i === 0 && events.length <= REPLY_BATCH ? events : events.slice(i, i + REPLY_BATCH));
      } finally {
        if (cork) conn.socket.uncork();
      }
    }
  }

  private receiveLines(conn: Connection, events: LineEvent[]): void {
    for (const event of events) {
      if (conn.session.closed) return;
      if ('tooLong' in event) {
        this.protocolError(
          conn,
          ecrError(
            null,
            'line-too-long',
            `line longer than ${this.maxLineBytes} bytes; discarded up to the next newline`,
          ),
        );
        continue;
      }
      let text: string;
      try {
        text = utf8.decode(event.line);
      } catch {
        this.protocolError(conn, ecrError(null, 'invalid-json', 'the line is not valid UTF-8'));
        continue;
      }
      if (text.trim() === '') continue;
      this.dispatch(conn, text);
    }
  }

  private dispatch(conn: Connection, text: string): void {
    const parsed = parseRequestLine(text);
    if (!parsed.ok) {
      this.protocolError(conn, parsed.error);
      return;
    }
    const request = parsed.request;
    const { clientId } = conn.session;

    // The token is checked first so an unauthorised client learns nothing about what the terminal allows.
    const tokenIndex = this.tokens.length > 0 ? matchingToken(request.token, this.tokens) : undefined;
    if (this.tokens.length > 0 && tokenIndex === undefined) {
      const address = addressKey(clientId);
      if (this.lockedOut(conn, request.id, address)) return;
      conn.session.send(ecrError(request.id, 'unauthorized', 'a valid token is required'));
      const { token: _token, ...withoutToken } = request;
      this.callback(() => this.options.onUnauthorized?.(clientId, withoutToken as EcrRequest));
      this.refused(address);
      return;
    }
    const principal = principalOf(clientId, tokenIndex);
    // Locked out and over the limit are answered from memory: no journal write, however many such requests come.
    if (this.lockedOut(conn, request.id, principal)) return;
    // A cancel is never held back: it stops a transaction, and a register that cannot stop one leaves a customer waiting.
    if (this.rateLimiter && request.cmd !== 'cancel' && !this.rateLimiter.take(principal)) {
      conn.session.send(ecrError(request.id, 'rate-limited', 'too many requests; slow down'));
      return;
    }
    if (isSimulatorCommand(request.cmd) && !this.options.simulatorCommands) {
      this.protocolError(
        conn,
        ecrError(request.id, 'not-allowed', `${request.cmd} is only available in simulator mode`, 'cmd'),
      );
      return;
    }

    conn.session.principal = principal;
    // A connection that made a valid request is a register's: registers keep theirs open all day between sales, so
    // only connections that never said anything valid are closed for silence.
    conn.idle?.stop();
    conn.idle = undefined;
    conn.inFlight++;
    const fail = (err: unknown) => {
      conn.session.send(ecrError(request.id, 'internal', 'the terminal failed to process the request'));
      this.callback(() => this.options.onHandlerError?.(clientId, request, err));
    };
    const settle = () => {
      conn.inFlight--;
      conn.idle?.touch();
      this.endIfIdle(conn);
    };
    let result: unknown;
    try {
      result = this.handler.handle(request, conn.session);
    } catch (err) {
      fail(err);
      settle();
      return;
    }
    if (isPromiseLike(result)) {
      result.then(settle, (err: unknown) => {
        fail(err);
        settle();
      });
    } else {
      settle();
    }
  }

  /** A refused request of `principal`, counted towards its lockout. */
  refused(principal: string): void {
    const verdict = this.options.clientLockout?.refused(principal);
    if (verdict?.locked) this.callback(() => this.options.onClientLocked?.(principal, verdict.until));
  }

  private lockedOut(conn: Connection, id: string, principal: string): boolean {
    const until = this.options.clientLockout?.lockedUntil(principal);
    if (until === undefined) return false;
    conn.session.send(ecrError(id, 'locked-out', `this client is locked out until ${new Date(until).toISOString()}`));
    return true;
  }

  private protocolError(conn: Connection, error: EcrErrorReply): void {
    conn.session.send(error);
    this.callback(() => this.options.onProtocolError?.(conn.session.clientId, error));
  }

  /** The client shut down its side: finish ours once its commands have settled. */
  private endIfIdle(conn: Connection): void {
    if (conn.remoteEnded && conn.inFlight === 0 && !conn.session.closed) conn.socket.end();
  }

  private callback(fn: () => void): void {
    try {
      fn();
    } catch {
      // Observers are for logging; their failure must not change what the client sees.
    }
  }
}
