/**
 * The nexo endpoint's time limits on the injected Clock (node's own timers stay as a backstop): a connection between
 * requests (kept alive, or never used) is closed after `idleMs`; a request that has begun (a first byte) must have
 * arrived whole, headers and body, within `requestMs`, or the connection is closed before any handler sees it. While
 * the handler answers, no limit runs: a payment may wait on a card for a minute.
 */
import type { Socket } from 'node:net';
import type { Clock, TimerHandle } from '../../hal/clock.js';

type Phase = 'idle' | 'receiving' | 'answering';

export class ConnectionWatch {
  private phase: Phase = 'idle';
  private since: number;
  private timer: TimerHandle | undefined;
  private stopped = false;

  constructor(
    private readonly socket: Socket,
    private readonly clock: Clock,
    private readonly idleMs: number,
    private readonly requestMs: number,
  ) {
    this.since = clock.now();
    // A 'data' listener is supported beside node's HTTP parser (it then reads through the stream).
    socket.on('data', () => {
      if (this.phase === 'idle') this.enter('receiving');
    });
    socket.once('close', () => this.stop());
    this.arm(idleMs);
  }

  /** The whole request has arrived: the handler has it now. */
  received(): void {
    this.enter('answering');
  }

  /** The answer has gone out: the connection waits for the next request. */
  answered(): void {
    this.enter('idle');
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
  }

  private enter(phase: Phase): void {
    this.phase = phase;
    this.since = this.clock.now();
    const limit = this.limit();
    if (limit !== undefined) this.arm(limit);
  }

  private limit(): number | undefined {
    if (this.phase === 'idle') return this.idleMs;
    return this.phase === 'receiving' ? this.requestMs : undefined;
  }

  private arm(ms: number): void {
    if (this.stopped) return;
    this.timer?.cancel();
    this.timer = this.clock.setTimeout(() => this.check(), ms);
  }

  private check(): void {
    this.timer = undefined;
    if (this.stopped) return;
    const limit = this.limit();
    if (limit === undefined) return;
    const elapsed = this.clock.now() - this.since;
    if (elapsed < limit) {
      this.arm(limit - elapsed);
      return;
    }
    this.stop();
    this.socket.destroy();
  }
}
