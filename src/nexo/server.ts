/**
 * The nexo endpoint: HTTPS POST of one SaleToPOIRequest to /nexo/ (or /nexo), one SaleToPOIResponse back. The
 * transport bounds what a client can hold: body size, time to send the request, connections, idle keep-alive and
 * TLS handshake time. Whatever arrives, the answer is a nexo Failure or the handler's response, never a stack trace.
 */
import https from 'node:https';
import type { Socket } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Clock, systemClock } from '../../hal/clock.js';
import { type RateLimitOptions, RateLimiter } from '../ecr/limits/token-bucket.js';
import { type ExchangeDeps, exchange, type NexoBadInput } from './exchange.js';
import { ConnectionWatch } from './connection-watch.js';
import { echoedHeader, nexoFailure } from './failure.js';
import { NexoKeyRing, type NexoSecurityKeyConfig } from './security.js';
import { loadNexoTls, type NexoTlsOptions } from './tls.js';
import type { NexoHandler } from './types.js';

export type { NexoBadInput } from './exchange.js';

export interface NexoLimits {
  /** Longest accepted body; a longer one is answered 413 and the connection closed. */
  maxBodyBytes: number;
  /** Time to receive a whole request (headers and body) from its first byte; on the injected Clock. */
  requestTimeoutMs: number;
  /** Time to receive the headers (node's own timer, a backstop at twice this). */
  headersTimeoutMs: number;
  /** Connections beyond this are dropped at accept. */
  maxConnections: number;
  /** A connection with no request this long (kept alive, or never used) is closed; on the injected Clock. */
  keepAliveTimeoutMs: number;
  /** A TLS handshake not done in this time is dropped. */
  handshakeTimeoutMs: number;
  /** How often node checks its backstop timeouts. */
  checkIntervalMs: number;
}

export const DEFAULT_NEXO_LIMITS: NexoLimits = {
  maxBodyBytes: 64 * 1024,
  requestTimeoutMs: 15_000,
  headersTimeoutMs: 10_000,
  maxConnections: 64,
  keepAliveTimeoutMs: 5_000,
  handshakeTimeoutMs: 10_000,
  checkIntervalMs: 1_000,
};

export interface NexoServerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 8443; 0 picks a free port. */
  port?: number;
  tls: NexoTlsOptions;
  securityKeys: readonly NexoSecurityKeyConfig[];
  allowPlain: boolean;
  handler: NexoHandler;
  /** Input refused before the handler; `clientId` is `nexo:<remote address>`. */
  onBadInput?(clientId: string, reason: NexoBadInput): void;
  /** A handler that threw or answered nothing usable; the client only gets a generic Failure. */
  onHandlerError?(clientId: string, error: unknown): void;
  limits?: Partial<NexoLimits>;
  /**
   * Requests per client (`nexo:<address>`, shared by all its connections); beyond, a Busy Failure answered from
   * memory (nothing journaled). An Abort is never held back. Absent: no limit.
   */
  rateLimit?: RateLimitOptions;
  /** Time for the rate limit, idle and request timeouts; default the system clock. */
  clock?: Clock;
}

export interface RunningNexoServer {
  port: number;
  /** SHA-256 of the served certificate, colon hex. */
  fingerprint: string;
  stop(): Promise<void>;
}

const PATHS = new Set(['/nexo', '/nexo/']);
/** Node's own timeouts run this many times the configured ones, behind the Clock's. */
const BACKSTOP = 2;

function send(res: ServerResponse, status: number, body: unknown, close = false): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    ...(close ? { Connection: 'close' } : {}),
  });
  res.end(text);
}

export function clientIdOf(socket: Socket): string {
  return `nexo:${socket.remoteAddress ?? 'unknown'}`;
}

