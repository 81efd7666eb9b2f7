/**
 * One line of the dashboard's fleet table: the few figures an operator scans for, copied out of a TerminalView so
 * the index can keep 100,000 of them without holding every view's lists.
 */
import type { FleetStatus, TerminalView } from '../state.js';

export interface TableRow {
  key: string;
  fleet: string;
  terminalId: string;
  status: FleetStatus;
  reasons: string[];
  lastSeenAt: number;
  lastHealthAt: number | null;
  /** Operation state the terminal reported (ready, degraded, locked…), null before its first Health. */
  state: string | null;
  gaps: number;
  missing: number;
  restarts: number;
  outboxDepth: number | null;
  safDepth: number | null;
  safOldestAgeMs: number | null;
  pendingReversals: number | null;
  firmware: string | null;
  model: string | null;
  anomalies: number;
  /** Lower-case text the free-text filter matches: terminal key, firmware, model, state, reasons. */
  search: string;
}

export function rowOf(v: TerminalView): TableRow {
  const h = v.health;
  const firmware = v.birth?.firmwareVersion || null;
  const model = v.birth?.model || null;
  return {
    key: v.key,
    fleet: v.fleet,
    terminalId: v.terminalId,
    status: v.status,
    reasons: v.reasons,
    lastSeenAt: v.lastSeenAt,
    lastHealthAt: v.lastHealthAt,
    state: h?.state ?? null,
    gaps: v.sequence.gaps,
    missing: v.sequence.missing,
    restarts: v.restarts,
    outboxDepth: h ? h.outboxDepth : null,
    safDepth: h ? h.storeAndForward.depth : null,
    safOldestAgeMs: h ? h.storeAndForward.oldestAgeNowMs : null,
    pendingReversals: h ? h.pendingReversals : null,
    firmware,
    model,
    anomalies: v.anomalies.length,
    search: [v.key, firmware ?? '', model ?? '', h?.state ?? '', ...v.reasons].join(' ').toLowerCase(),
  };
}
