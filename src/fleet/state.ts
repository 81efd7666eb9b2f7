/**
 * What the fleet knows about each terminal, built only from the messages it receives and a clock.
 *
 * Each message goes through two steps: the terminal's sequence tracker says where it stands in its boot's sequence
 * (sequence.ts: restart, gap, duplicate, stale…) and whether it counts; a message that counts is then applied to
 * the terminal's record (record.ts). Views (view.ts) read records without changing them; prune() forgets what has
 * aged out, and is called by whoever owns the timer (the alert engine's periodic check).
 *
 * Time is the consumer's own clock (injected), never the terminal's: the fleet's terminals may disagree about the time.
 */
import type { Clock } from '../../hal/clock.js';
import type { TerminalMessage } from './messages.js';
import { applyMessage, newRecord, restarted, type TerminalRecord } from './record.js';
import type { Disposition } from './sequence.js';
import { DeadlineIndex } from './deadlines.js';
import { inAnomalyWindow, silentAtOf, type TerminalView, unreachableSinceOf, viewOf } from './view.js';

export type { Anomaly, BirthSummary, Connection, HealthSummary } from './record.js';
export { eventTime } from './record.js';
export type { Disposition, GapReport, SequenceView } from './sequence.js';
export { FLEET_STATUSES, type FleetStatus, type TerminalView } from './view.js';

export const DEFAULT_HEALTH_INTERVAL_MS = 60_000;
export const DEFAULT_MISSED_HEALTH_FACTOR = 3;
export const DEFAULT_ANOMALY_WINDOW_MS = 15 * 60_000;

export interface FleetStateOptions {
  clock: Clock;
  /** Health interval assumed for a terminal without its own entry. */
  healthIntervalMs?: number;
  /**
   * Per terminal health intervals, keyed by terminal id or by `fleet/terminal`, for terminals whose Birth does not
   * say (older firmware). A Birth's health_interval_ms wins over both this and healthIntervalMs.
   */
  healthIntervalByTerminal?: Readonly<Record<string, number>>;
  missedHealthFactor?: number;
  anomalyWindowMs?: number;
  /**
   * false turns gap/duplicate accounting off: a consumer in a shared subscription group sees only a share of each
   * terminal's messages, so every other seq would look missing. Restarts are still counted.
   */
  trackSequence?: boolean;
}

export interface IngestContext {
  /** When the message arrived; defaults to clock.now(). */
  receivedAt?: number;
  /** Delivered from the broker's retained store on subscribe, not live. */
  retained?: boolean;
}

export interface IngestResult {
  key: string;
  fleet: string;
  terminalId: string;
  /** false when the message was ignored (duplicate or stale). */
  applied: boolean;
  disposition: Disposition;
  /** With 'gap': how many messages are missing before this one. */
  gap?: number;
  /** With 'restart' (and a new boot seen through a retained message): the boot ids. */
  restart?: { previousBootId: string; bootId: string };
  /** For events: when it happened, on the consumer's clock. */
  eventAt?: number;
}

/** The little the alert rules read of a terminal, as of a time (FleetState.facts). */
export interface TerminalFacts {
  key: string;
  fleet: string;
  terminalId: string;
  offline: boolean;
  /** When it falls silent unless a Health arrives first; null while offline. */
  silentAt: number | null;
  unreachableSince: number | null;
  healthReceivedAt: number | null;
  pendingReversals: number;
  safDepth: number;
  /** As last reported; it ages with the time since healthReceivedAt while safDepth > 0. */
  safOldestAgeMs: number;
}

/** The state's options as the fleet config sets them (its health intervals, anomaly window and share group). */
export function fleetStateOptions(config: {
  healthIntervalMs: number;
  healthIntervalByTerminal: Record<string, number>;
  missedHealthFactor: number;
  anomalyWindowMinutes: number;
  share: string | null;
}): Omit<FleetStateOptions, 'clock'> {
  return {
    healthIntervalMs: config.healthIntervalMs,
    healthIntervalByTerminal: config.healthIntervalByTerminal,
    missedHealthFactor: config.missedHealthFactor,
    anomalyWindowMs: config.anomalyWindowMinutes * 60_000,
    // A shared subscription delivers only part of each terminal's messages: gaps would be meaningless.
    trackSequence: config.share === null,
  };
}

export function terminalKey(fleet: string, terminalId: string): string {
  return `${fleet}/${terminalId}`;
}

export class FleetState {
  private readonly clock: Clock;
  private readonly records = new Map<string, TerminalRecord>();
  private readonly defaultIntervalMs: number;
  private readonly intervals: Readonly<Record<string, number>>;
  private readonly factor: number;
  private readonly anomalyWindowMs: number;
  private readonly trackSequence: boolean;
  /** Terminals by when their oldest anomaly leaves the window. */
  private readonly anomalyExpiry = new DeadlineIndex();

  constructor(opts: FleetStateOptions) {
    this.clock = opts.clock;
    this.defaultIntervalMs = opts.healthIntervalMs ?? DEFAULT_HEALTH_INTERVAL_MS;
    this.intervals = opts.healthIntervalByTerminal ?? {};
    this.factor = opts.missedHealthFactor ?? DEFAULT_MISSED_HEALTH_FACTOR;
    this.anomalyWindowMs = opts.anomalyWindowMs ?? DEFAULT_ANOMALY_WINDOW_MS;
    this.trackSequence = opts.trackSequence ?? true;
  }

  get size(): number {
    return this.records.size;
  }

