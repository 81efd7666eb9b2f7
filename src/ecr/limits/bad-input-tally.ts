/**
 * Bad input aggregated: a flood of malformed lines becomes one report per client per interval ("client X sent 19,998
 * bad lines in the last 60 s", with counts by kind) instead of one durable record per line. The first bad line of a
 * quiet client is reported at once, so a single integration bug is still seen without waiting.
 */
import type { Clock, TimerHandle } from '../../../hal/clock.js';

export interface BadInputReport {
  clientId: string;
  total: number;
  /** Counts by error kind, e.g. { 'invalid-json': 19990, 'line-too-long': 8 }. */
  byKind: Record<string, number>;
  /** The first message seen in the interval (already free of card data: it is the server's own text). */
  sample: string;
  intervalMs: number;
}

interface Pending {
  total: number;
  byKind: Record<string, number>;
  sample: string;
}

export class BadInputTally {
  private readonly pending = new Map<string, Pending>();
  /** Clients reported within the current interval: their next bad lines wait for the interval's report. */
  private readonly recent = new Set<string>();
  private timer: TimerHandle | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly intervalMs: number,
    private readonly report: (report: BadInputReport) => void,
    private readonly maxClients = 4096,
  ) {
    if (!(intervalMs > 0)) throw new RangeError('bad input interval must be positive');
  }

  note(clientId: string, kind: string, message: string): void {
    if (!this.recent.has(clientId)) {
      this.recent.add(clientId);
      this.emit({ clientId, total: 1, byKind: { [kind]: 1 }, sample: message, intervalMs: this.intervalMs });
      this.arm();
      return;
    }
    let p = this.pending.get(clientId);
    if (!p) {
      // A flood from ever new client ids must not grow the map without bound: lump the excess together.
      if (this.pending.size >= this.maxClients) clientId = 'other-clients';
      p = this.pending.get(clientId) ?? { total: 0, byKind: {}, sample: message };
      this.pending.set(clientId, p);
    }
    p.total++;
    p.byKind[kind] = (p.byKind[kind] ?? 0) + 1;
  }

  /** Reports what is pending now (at stop, so nothing counted is lost). */
  flush(): void {
    this.timer?.cancel();
    this.timer = undefined;
    const entries = [...this.pending];
    this.pending.clear();
    this.recent.clear();
    for (const [clientId, p] of entries) {
      this.emit({ clientId, total: p.total, byKind: p.byKind, sample: p.sample, intervalMs: this.intervalMs });
      // Still flooding: the next line waits for the next interval rather than being reported alone.
      this.recent.add(clientId);
    }
    if (entries.length > 0) this.arm();
  }

  stop(): void {
    this.flush();
    this.timer?.cancel();
    this.timer = undefined;
    this.recent.clear();
  }

  private arm(): void {
    if (this.timer) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, this.intervalMs);
  }

  private emit(report: BadInputReport): void {
    try {
      this.report(report);
    } catch {
      // A failing report must not change what the client sees.
    }
  }
}

/**
 * The anomaly text of a tally of requests without a valid token (the guess itself is never kept): a token-guessing
 * flood is one record per client per interval, with the count, like bad input.
 */
export function refusedTokenReason(report: BadInputReport): string {
  if (report.total === 1) return `client ${report.clientId} presented no valid token`;
  const seconds = Math.round(report.intervalMs / 1000);
  return `client ${report.clientId} presented no valid token ${report.total} times in the last ${seconds} s`;
}
