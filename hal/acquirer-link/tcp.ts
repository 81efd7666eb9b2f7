/**
 * TCP (optionally TLS) host link with 2-byte length framing, reconnect with exponential backoff and jitter,
 * and response matching by correlation key. All timing goes through the injected Clock.
 */
import net from 'node:net';
import tls from 'node:tls';
import { backoffDelay } from '../backoff.js';
import { systemClock, type Clock, type TimerHandle } from '../clock.js';
import { TypedEmitter } from '../events.js';
import { DeviceFaultError } from '../fault.js';
import type { Correlator, ExchangeOptions, HostLink, HostLinkEvents, HostLinkFaultCode } from './contract.js';
import { encodeFrame, FrameDecoder, MAX_FRAME_BYTES } from './framing.js';

export interface TcpHostLinkOptions {
  host: string;
  port: number;
  correlator: Correlator;
  clock?: Clock;
  responseTimeoutMs?: number;
  connectTimeoutMs?: number;
  reconnect?: { initialDelayMs: number; maxDelayMs: number };
  maxFrameBytes?: number;
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; serverName?: string; rejectUnauthorized?: boolean };
  /** Source of jitter in [0,1); injectable so backoff is reproducible in tests. */
  random?: () => number;
  /** How many timed-out keys to remember so their late answers are recognised as late. */
  lateKeyMemory?: number;
}

interface Pending {
  resolve: (frame: Buffer) => void;
  reject: (err: DeviceFaultError<HostLinkFaultCode>) => void;
  timer: TimerHandle;
  cleanup: () => void;
}

function fault(code: HostLinkFaultCode, message: string, sent: boolean, extra: Record<string, string | number> = {}) {
  return new DeviceFaultError<HostLinkFaultCode>('host-link', code, message, { sent, ...extra });
}

export class TcpHostLink implements HostLink {
  private readonly clock: Clock;
  private readonly events = new TypedEmitter<HostLinkEvents>();
  private readonly pending = new Map<string, Pending>();
  /** Keys answered or timed out recently: a frame for them is a duplicate or a late answer, not unmatched. */
  private readonly settled = new Map<string, 'answered' | 'timed-out'>();
  private socket: net.Socket | undefined;
  private up = false;
  private running = false;
  private connecting = false;
  private attempt = 0;
  private reconnectTimer: TimerHandle | undefined;
  private connectTimer: TimerHandle | undefined;
  /** Requests waiting for a connection: told when it comes up, or when the attempt fails. */
  private readonly waitersForUp = new Set<{ up: () => void; failed: (reason: string) => void }>();

  constructor(private readonly options: TcpHostLinkOptions) {
    this.clock = options.clock ?? systemClock;
  }

  private get maxFrameBytes(): number {
    return Math.min(this.options.maxFrameBytes ?? 8192, MAX_FRAME_BYTES);
  }

  on<E extends keyof HostLinkEvents>(event: E, listener: (payload: HostLinkEvents[E]) => void): () => void {
    return this.events.on(event, listener);
  }

  private emit<E extends keyof HostLinkEvents>(event: E, payload: HostLinkEvents[E]): void {
    this.events.emit(event, payload);
  }

