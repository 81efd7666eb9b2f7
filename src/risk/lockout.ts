/**
 * When anomalies pause the terminal: a few severe ones lock it at once (tamper, storage fault), others only when
 * they repeat (for example three suspected-fraud anomalies in ten minutes). A supervisor unlock calls reset().
 */
import { ANOMALY_CLASSES, isAnomalyName } from '../anomaly/taxonomy.js';
import type { Evidence } from './evidence.js';
import { requirePositive } from './evidence.js';

export interface LockoutRule {
  name: string;
  /** Anomaly names or anomaly classes that count toward this rule. */
  anomalies: readonly string[];
  count: number;
  windowMs: number;
}

export interface LockoutConfig {
  rules: readonly LockoutRule[];
  /** Anomaly names or classes that lock on their first occurrence. */
  immediate: readonly string[];
}

export const DEFAULT_LOCKOUT_CONFIG: LockoutConfig = Object.freeze({
  rules: Object.freeze([
    Object.freeze({
      name: 'repeated-fraud',
      anomalies: Object.freeze(['suspected-fraud']),
      count: 3,
      windowMs: 10 * 60_000,
    }),
    Object.freeze({
      name: 'repeated-unauthorized',
      anomalies: Object.freeze(['unauthorized']),
      count: 5,
      windowMs: 10 * 60_000,
    }),
  ]),
  immediate: Object.freeze(['reader-tamper', 'storage-fault', 'card-testing']),
});

export type LockoutVerdict = { lock: true; reason: string; rule: string; evidence: Evidence } | { lock: false };

export class LockoutPolicy {
  private readonly rules: readonly LockoutRule[];
  private readonly immediate: ReadonlySet<string>;
  // Per rule, the times of the latest matching anomalies, ascending; never more than the rule's count.
  private readonly history: number[][];

  constructor(config: LockoutConfig = DEFAULT_LOCKOUT_CONFIG) {
    const names = new Set<string>();
    for (const rule of config.rules) {
      if (!rule.name || names.has(rule.name))
        throw new RangeError(`lockout rule name missing or repeated: ${rule.name}`);
      names.add(rule.name);
      requirePositive(`${rule.name}.count`, rule.count, true);
      requirePositive(`${rule.name}.windowMs`, rule.windowMs);
      if (rule.anomalies.length === 0) throw new RangeError(`lockout rule ${rule.name} names no anomaly`);
      for (const a of rule.anomalies) requireKnown(`lockout rule ${rule.name}`, a);
    }
    for (const a of config.immediate) requireKnown('immediate lockout', a);
    this.rules = config.rules.map((r) => ({ ...r, anomalies: [...r.anomalies] }));
    this.immediate = new Set(config.immediate);
    this.history = this.rules.map(() => []);
  }

  observe(anomalyName: string, anomalyClass: string, at: number): LockoutVerdict {
    if (this.immediate.has(anomalyName) || this.immediate.has(anomalyClass)) {
      const trigger = this.immediate.has(anomalyName) ? anomalyName : anomalyClass;
      return {
        lock: true,
        reason: `${anomalyName} locks the terminal at once`,
        rule: 'immediate',
        evidence: Object.freeze({ anomaly: anomalyName, anomalyClass, trigger }),
      };
    }
    let verdict: LockoutVerdict = { lock: false };
    this.rules.forEach((rule, i) => {
      if (!rule.anomalies.includes(anomalyName) && !rule.anomalies.includes(anomalyClass)) return;
      const times = this.history[i] as number[];
      insertSorted(times, at);
      // Only the latest `count` can complete a burst; older ones are dropped to bound memory.
      if (times.length > rule.count) times.splice(0, times.length - rule.count);
      const first = times[0] as number;
      const last = times[times.length - 1] as number;
      if (verdict.lock || times.length < rule.count || last - first > rule.windowMs) return;
      verdict = {
        lock: true,
        reason: `${rule.count} ${rule.anomalies.join('/')} anomalies within ${Math.round(rule.windowMs / 1000)} s`,
        rule: rule.name,
        evidence: Object.freeze({
          anomaly: anomalyName,
          anomalyClass,
          count: times.length,
          windowMs: rule.windowMs,
          spanMs: last - first,
        }),
      };
    });
    return verdict;
  }

  /** After a supervisor unlock: earlier anomalies no longer count toward a new lock. */
  reset(): void {
    for (const times of this.history) times.length = 0;
  }
}

function insertSorted(times: number[], at: number): void {
  let i = times.length;
  while (i > 0 && (times[i - 1] as number) > at) i--;
  times.splice(i, 0, at);
}

// A misspelt name would leave a rule that never fires, silently: refuse it with the configuration.
function requireKnown(where: string, nameOrClass: string): void {
  if (!isAnomalyName(nameOrClass) && !(ANOMALY_CLASSES as readonly string[]).includes(nameOrClass)) {
    throw new RangeError(`${where}: ${nameOrClass} is neither an anomaly name nor an anomaly class`);
  }
}
