/**
 * The fleet table's index, so filtering and paging stay fast at 100,000 terminals: rows are kept in terminal order
 * (a sorted key list grown by binary insertion, never re-sorted), with one list per status and one per fleet.
 *
 * A row is recomputed when its terminal sends something (touch), and when its status may change with time alone:
 * each row is scheduled (a min-heap) for the moment it would fall silent or its oldest anomaly leaves the window, so
 * no refresh walks the whole fleet. The status and fleet lists are rebuilt (one linear pass, no sort) only when some
 * terminal changed status or a new one appeared. A query picks the smallest list that answers its filters and pages
 * through it.
 */
import type { Clock } from '../../../hal/clock.js';
import {
  DEFAULT_ANOMALY_WINDOW_MS,
  DEFAULT_MISSED_HEALTH_FACTOR,
  FLEET_STATUSES,
  type FleetState,
  type FleetStatus,
  type TerminalView,
} from '../state.js';
import { DueHeap } from './due-heap.js';
import { rowOf, type TableRow } from './table-row.js';

export interface TableQuery {
  status?: FleetStatus | undefined;
  fleet?: string | undefined;
  /** Free text, matched case-insensitively against terminal key, firmware, model, state and reasons. */
  q?: string | undefined;
  offset: number;
  limit: number;
}

export interface TablePage {
  at: number;
  /** Rows matching the filters (all pages). */
  total: number;
  offset: number;
  rows: TableRow[];
  /** Terminals by status in the whole fleet (or the chosen fleet), whatever the other filters. */
  counts: Record<FleetStatus, number>;
  fleets: string[];
  size: number;
}

export interface FleetIndexOptions {
  state: FleetState;
  clock: Clock;
  /**
   * At most this many reported rows are recomputed per refresh (default 10,000), so a query stays quick while the
   * fleet reports faster than the table is read; the rest wait, in arrival order, for the next refresh.
   */
  maxRecomputePerRefresh?: number;
  /** The state's missedHealthFactor and anomalyWindowMs, to know when a row may change by itself. */
  missedHealthFactor?: number;
  anomalyWindowMs?: number;
}

function emptyCounts(): Record<FleetStatus, number> {
  return Object.fromEntries(FLEET_STATUSES.map((s) => [s, 0])) as Record<FleetStatus, number>;
}

export class FleetIndex {
  private readonly state: FleetState;
  private readonly clock: Clock;
  private readonly maxRecompute: number;
  private readonly factor: number;
  private readonly anomalyWindowMs: number;
  private due = new DueHeap();
  /** key → when its row is next due for a recompute without a message. */
  private readonly dueAt = new Map<string, number>();
  private readonly keys: string[] = [];
  private readonly rows = new Map<string, TableRow>();
  private readonly ids = new Map<string, { fleet: string; terminalId: string }>();
  private readonly dirty = new Set<string>();
  private byStatus = new Map<FleetStatus, TableRow[]>();
  private byFleet = new Map<string, TableRow[]>();
  private ordered: TableRow[] = [];
  private listsStale = true;
  private refreshedAt = Number.NEGATIVE_INFINITY;

  constructor(opts: FleetIndexOptions) {
    this.state = opts.state;
    this.clock = opts.clock;
    this.maxRecompute = opts.maxRecomputePerRefresh ?? 10_000;
    this.factor = opts.missedHealthFactor ?? DEFAULT_MISSED_HEALTH_FACTOR;
    this.anomalyWindowMs = opts.anomalyWindowMs ?? DEFAULT_ANOMALY_WINDOW_MS;
    for (const v of opts.state.terminals()) this.touch(v.fleet, v.terminalId);
  }

  get size(): number {
    return this.keys.length;
  }

  /** Rows reported and not yet recomputed. */
  get pending(): number {
    return this.dirty.size;
  }

  /** A terminal sent something: its row is recomputed at the next refresh (see maxRecomputePerRefresh). */
  touch(fleet: string, terminalId: string): void {
    const key = `${fleet}/${terminalId}`;
    if (!this.ids.has(key)) {
      this.ids.set(key, { fleet, terminalId });
      this.keys.splice(insertionPoint(this.keys, key), 0, key);
    }
    this.dirty.add(key);
  }

  /** Brings rows and lists up to date as of `at`; cheap when nothing changed. */
  refresh(at = this.clock.now()): void {
    if (at === this.refreshedAt && this.dirty.size === 0) return;
    let budget = this.maxRecompute;
    for (const key of this.dirty) {
      if (budget-- <= 0) break;
      this.dirty.delete(key);
      this.recompute(key, at);
    }
    for (let top = this.due.peek(); top !== undefined && top.at <= at; top = this.due.peek()) {
      this.due.pop();
      // Stale entries (the row was recomputed and rescheduled since) are skipped.
      if (this.dueAt.get(top.key) === top.at) this.recompute(top.key, at);
    }
    this.refreshedAt = at;
    if (this.listsStale) this.rebuildLists();
  }

  row(fleet: string, terminalId: string): TableRow | undefined {
    this.refresh();
    return this.rows.get(`${fleet}/${terminalId}`);
  }

