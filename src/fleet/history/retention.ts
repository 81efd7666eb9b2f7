/**
 * Retention of the history: messages received more than `retentionDays` ago are deleted in batches of `batchSize`
 * (each its own short statement, so writers are never held up for long), at most `maxBatchesPerRun` per run, one
 * run every `intervalMs` on the Clock. A run that hit the cap leaves the rest to the next one.
 */
import type { Clock, TimerHandle } from '../../../hal/clock.js';
import type { FleetHistoryStore } from './store.js';

const DAY_MS = 86_400_000;

export interface HistoryRetentionOptions {
  store: Pick<FleetHistoryStore, 'purge'>;
  clock: Clock;
  retentionDays: number;
  intervalMs: number;
  batchSize: number;
  maxBatchesPerRun?: number;
  onPurged?: (deleted: number) => void;
  onError?: (error: Error) => void;
}

export class HistoryRetention {
  private timer: TimerHandle | null = null;
  private running: Promise<number> | null = null;
  private stopped = true;

  constructor(private readonly opts: HistoryRetentionOptions) {}

  /** The cut-off at `now`: messages received before it are due for deletion. */
  cutoff(now = this.opts.clock.now()): number {
    return now - this.opts.retentionDays * DAY_MS;
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = null;
  }

  /** One run: batches until one comes back short or the cap is reached; returns how many messages went. */
  async runOnce(): Promise<number> {
    if (this.running) return this.running;
    const run = (async () => {
      const before = this.cutoff();
      const max = this.opts.maxBatchesPerRun ?? 100;
      let total = 0;
      for (let i = 0; i < max; i++) {
        const n = await this.opts.store.purge(before, this.opts.batchSize);
        total += n;
        if (n < this.opts.batchSize) break;
      }
      if (total > 0) this.opts.onPurged?.(total);
      return total;
    })();
    this.running = run;
    try {
      return await run;
    } finally {
      this.running = null;
    }
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = this.opts.clock.setTimeout(() => {
      this.timer = null;
      this.runOnce()
        .catch((err: unknown) => this.opts.onError?.(err instanceof Error ? err : new Error(String(err))))
        .finally(() => this.schedule(this.opts.intervalMs));
    }, ms);
  }
}