  isUp(): boolean {
    return this.up;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.connect();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.reconnectTimer?.cancel();
    this.reconnectTimer = undefined;
    this.failAll('stopped', 'host link stopped');
    const socket = this.socket;
    if (socket && !socket.destroyed) {
      await new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        socket.destroy();
      });
    }
  }

  async exchange(frame: Uint8Array, key: string, options: ExchangeOptions = {}): Promise<Buffer> {
    if (frame.length > this.maxFrameBytes) {
      throw fault(
        'frame-too-large',
        `request of ${frame.length} bytes exceeds the ${this.maxFrameBytes}-byte limit`,
        false,
      );
    }
    if (this.pending.has(key)) {
      throw fault('duplicate-key', `a request with key ${key} is already waiting for its response`, false);
    }
    if (options.signal?.aborted) throw fault('cancelled', 'request cancelled before it was sent', false);
    if (!this.up) {
      await this.waitUntilUp(options.signal);
      if (this.pending.has(key))
        throw fault('duplicate-key', `a request with key ${key} is already waiting for its response`, false);
    }
    const socket = this.socket;
    if (!socket || !this.up) throw fault('not-connected', 'host link is down', false);

    this.settled.delete(key);
    return new Promise<Buffer>((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? this.options.responseTimeoutMs ?? 30_000;
      const onAbort = () =>
        this.settle(key, 'timed-out', fault('cancelled', 'request cancelled while waiting for the host', true));
      const entry: Pending = {
        resolve,
        reject,
        timer: this.clock.setTimeout(
          () =>
            this.settle(
              key,
              'timed-out',
              fault('timeout', `no response from host within ${timeoutMs} ms`, true, { timeoutMs }),
            ),
          timeoutMs,
        ),
        cleanup: () => options.signal?.removeEventListener('abort', onAbort),
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(key, entry);
      // Once write() is called the bytes may reach the host even if the socket fails right after: count as sent.
      socket.write(encodeFrame(frame));
    });
  }

  /** Finish a pending request with a response frame or a fault. */
  private settle(
    key: string,
    as: 'answered' | 'timed-out',
    outcome: Buffer | DeviceFaultError<HostLinkFaultCode>,
  ): void {
    const entry = this.pending.get(key);
    if (!entry) return;
    this.pending.delete(key);
    entry.timer.cancel();
    entry.cleanup();
    this.remember(key, as);
    if (outcome instanceof DeviceFaultError) entry.reject(outcome);
    else entry.resolve(outcome);
  }

  private remember(key: string, as: 'answered' | 'timed-out'): void {
    this.settled.delete(key);
    this.settled.set(key, as);
    const limit = this.options.lateKeyMemory ?? 1024;
    while (this.settled.size > limit) {
      const oldest = this.settled.keys().next().value as string;
      this.settled.delete(oldest);
    }
  }

  private onFrame(frame: Buffer): void {
    let key: string | undefined;
    try {
      key = this.options.correlator(frame);
    } catch {
      key = undefined; // a correlator that chokes on garbage must not take the link down
    }
    if (key === undefined) {
      this.emit('unsolicited', { frame, reason: 'unkeyed' });
      return;
    }
    if (this.pending.has(key)) {
      this.settle(key, 'answered', frame);
      return;
    }
    const earlier = this.settled.get(key);
    this.emit('unsolicited', {
      frame,
      key,
      reason: earlier === 'timed-out' ? 'late' : earlier === 'answered' ? 'duplicate' : 'unmatched',
    });
  }

  private waitUntilUp(signal?: AbortSignal): Promise<void> {
    if (!this.running) return Promise.reject(fault('not-connected', 'host link not started', false));
    // A request while the link is down triggers an immediate attempt instead of waiting out the backoff.
    if (this.running && !this.connecting) {
      this.reconnectTimer?.cancel();
      this.reconnectTimer = undefined;
      this.connect();
    }
    return new Promise<void>((resolve, reject) => {
      const limit = this.options.connectTimeoutMs ?? 5_000;
      const waiter = {
        up: () => {
          done();
          resolve();
        },
        failed: (reason: string) => {
          done();
          reject(fault('not-connected', `host not reachable: ${reason}`, false));
        },
      };
      const done = () => {
        timer.cancel();
        this.waitersForUp.delete(waiter);
        signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = () => {
        done();
        reject(fault('cancelled', 'request cancelled before it was sent', false));
      };
      const timer = this.clock.setTimeout(() => waiter.failed(`no connection within ${limit} ms`), limit);
      this.waitersForUp.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private connect(): void {
    if (!this.running || this.connecting || this.up) return;
    this.connecting = true;
    const { host, port } = this.options;
    const decoder = new FrameDecoder(this.maxFrameBytes);
    const tlsOptions = this.options.tls;
    const socket: net.Socket = tlsOptions
      ? tls.connect({
          host,
          port,
          ca: tlsOptions.ca,
          cert: tlsOptions.cert,
          key: tlsOptions.key,
          servername: tlsOptions.serverName ?? host,
          rejectUnauthorized: tlsOptions.rejectUnauthorized ?? true,
        })
      : net.connect({ host, port });
    this.socket = socket;
    socket.setNoDelay(true);
    this.connectTimer = this.clock.setTimeout(
      () => socket.destroy(new Error('connect timeout')),
      this.options.connectTimeoutMs ?? 5_000,
    );

    socket.once(tlsOptions ? 'secureConnect' : 'connect', () => {
      this.connectTimer?.cancel();
      this.connecting = false;
      this.up = true;
      this.attempt = 0;
      this.emit('up', { remote: `${host}:${port}` });
      for (const waiter of [...this.waitersForUp]) waiter.up();
    });
    socket.on('data', (chunk: Buffer) => {
      const result = decoder.push(chunk);
      for (const frame of result.frames) this.onFrame(frame);
      if (!result.ok) {
        const message = `host announced a ${result.error.announced}-byte frame, over the ${result.error.limit}-byte limit; dropping the connection`;
        this.emit('frame-error', { code: 'frame-too-large', message });
        socket.destroy();
      }
    });
    let lastError = '';
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // 'close' follows every 'error'; keep the reason for it.
      lastError = err.code ?? err.message;
    });
    socket.once('close', () => {
      this.connectTimer?.cancel();
      const wasUp = this.up;
      this.up = false;
      this.connecting = false;
      if (this.socket === socket) this.socket = undefined;
      const midFrame = decoder.pendingBytes > 0 ? ` with ${decoder.pendingBytes} bytes of a partial frame` : '';
      if (wasUp) {
        this.emit('down', { reason: this.running ? `connection closed${midFrame}` : 'link stopped' });
        this.failAll('link-down', `connection to host lost${midFrame}`);
      } else {
        for (const waiter of [...this.waitersForUp]) waiter.failed(lastError || 'connection closed during connect');
      }
      this.scheduleReconnect();
    });
  }

  private failAll(code: 'link-down' | 'stopped', message: string): void {
    for (const key of [...this.pending.keys()]) this.settle(key, 'timed-out', fault(code, message, true));
  }

  private scheduleReconnect(): void {
    if (!this.running) return;
    this.attempt += 1;
    // Equal jitter keeps at least half the ceiling, so a fleet reconnecting after a host outage spreads out.
    const delay = backoffDelay(
      this.attempt,
      this.options.reconnect ?? { initialDelayMs: 500, maxDelayMs: 30_000 },
      this.options.random,
    );
    this.reconnectTimer = this.clock.setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connect();
    }, delay);
  }

  /** Backoff delay the next reconnect will use before jitter; exposed for tests and telemetry. */
  get reconnectAttempts(): number {
    return this.attempt;
  }
}
