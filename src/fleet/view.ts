/**
 * One terminal as the fleet sees it at a given time: its status and why, read from its record without changing it.
 *
 * - Silence: a terminal that is not offline but has sent no Health for missedHealthFactor × its health interval
 *   (counted from its last Health, or from when it came online if later) is silent.
 * - Anomalies: only those within the anomaly window count (the record keeps older ones until it is pruned).
 */
import type { Anomaly, BirthSummary, Connection, HealthSummary, TerminalRecord } from './record.js';
import type { SequenceView } from './sequence.js';

/** The fleet's verdict on a terminal, made from its messages and its silence (not the terminal's own status). */
export type FleetStatus = 'healthy' | 'degraded' | 'locked' | 'offline' | 'silent' | 'anomalous';
export const FLEET_STATUSES: readonly FleetStatus[] = [
  'healthy',
  'degraded',
  'locked',
  'anomalous',
  'silent',
  'offline',
];

/** One terminal as of `at`. */
export interface TerminalView {
  key: string;
  fleet: string;
  terminalId: string;
  at: number;
  status: FleetStatus;
  /** Why: the offline reason, the lock reasons, the anomaly codes, the degradations; empty when healthy. */
  reasons: string[];
  connection: Connection;
  connectionSince: number;
  offlineReason: string;
  firstSeenAt: number;
  lastSeenAt: number;
  lastHealthAt: number | null;
  healthIntervalMs: number;
  /** When the terminal went offline or silent; null while it is neither. */
  unreachableSince: number | null;
  bootId: string;
  restarts: number;
  sequence: SequenceView;
  birth: BirthSummary | null;
  health: HealthSummary | null;
  anomalies: Anomaly[];
}

export interface ViewRules {
  healthIntervalMs: number;
  missedHealthFactor: number;
  anomalyWindowMs: number;
}

/** Whether an anomaly still counts at `at`. */
export function inAnomalyWindow(anomaly: Anomaly, at: number, windowMs: number): boolean {
  return at - anomaly.at < windowMs;
}

/** When a terminal that is not offline falls silent unless a Health arrives first; null while it is offline. */
export function silentAtOf(rec: TerminalRecord, rules: Pick<ViewRules, 'healthIntervalMs' | 'missedHealthFactor'>) {
  if (rec.connection === 'offline') return null;
  const since = rec.onlineAt ?? rec.firstSeenAt;
  const lastHealthAt = rec.health?.receivedAt ?? since;
  return Math.max(lastHealthAt, since) + rules.missedHealthFactor * rules.healthIntervalMs;
}

/** Since when the terminal has been offline or silent as of `at`; null while it is neither. */
export function unreachableSinceOf(
  rec: TerminalRecord,
  at: number,
  rules: Pick<ViewRules, 'healthIntervalMs' | 'missedHealthFactor'>,
): number | null {
  if (rec.connection === 'offline') return rec.connectionSince;
  const silentAt = silentAtOf(rec, rules) as number;
  return at >= silentAt ? silentAt : null;
}

export function viewOf(rec: TerminalRecord, at: number, rules: ViewRules): TerminalView {
  const interval = rules.healthIntervalMs;
  const anomalies = rec.anomalies.filter((a) => inAnomalyWindow(a, at, rules.anomalyWindowMs));

  const unreachableSince = unreachableSinceOf(rec, at, rules);

  const health: HealthSummary | null = rec.health
    ? {
        ...rec.health,
        storeAndForward: {
          ...rec.health.storeAndForward,
          oldestAgeNowMs:
            rec.health.storeAndForward.depth > 0
              ? rec.health.storeAndForward.oldestAgeMs + Math.max(0, at - rec.health.receivedAt)
              : 0,
        },
      }
    : null;

  const reasons: string[] = [];
  let status: FleetStatus;
  const degraded = health ? degradations(health) : [];
  if (rec.connection === 'offline') {
    status = 'offline';
    reasons.push(rec.offlineReason || 'offline');
  } else if (unreachableSince !== null) {
    status = 'silent';
    reasons.push(`no health for ${Math.round((at - (rec.health?.receivedAt ?? rec.firstSeenAt)) / 1000)} s`);
  } else if (health?.state === 'locked') {
    status = 'locked';
    appendAll(reasons, health.lockReasons.length > 0 ? health.lockReasons : ['locked']);
  } else if (anomalies.length > 0) {
    status = 'anomalous';
    appendAll(reasons, new Set(anomalies.map((a) => a.code || a.name)));
  } else if (degraded.length > 0) {
    status = 'degraded';
    appendAll(reasons, degraded);
  } else {
    status = 'healthy';
  }

  return {
    key: rec.key,
    fleet: rec.fleet,
    terminalId: rec.terminalId,
    at,
    status,
    reasons,
    connection: rec.connection,
    connectionSince: rec.connectionSince,
    offlineReason: rec.offlineReason,
    firstSeenAt: rec.firstSeenAt,
    lastSeenAt: rec.lastSeenAt,
    lastHealthAt: rec.health?.receivedAt ?? null,
    healthIntervalMs: interval,
    unreachableSince,
    bootId: rec.sequence.bootId,
    restarts: rec.sequence.restarts,
    sequence: rec.sequence.view(),
    birth: rec.birth,
    health,
    anomalies,
  };
}

/** Why a terminal that is neither locked nor offline counts as degraded; empty when it does not. */
function degradations(h: HealthSummary): string[] {
  const out: string[] = [];
  if (h.state === 'degraded') appendAll(out, h.limitations.length > 0 ? h.limitations : ['degraded']);
  for (const p of h.problems) if (p.status === 'fault') out.push(`${p.component} ${p.code || 'fault'}`);
  if (h.link && !h.link.hostUp) out.push('host down');
  return [...new Set(out)];
}

/** push(...items) passes one argument per item and throws on a long enough list (a Health may carry thousands). */
function appendAll<T>(to: T[], items: Iterable<T>): void {
  for (const item of items) to.push(item);
}