  /** The terminal's own word (its Birth), else the config's entry for it, else the default. */
  healthIntervalFor(fleet: string, terminalId: string): number {
    const key = terminalKey(fleet, terminalId);
    const rec = this.records.get(key);
    if (rec !== undefined) return this.intervalOf(rec);
    return this.intervals[key] ?? this.intervals[terminalId] ?? this.defaultIntervalMs;
  }

  private intervalOf(rec: TerminalRecord): number {
    const reported = rec.birth?.healthIntervalMs ?? 0;
    if (reported > 0) return reported;
    return this.intervals[rec.key] ?? this.intervals[rec.terminalId] ?? this.defaultIntervalMs;
  }

  /** Folds one decoded terminal message into the fleet picture and says what it meant. */
  ingest(msg: TerminalMessage, ctx: IngestContext = {}): IngestResult {
    const now = ctx.receivedAt ?? this.clock.now();
    const retained = ctx.retained ?? false;
    const key = terminalKey(msg.fleet, msg.terminalId);
    let rec = this.records.get(key);
    if (rec === undefined) {
      rec = newRecord({ key, fleet: msg.fleet, terminalId: msg.terminalId }, msg.header.bootId, now);
      this.records.set(key, rec);
    }

    // Offline State messages stand outside the count: a last will is composed when the terminal connects, so its
    // seq is older than what followed. Retained messages replayed on subscribe only set the baseline.
    const offlineState = msg.type === 'state' && !msg.online;
    const verdict = rec.sequence.classify(msg.header, {
      tracked: this.trackSequence && !retained && !offlineState,
      // The will of an earlier connection of this boot, delivered after the terminal had already reconnected.
      olderConnection: offlineState && msg.session > 0 && msg.session < rec.session,
      // A connection's Birth is sent ahead of the backlog queued before it (see the proto's Header).
      ahead: msg.type === 'birth',
      now,
    });
    const { disposition, applied } = verdict;
    // Built field by field (no spreads): this runs for every message of the fleet.
    const result: IngestResult = { key: rec.key, fleet: rec.fleet, terminalId: rec.terminalId, applied, disposition };
    if (verdict.gap !== undefined) result.gap = verdict.gap;
    if (verdict.restart) result.restart = verdict.restart;
    if (!applied) return result;

    if (disposition === 'restart') restarted(rec, now);
    const anomaliesBefore = rec.anomalies.length;
    const eventAt = applyMessage(rec, msg, { now, retained, latest: disposition !== 'out-of-order' });
    if (eventAt !== undefined) result.eventAt = eventAt;
    const oldest = rec.anomalies[0];
    if (rec.anomalies.length !== anomaliesBefore && oldest !== undefined)
      this.anomalyExpiry.schedule(rec.key, oldest.at + this.anomalyWindowMs);
    return result;
  }

  /**
   * What the alert rules read of one terminal at `at`, without building its whole view (that runs per message).
   * silentAt is when it falls silent unless a Health comes first (null while offline).
   */
  facts(key: string, at = this.clock.now()): TerminalFacts | undefined {
    const rec = this.records.get(key);
    if (rec === undefined) return undefined;
    const rules = { healthIntervalMs: this.intervalOf(rec), missedHealthFactor: this.factor };
    const h = rec.health;
    return {
      key: rec.key,
      fleet: rec.fleet,
      terminalId: rec.terminalId,
      offline: rec.connection === 'offline',
      silentAt: silentAtOf(rec, rules),
      unreachableSince: unreachableSinceOf(rec, at, rules),
      healthReceivedAt: h?.receivedAt ?? null,
      pendingReversals: h?.pendingReversals ?? 0,
      safDepth: h?.storeAndForward.depth ?? 0,
      safOldestAgeMs: h?.storeAndForward.oldestAgeMs ?? 0,
    };
  }

  /** Every terminal as of now, ordered by fleet then terminal id. */
  terminals(at = this.clock.now()): TerminalView[] {
    return [...this.records.values()]
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .map((rec) => this.view(rec, at));
  }

  terminal(fleet: string, terminalId: string, at = this.clock.now()): TerminalView | undefined {
    const rec = this.records.get(terminalKey(fleet, terminalId));
    return rec === undefined ? undefined : this.view(rec, at);
  }

  /** Forgets a terminal (decommissioned): it no longer appears or raises alerts. */
  forget(fleet: string, terminalId: string): boolean {
    const key = terminalKey(fleet, terminalId);
    this.anomalyExpiry.remove(key);
    return this.records.delete(key);
  }

  /**
   * Forgets anomalies that have left the window by `at`; views leave them out either way. Only terminals whose
   * oldest anomaly has aged out are touched (a deadline index), so a periodic prune costs nothing in a calm fleet.
   */
  prune(at = this.clock.now()): void {
    for (const key of this.anomalyExpiry.takeDue(at)) {
      const rec = this.records.get(key);
      if (rec === undefined) continue;
      rec.anomalies = rec.anomalies.filter((a) => inAnomalyWindow(a, at, this.anomalyWindowMs));
      const oldest = rec.anomalies[0];
      if (oldest !== undefined) this.anomalyExpiry.schedule(key, oldest.at + this.anomalyWindowMs);
    }
  }

  private view(rec: TerminalRecord, at: number): TerminalView {
    return viewOf(rec, at, {
      healthIntervalMs: this.intervalOf(rec),
      missedHealthFactor: this.factor,
      anomalyWindowMs: this.anomalyWindowMs,
    });
  }
}
