/**
 * Hourly counts from the Health counters. A terminal's counters are totals since its boot, so what happened between
 * two Health messages is the difference; that difference goes to the hour the later Health was sent in (its header
 * time), so a backlog flushed after an outage still lands in the right hours. A lost Health only moves its counts
 * into the next one; a repeated or older one adds nothing (each counter only counts what exceeds the highest value
 * seen in that boot). Events are not counted separately: each anomaly event is in the counters of the next Health.
 */
import type { HealthMessage } from '../messages.js';
import { emptyHour, type HourCounts, type Metric } from './metrics.js';

const HOUR = 3_600_000;
/** Boots remembered per terminal, so a Health of the previous boot arriving late is not counted again. */
const BOOTS_KEPT = 3;

interface Boot {
  id: string;
  outcomes: Map<string, number>;
  anomalies: Map<string, number>;
}

export class HourlyCounts {
  /** terminal key → its boots, newest last. */
  private readonly boots = new Map<string, Boot[]>();
  /** terminal key → hour start → counts. */
  private readonly hours = new Map<string, Map<number, HourCounts>>();
  /** Counts that arrived for an hour already judged: not counted. */
  late = 0;

  constructor(
    private readonly keys: { outcomes: Map<string, Metric>; anomalies: Map<string, Metric> },
    private readonly isJudged: (hour: number) => boolean,
  ) {}

  add(msg: HealthMessage, receivedAt: number): void {
    const key = `${msg.fleet}/${msg.terminalId}`;
    let boots = this.boots.get(key);
    const first = boots === undefined;
    if (!boots) {
      boots = [];
      this.boots.set(key, boots);
    }
    let boot = boots.find((b) => b.id === msg.header.bootId);
    // The first Health ever seen of a terminal only sets where its counters stand: what it counted before pos-fleet
    // watched belongs to no hour we know. A later new boot starts from zero.
    const baselineOnly = first;
    if (!boot) {
      boot = { id: msg.header.bootId, outcomes: new Map(), anomalies: new Map() };
      boots.push(boot);
      if (boots.length > BOOTS_KEPT) boots.shift();
    }
    const sentAt = msg.header.sentAtMs > 0 ? msg.header.sentAtMs : receivedAt;
    const hour = Math.floor(sentAt / HOUR) * HOUR;
    let transactions = 0;
    const counts = new Map<Metric, number>();
    for (const c of msg.outcomes) {
      const d = grow(boot.outcomes, c.key, c.count);
      transactions += d;
      const metric = this.keys.outcomes.get(c.key);
      if (metric) counts.set(metric, (counts.get(metric) ?? 0) + d);
    }
    for (const c of msg.anomalies) {
      const d = grow(boot.anomalies, c.key, c.count);
      const metric = this.keys.anomalies.get(c.key);
      if (metric) counts.set(metric, (counts.get(metric) ?? 0) + d);
    }
    if (baselineOnly || (transactions === 0 && counts.size === 0)) return;
    if (this.isJudged(hour)) {
      this.late++;
      return;
    }
    let byHour = this.hours.get(key);
    if (!byHour) {
      byHour = new Map();
      this.hours.set(key, byHour);
    }
    const h = byHour.get(hour) ?? emptyHour();
    h.transactions += transactions;
    for (const [metric, n] of counts) h.counts[metric] += n;
    byHour.set(hour, h);
  }

  /** Takes out every terminal's counts of one hour (terminal key → counts). */
  take(hour: number): Map<string, HourCounts> {
    const out = new Map<string, HourCounts>();
    for (const [key, byHour] of this.hours) {
      const h = byHour.get(hour);
      if (h) out.set(key, h);
      // Hours before it can no longer be judged.
      for (const at of byHour.keys()) if (at <= hour) byHour.delete(at);
      if (byHour.size === 0) this.hours.delete(key);
    }
    return out;
  }
}

/** Raises the highest value seen of one counter; returns by how much. */
function grow(seen: Map<string, number>, key: string, count: number): number {
  const before = seen.get(key) ?? 0;
  if (count <= before) return 0;
  seen.set(key, count);
  return count - before;
}
