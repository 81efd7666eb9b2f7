/**
 * One Health per burst of changes: the first change of a burst asks for a Health `burstMs` later (the changes that
 * follow join it), and never sooner than `minSpacingMs` after the previous Health of any kind. A Health sent for
 * another reason (the interval, a connection, a command) covers the changes so far, so a pending one is dropped.
 * On the injected Clock, so tests count them with simulated time.
 */
import type { Clock, TimerHandle } from '../../hal/clock.js';

export interface HealthCoalescerOptions {
  clock: Clock;
  burstMs: number;
  minSpacingMs: number;
  publish(): void;
}

export class HealthCoalescer {
  private timer: TimerHandle | undefined;
  private lastAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly o: HealthCoalescerOptions) {}

  get pending(): boolean {
    return this.timer !== undefined;
  }

  /** Something changed that a Health should report. */
  request(): void {
    if (this.timer) return;
    const now = this.o.clock.now();
    const at = Math.max(now + this.o.burstMs, this.lastAt + this.o.minSpacingMs);
    this.timer = this.o.clock.setTimeout(
      () => {
        this.timer = undefined;
        this.o.publish();
      },
      Math.max(0, at - now),
    );
  }

  /** A Health was just made (whatever the reason). */
  sent(): void {
    this.lastAt = this.o.clock.now();
    this.cancel();
  }

  cancel(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }
}
