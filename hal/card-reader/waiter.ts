/**
 * One pending reader call (wait for a card, a read, wait for removal): settles exactly once, by its owner, by its
 * deadline on the Clock, or by an abort; then drops its timer and abort listener. Shared by every reader driver.
 */
import type { Clock, TimerHandle } from '../clock.js';

export type Settlement<T> = { ok: true; value: T } | { ok: false; error: Error };

export class Waiter<T> {
  readonly promise: Promise<T>;
  private done = false;
  private timer: TimerHandle | undefined;
  private resolveFn!: (value: T) => void;
  private rejectFn!: (error: unknown) => void;
  private readonly abortListener: (() => void) | undefined;

  /** `onDeadline` and `onAbort` give the outcome: an Error to reject with, or a settlement (a read may complete). */
  constructor(
    clock: Clock,
    private readonly opts: { timeoutMs: number; signal?: AbortSignal | undefined },
    onDeadline: () => Error | Settlement<T>,
    onAbort: () => Error | Settlement<T>,
    private readonly onDone: () => void,
  ) {
    this.promise = new Promise<T>((resolve, reject) => {
      this.resolveFn = resolve;
      this.rejectFn = reject;
    });
    const outcome = (result: Error | Settlement<T>) =>
      result instanceof Error ? this.reject(result) : this.settle(result);
    if (opts.timeoutMs !== Infinity) {
      const ms = Number.isNaN(opts.timeoutMs) ? 0 : Math.max(0, opts.timeoutMs);
      this.timer = clock.setTimeout(() => outcome(onDeadline()), ms);
    }
    if (opts.signal) {
      this.abortListener = () => outcome(onAbort());
      opts.signal.addEventListener('abort', this.abortListener, { once: true });
    }
  }

  settle(result: Settlement<T>): void {
    if (result.ok) this.resolve(result.value);
    else this.reject(result.error);
  }

  resolve(value: T): void {
    if (this.finish()) this.resolveFn(value);
  }

  reject(error: Error): void {
    if (this.finish()) this.rejectFn(error);
  }

  private finish(): boolean {
    if (this.done) return false;
    this.done = true;
    this.timer?.cancel();
    if (this.abortListener) this.opts.signal?.removeEventListener('abort', this.abortListener);
    this.onDone();
    return true;
  }
}
