/**
 * Reopen-with-backoff for the printer: after the device went away, try to open it again after a growing delay on the
 * injected Clock (hal/backoff.ts: equal jitter, capped), until it opens or the driver is closed. One attempt at a
 * time; a success ends the loop, the next loss starts it from the first delay again.
 */
import { backoffDelay, type BackoffPolicy } from '../backoff.js';
import type { Clock, TimerHandle } from '../clock.js';

export interface ReconnectPolicy extends BackoffPolicy {
  /** Jitter source; tests pass a fixed one. Default Math.random. */
  random?: () => number;
}

export const DEFAULT_RECONNECT: Readonly<BackoffPolicy> = Object.freeze({ initialDelayMs: 500, maxDelayMs: 30_000 });

export class ReconnectLoop {
  private timer: TimerHandle | undefined;
  private attempt = 0;
  private stopped = true;

  constructor(
    private readonly clock: Clock,
    private readonly policy: ReconnectPolicy,
    /** One try; resolves true when the device is open again. Must not reject. */
    private readonly tryOpen: () => Promise<boolean>,
  ) {
    if (!(policy.initialDelayMs > 0) || !(policy.maxDelayMs >= policy.initialDelayMs)) {
      throw new RangeError('reconnect delays must be positive, the maximum at least the initial delay');
    }
  }

  get running(): boolean {
    return !this.stopped;
  }

  /** Tries made since the loop started. */
  get attempts(): number {
    return this.attempt;
  }

  /** Starts the loop unless it runs already. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.attempt = 0;
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
  }

  private schedule(): void {
    this.attempt++;
    const delay = backoffDelay(this.attempt, this.policy, this.policy.random);
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      void this.tryOpen().then((opened) => {
        if (this.stopped) return;
        if (opened) this.stop();
        else this.schedule();
      });
    }, delay);
  }
}