  /** Terminals by status in the whole fleet. */
  counts(): Record<FleetStatus, number> {
    this.refresh();
    const counts = emptyCounts();
    for (const [status, list] of this.byStatus) counts[status] = list.length;
    return counts;
  }

  /** Every row in terminal order (for metrics that walk the fleet). */
  all(): readonly TableRow[] {
    this.refresh();
    return this.ordered;
  }

  query(query: TableQuery): TablePage {
    const at = this.clock.now();
    this.refresh(at);
    const fleetRows = query.fleet === undefined ? this.ordered : (this.byFleet.get(query.fleet) ?? []);
    const statusRows = query.status === undefined ? this.ordered : (this.byStatus.get(query.status) ?? []);
    // Walk the smaller list and test the other filter on each row.
    let candidates: readonly TableRow[];
    if (query.fleet !== undefined && query.status !== undefined)
      candidates =
        fleetRows.length <= statusRows.length
          ? fleetRows.filter((r) => r.status === query.status)
          : statusRows.filter((r) => r.fleet === query.fleet);
    else candidates = query.fleet !== undefined ? fleetRows : statusRows;
    const needle = query.q?.trim().toLowerCase() ?? '';
    let total: number;
    let rows: TableRow[];
    if (needle === '') {
      total = candidates.length;
      rows = candidates.slice(query.offset, query.offset + query.limit);
    } else {
      total = 0;
      rows = [];
      for (const r of candidates) {
        if (!r.search.includes(needle)) continue;
        if (total >= query.offset && rows.length < query.limit) rows.push(r);
        total++;
      }
    }
    const counts = emptyCounts();
    if (query.fleet === undefined) for (const [status, list] of this.byStatus) counts[status] = list.length;
    else for (const r of fleetRows) counts[r.status]++;
    return { at, total, offset: query.offset, rows, counts, fleets: [...this.byFleet.keys()], size: this.keys.length };
  }

  private recompute(key: string, at: number): void {
    const id = this.ids.get(key);
    if (!id) return;
    const view = this.state.terminal(id.fleet, id.terminalId, at);
    const old = this.rows.get(key);
    if (!view) {
      // Forgotten by the state (decommissioned): it leaves the table.
      this.ids.delete(key);
      this.rows.delete(key);
      this.dueAt.delete(key);
      this.keys.splice(this.keys.indexOf(key), 1);
      this.listsStale = true;
      return;
    }
    const row = rowOf(view);
    this.schedule(key, view, at);
    if (old === undefined) {
      this.rows.set(key, row);
      this.listsStale = true;
    } else {
      if (old.status !== row.status) this.listsStale = true;
      // In place, so the lists that hold this row see the new figures without being rebuilt.
      Object.assign(old, row);
    }
  }

  /** When this row may change with no message: it falls silent, or its oldest anomaly leaves the window. */
  private schedule(key: string, view: TerminalView, at: number): void {
    let next = Number.POSITIVE_INFINITY;
    if (view.status !== 'offline' && view.status !== 'silent') {
      const from = Math.max(
        view.lastHealthAt ?? view.firstSeenAt,
        view.connection === 'online' ? view.connectionSince : 0,
      );
      const silentAt = from + this.factor * view.healthIntervalMs;
      // The state counts silence from a moment the view does not show exactly: never wait less than an interval
      // once the estimate has passed.
      next = silentAt > at ? silentAt : at + view.healthIntervalMs;
    }
    const oldest = view.anomalies[0];
    if (oldest) next = Math.min(next, Math.max(at + 1, oldest.at + this.anomalyWindowMs));
    if (next === Number.POSITIVE_INFINITY) {
      this.dueAt.delete(key);
      return;
    }
    if (this.dueAt.get(key) === next) return;
    this.dueAt.set(key, next);
    this.due.push({ at: next, key });
    // Each report reschedules its row and leaves the old entry behind: compact once they outnumber the live ones.
    if (this.due.size > 4 * this.dueAt.size + 1_024) {
      this.due = new DueHeap();
      for (const [k, t] of this.dueAt) this.due.push({ at: t, key: k });
    }
  }

  private rebuildLists(): void {
    const byStatus = new Map<FleetStatus, TableRow[]>(FLEET_STATUSES.map((s) => [s, []]));
    const byFleet = new Map<string, TableRow[]>();
    const ordered: TableRow[] = [];
    for (const key of this.keys) {
      const row = this.rows.get(key);
      if (!row) continue;
      ordered.push(row);
      byStatus.get(row.status)?.push(row);
      let fleet = byFleet.get(row.fleet);
      if (!fleet) {
        fleet = [];
        byFleet.set(row.fleet, fleet);
      }
      fleet.push(row);
    }
    this.byStatus = byStatus;
    this.byFleet = byFleet;
    this.ordered = ordered;
    this.listsStale = false;
  }
}

/** Where `key` goes in the sorted list (binary search; code-unit order, as FleetState.terminals() sorts). */
function insertionPoint(keys: readonly string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((keys[mid] ?? '') < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
