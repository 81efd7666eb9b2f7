/**
 * Reopen-with-backoff for a device that can go away (unplugged, port closed, EIO): one small state machine any
 * driver wraps around its own `connect` (open the port, say hello). The driver calls `open()` when asked to open,
 * `lost(error)` when it notices the device is gone, and `stop()` when asked to close; in between, attempts run on the
 * injected Clock with hal/backoff.ts delays until one succeeds. `onChange` tells the driver when to report the device
 * 'not-connected' (once per outage, not per failed attempt) and 'ok' again.
 */
import { type BackoffPolicy, backoffDelay } from '../backoff.js';
import type { Clock, TimerHandle } from '../clock.js';

export const DEFAULT_RECONNECT_POLICY: BackoffPolicy = { initialDelayMs: 500, maxDelayMs: 30_000 };

export type ReconnectState = 'stopped' | 'connecting' | 'connected' | 'waiting';

export type ReconnectChange =
  | { state: 'connected'; attempts: number }
  | { state: 'not-connected'; error: unknown; retryInMs: number };

export interface ReconnectorOptions {
  clock: Clock;
  /** One attempt: resolves once the device is usable, rejects (with the driver's typed fault) otherwise. */
  connect: () => Promise<void>;
  policy?: BackoffPolicy;
  random?: () => number;
  onChange?: (change: ReconnectChange) => void;
}

export class Reconnector {
  private current: ReconnectState = 'stopped';
  private timer: TimerHandle | undefined;
  private attempt: Promise<void> | undefined;
  /** Failed attempts since the device was last usable (the backoff's n). */
  private failures = 0;
  /** An outage has been reported and not yet ended by a success. */
  private reportedDown = false;
  private readonly policy: BackoffPolicy;
  /** Bumped by stop(): an attempt begun before it must not revive the device. */
  private generation = 0;

  constructor(private readonly options: ReconnectorOptions) {
    this.policy = options.policy ?? DEFAULT_RECONNECT_POLICY;
  }

  get state(): ReconnectState {
    return this.current;
  }

  /** Failed attempts in the current outage. */
  get failedAttempts(): number {
    return this.failures;
  }

  /**
   * Open now (the driver's open(), or a self-test reopening what is closed). A failure rejects and leaves attempts
   * scheduled with backoff, so a device absent at start is taken up when it is plugged in.
   */
  open(): Promise<void> {
    if (this.current === 'connected') return Promise.resolve();
    this.timer?.cancel();
    this.timer = undefined;
    return this.tryNow();
  }

  /** The driver noticed the device is gone: report it once, then reopen with backoff. Ignored when stopped. */
  lost(error: unknown): void {
    if (this.current === 'stopped' || this.current === 'waiting') return;
    if (this.current === 'connecting') return;
    this.current = 'waiting';
    this.failures = 0;
    this.schedule(error);
  }

  /** Closed on purpose: no more attempts until open(). */
  stop(): void {
    this.generation++;
    this.current = 'stopped';
    this.timer?.cancel();
    this.timer = undefined;
    this.reportedDown = false;
  }

  private tryNow(): Promise<void> {
    this.attempt ??= this.run().finally(() => {
      this.attempt = undefined;
    });
    return this.attempt;
  }

  private async run(): Promise<void> {
    const generation = this.generation;
    this.current = 'connecting';
    try {
      await this.options.connect();
    } catch (error) {
      // A close() during the attempt wins: nothing more is scheduled.
      if (generation === this.generation) {
        this.failures++;
        this.current = 'waiting';
        this.schedule(error);
      }
      throw error;
    }
    if (generation !== this.generation) return;
    const attempts = this.failures;
    this.current = 'connected';
    this.failures = 0;
    this.reportedDown = false;
    this.options.onChange?.({ state: 'connected', attempts });
  }

  private schedule(error: unknown): void {
    const retryInMs = backoffDelay(this.failures + 1, this.policy, this.options.random);
    if (!this.reportedDown) {
      this.reportedDown = true;
      this.options.onChange?.({ state: 'not-connected', error, retryInMs });
    }
    this.timer?.cancel();
    this.timer = this.options.clock.setTimeout(() => {
      this.timer = undefined;
      // Failures are already scheduled again inside run(); the rejection has no one else to go to.
      this.tryNow().catch(() => undefined);
    }, retryInMs);
  }
}