export async function startNexoServer(options: NexoServerOptions): Promise<RunningNexoServer> {
  const limits = { ...DEFAULT_NEXO_LIMITS, ...options.limits };
  const tls = await loadNexoTls(options.tls);
  const clock = options.clock ?? systemClock;
  const limiter = options.rateLimit ? new RateLimiter(options.rateLimit, () => clock.now()) : undefined;
  const deps: ExchangeDeps = {
    keys: new NexoKeyRing(options.securityKeys),
    allowPlain: options.allowPlain,
    handler: options.handler,
    onBadInput: (clientId, reason) => options.onBadInput?.(clientId, reason),
    onHandlerError: (clientId, error) => options.onHandlerError?.(clientId, error),
  };

  const server = https.createServer(
    {
      cert: tls.cert,
      key: tls.key,
      handshakeTimeout: limits.handshakeTimeoutMs,
      // The limits are kept on the injected Clock (ConnectionWatch); node's own timers are a backstop behind them.
      requestTimeout: BACKSTOP * limits.requestTimeoutMs,
      headersTimeout: BACKSTOP * Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs),
      keepAliveTimeout: BACKSTOP * limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: limits.checkIntervalMs,
      maxHeaderSize: 16 * 1024,
    },
    (req, res) => {
      const watch = watches.get(req.socket);
      if (watch) {
        // An early refusal may be sent before the body is drained: then the request is over already.
        req.once('end', () => {
          if (!res.writableFinished) watch.received();
        });
        res.once('finish', () => watch.answered());
      }
      onRequest(req, res, limits, deps, limiter);
    },
  );
  const watches = new WeakMap<Socket, ConnectionWatch>();
  server.on('secureConnection', (socket: Socket) => {
    watches.set(socket, new ConnectionWatch(socket, clock, limits.keepAliveTimeoutMs, limits.requestTimeoutMs));
  });
  server.maxConnections = limits.maxConnections;
  // A handler may wait on a card for a minute: no inactivity timeout while a request is being answered.
  server.timeout = 0;
  server.on('clientError', (_err, socket: Socket) => {
    deps.onBadInput(clientIdOf(socket), 'malformed-http');
    if (socket.writable) {
      const text = JSON.stringify(nexoFailure(undefined, 'MessageFormat', { reason: 'malformed-http' }));
      socket.end(
        `HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n` +
          `Connection: close\r\n\r\n${text}`,
      );
    } else {
      socket.destroy();
    }
  });
  // A failed handshake (wrong certificate pinned, garbage) only ends that connection.
  server.on('tlsClientError', () => {});

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 8443 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;

  let stopping: Promise<void> | undefined;
  return {
    port,
    fingerprint: tls.fingerprint,
    stop: () => {
      stopping ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return stopping;
    },
  };
}

/** Over its client's rate: answered Busy from memory. An Abort stops a payment and is never held back. */
function overRate(body: Buffer, clientId: string, limiter: RateLimiter | undefined): unknown {
  if (!limiter) return undefined;
  let request: unknown;
  try {
    request = JSON.parse(body.toString('utf8'));
  } catch {
    request = undefined;
  }
  if (echoedHeader(request)['MessageCategory'] === 'Abort' || limiter.take(clientId)) return undefined;
  return nexoFailure(request, 'Busy', { reason: 'rate-limited', message: 'too many requests; slow down' });
}

function onRequest(
  req: IncomingMessage,
  res: ServerResponse,
  limits: NexoLimits,
  deps: ExchangeDeps,
  limiter: RateLimiter | undefined,
): void {
  const clientId = clientIdOf(req.socket);
  req.on('error', () => {});
  const refuse = (status: number, reason: NexoBadInput, message: string, close = false) => {
    deps.onBadInput(clientId, reason);
    send(res, status, nexoFailure(undefined, 'MessageFormat', { reason, message }), close);
  };
  const path = (req.url ?? '').split('?')[0];
  if (path === undefined || !PATHS.has(path)) {
    req.resume();
    refuse(404, 'wrong-path', 'POST one SaleToPOIRequest to /nexo/', true);
    return;
  }
  if (req.method !== 'POST') {
    req.resume();
    res.setHeader('Allow', 'POST');
    refuse(405, 'wrong-method', 'POST one SaleToPOIRequest to /nexo/', true);
    return;
  }
  // Past the limit the rest is read and dropped, up to this much, so the client can read its 413 cleanly.
  const drainBytes = limits.maxBodyBytes * 16;
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > drainBytes) {
    refuse(413, 'too-large', `the body exceeds ${limits.maxBodyBytes} bytes`, true);
    res.on('finish', () => req.socket.destroy());
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let overflow = false;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (overflow) {
      if (size > drainBytes) req.socket.destroy();
      return;
    }
    if (size > limits.maxBodyBytes) {
      overflow = true;
      chunks.length = 0;
      return;
    }
    chunks.push(chunk);
  });
  req.on('end', () => {
    if (overflow) {
      refuse(413, 'too-large', `the body exceeds ${limits.maxBodyBytes} bytes`, true);
      return;
    }
    const body = Buffer.concat(chunks);
    const busy = overRate(body, clientId, limiter);
    if (busy !== undefined) {
      send(res, 429, busy);
      return;
    }
    exchange(body, clientId, deps).then(
      (reply) => send(res, 200, reply),
      (err: unknown) => {
        deps.onHandlerError(clientId, err);
        send(res, 500, nexoFailure(undefined, 'UnavailableService', { reason: 'internal' }));
      },
    );
  });
}
