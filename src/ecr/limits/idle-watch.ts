/**
 * Closes connections that stay silent: one timer per connection on the injected Clock, re-armed lazily (activity only
 * moves a timestamp, so a flood of lines costs no timer churn). A connection with a command still running is not idle.
 */
import type { Clock, TimerHandle } from '../../../hal/clock.js';

export class IdleWatch {
  private lastActivity: number;
  private timer: TimerHandle | undefined;
  private stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly idleMs: number,
    private readonly busy: () => boolean,
    private readonly onIdle: () => void,
  ) {
    this.lastActivity = clock.now();
    this.arm(idleMs);
  }

  touch(): void {
    this.lastActivity = this.clock.now();
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
  }

  private arm(ms: number): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimeout(() => this.check(), ms);
  }

  private check(): void {
    this.timer = undefined;
    if (this.stopped) return;
    const quiet = this.clock.now() - this.lastActivity;
    if (this.busy() || quiet < this.idleMs) {
      this.arm(this.busy() ? this.idleMs : this.idleMs - quiet);
      return;
    }
    this.stopped = true;
    this.onIdle();
  }
}
