/**
 * Settlement by itself at a local time of day (`settlement.autoAt`, the process's time zone), on the Clock. A run
 * that cannot settle (host away, a transaction in progress) is tried again the next day, or sooner by a command;
 * what it answered is logged and kept with the batch.
 */
import type { Clock, TimerHandle } from '../../hal/clock.js';

/** Milliseconds from `now` to the next "HH:MM" local time (tomorrow's when today's has passed or is now). */
export function msUntilLocalTime(now: number, hhmm: string): number {
  const m = /^(\d{2}):(\d{2})$/.exec(hhmm);
  if (!m) throw new RangeError(`not a local time "HH:MM": ${hhmm}`);
  const next = new Date(now);
  next.setHours(Number(m[1]), Number(m[2]), 0, 0);
  if (next.getTime() <= now) next.setDate(next.getDate() + 1);
  return next.getTime() - now;
}

export class AutoSettlement {
  private timer: TimerHandle | undefined;
  private stopped = true;

  constructor(
    private readonly clock: Clock,
    private readonly at: string,
    private readonly settle: () => Promise<unknown>,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimeout(
      () => {
        void this.settle()
          .catch(() => undefined)
          .finally(() => this.schedule());
      },
      msUntilLocalTime(this.clock.now(), this.at),
    );
  }
}
