/**
 * The retention purge on the Clock: one small step at a time (see journal/stores/retention.ts), a pause between
 * steps, none while a transaction or a settlement runs, and an hourly look when nothing is old enough. A sale never
 * waits for more than one step's commit.
 */
import type { Clock, TimerHandle } from '../../hal/clock.js';
import type { Journal } from '../journal/index.js';
import type { Logger } from '../util/log.js';

const DAY_MS = 86_400_000;

export interface RetentionDeps {
  journal: Journal;
  clock: Clock;
  log: Logger;
  retentionDays: number;
  /** Something the purge must not slow down is running (a transaction, a settlement). */
  busy: () => boolean;
  /** Pause between two steps while there is work; default 1 s. */
  stepGapMs?: number;
  /** How often to look for a batch old enough when there is none; default 1 h. */
  idleCheckMs?: number;
  /** Transactions per step; default 200. */
  stepSize?: number;
}

export class RetentionPurger {
  private timer: TimerHandle | undefined;
  private stopped = true;

  constructor(private readonly deps: RetentionDeps) {}

  start(): void {
    this.stopped = false;
    this.schedule(this.deps.stepGapMs ?? 1_000);
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }

  /** One step now; what it did. */
  stepNow(): ReturnType<Journal['retention']['purgeStep']> {
    const { journal, clock, retentionDays } = this.deps;
    return journal.retention.purgeStep(clock.now() - retentionDays * DAY_MS, this.deps.stepSize ?? 200);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = this.deps.clock.setTimeout(() => this.tick(), ms);
  }

  private tick(): void {
    const gap = this.deps.stepGapMs ?? 1_000;
    if (this.deps.busy()) {
      this.schedule(gap);
      return;
    }
    try {
      const step = this.stepNow();
      if (step.kind === 'purged') this.deps.log.info({ batch: step.batch }, 'settled batch purged to its totals');
      this.schedule(step.kind === 'idle' ? (this.deps.idleCheckMs ?? 3_600_000) : gap);
    } catch (err) {
      this.deps.log.error({ err }, 'retention purge step failed');
      this.schedule(this.deps.idleCheckMs ?? 3_600_000);
    }
  }
}
