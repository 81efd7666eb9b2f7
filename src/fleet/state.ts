/**
 * What the fleet knows about each terminal, built only from the messages it receives and a clock.
 *
 * - Connection: State messages (the retained one, and the offline last will the broker publishes for a terminal that
 *   vanished), Birth, and any live message from a terminal that was marked offline.
 * - Silence: a terminal that is not offline but has sent no Health for missedHealthFactor × its health interval
 *   (counted from its last Health, or from when it came online if later) is silent.
 * - Boots: every message carries a boot id; a new one is a restart and starts sequence tracking afresh. A message
 *   from an earlier boot (for example the old connection's last will arriving after the new boot's Birth) is stale
 *   and changes nothing.
 * - Sequence: within a boot seq rises by one per message. A jump is a gap (the missing messages are counted); a seq
 *   at or below the last one is a duplicate (ignored) unless it fills a gap (out of order, applied, no longer
 *   missing). Offline State messages stand outside the count: a last will is composed when the terminal connects,
 *   so its seq is older than what followed. Retained messages replayed on subscribe only set the baseline.
 * - Anomalies: events of severity warning or above within the anomaly window, dropped as time passes.
 *
 * Time is the consumer's own clock (injected), never the terminal's: the fleet's terminals may disagree about the time.
 */
import type { Clock } from '../../hal/clock.js';
import type {
  BirthMessage,
  BootReasonName,
  ComponentHealth,
  EventMessage,
  HealthMessage,
  LinkQuality,
  OperationStateName,
  Resources,
  SeverityName,
  StoreAndForward,
  TerminalMessage,
} from './decode.js';
import { severities } from './decode.js';

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

export type Connection = 'online' | 'offline' | 'unknown';

export const DEFAULT_HEALTH_INTERVAL_MS = 60_000;
export const DEFAULT_MISSED_HEALTH_FACTOR = 3;
export const DEFAULT_ANOMALY_WINDOW_MS = 15 * 60_000;

/** Severity at or above which an event is a current anomaly. */
const ANOMALY_LEVEL = severities.value('warning') ?? 2;
/** Kept per terminal; older anomalies fall out of the list before they fall out of the window. */
const MAX_ANOMALIES = 200;
/** Missing seqs remembered per terminal, so a late arrival can be recognised as filling a gap. */
const MAX_MISSING_REMEMBERED = 4096;
/** Boot ids remembered per terminal, so a late message from one of them is recognised as stale. */
const MAX_PREVIOUS_BOOTS = 8;

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

export type Disposition =
  | 'first' // first message seen from this terminal
  | 'in-order'
  | 'gap' // seq jumped: `gap` messages are missing before it
  | 'restart' // new boot id
  | 'duplicate' // seq already seen: ignored
  | 'out-of-order' // fills an earlier gap: applied
  | 'stale-boot' // from an earlier boot: ignored
  | 'untracked'; // not part of sequence accounting (retained replay, offline State, tracking off)

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

export interface Anomaly {
  at: number;
  code: string;
  name: string;
  severity: SeverityName;
  message: string;
}

export interface GapReport {
  at: number;
  bootId: string;
  /** Last seq seen before the gap and the seq that revealed it. */
  afterSeq: number;
  seq: number;
  missing: number;
}

export interface SequenceView {
  lastSeq: number | null;
  /** Number of gaps seen and messages missing (less those that arrived late). */
  gaps: number;
  missing: number;
  duplicates: number;
  outOfOrder: number;
  stale: number;
  lastGap: GapReport | null;
}

export interface HealthSummary {
  receivedAt: number;
  seq: number;
  state: OperationStateName;
  limitations: string[];
  lockReasons: string[];
  pendingReversals: number;
  storeAndForward: StoreAndForward & {
    /** oldestAgeMs as reported, plus the time since the report while anything is queued. */
    oldestAgeNowMs: number;
  };
  link: LinkQuality | null;
  resources: Resources | null;
  /** Components whose last check was not ok. */
  problems: ComponentHealth[];
  telemetryDropped: number;
  eventsDropped: number;
  outboxDepth: number;
}

export interface BirthSummary {
  receivedAt: number;
  firmwareVersion: string;
  configVersion: string;
  model: string;
  capabilities: string[];
  bootReason: BootReasonName;
  bootedAtMs: number;
  session: number;
  healthIntervalMs: number;
}

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

interface TerminalRecord {
  key: string;
  fleet: string;
  terminalId: string;
  firstSeenAt: number;
  lastSeenAt: number;
  connection: Connection;
  connectionSince: number;
  /** Last sign of a (re)connection: Birth, online State, new boot. Silence is counted from here at the earliest. */
  onlineAt: number | null;
  offlineReason: string;
  bootId: string;
  previousBoots: string[];
  restarts: number;
  /** Connection number within the boot, from Birth and online State; 0 = unknown. */
  session: number;
  /** Smallest (arrival − sent_at_ms) seen this boot: the terminal's clock offset plus the least transit time. */
  clockOffsetMs: number | null;
  lastSeq: number | null;
  missingSeqs: Set<number>;
  gaps: number;
  missing: number;
  duplicates: number;
  outOfOrder: number;
  stale: number;
  lastGap: GapReport | null;
  birth: BirthSummary | null;
  health: (Omit<HealthSummary, 'storeAndForward'> & { storeAndForward: StoreAndForward }) | null;
  anomalies: Anomaly[];
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
    const reported = this.records.get(terminalKey(fleet, terminalId))?.birth?.healthIntervalMs ?? 0;
    if (reported > 0) return reported;
    return this.intervals[terminalKey(fleet, terminalId)] ?? this.intervals[terminalId] ?? this.defaultIntervalMs;
  }

  /** Folds one decoded terminal message into the fleet picture and says what it meant. */
  ingest(msg: TerminalMessage, ctx: IngestContext = {}): IngestResult {
    const now = ctx.receivedAt ?? this.clock.now();
    const retained = ctx.retained ?? false;
    const key = terminalKey(msg.fleet, msg.terminalId);
    const h = msg.header;
    let rec = this.records.get(key);
    const base = { key, fleet: msg.fleet, terminalId: msg.terminalId };

    if (rec === undefined) {
      rec = {
        ...base,
        firstSeenAt: now,
        lastSeenAt: now,
        connection: 'unknown',
        connectionSince: now,
        onlineAt: null,
        offlineReason: '',
        bootId: h.bootId,
        previousBoots: [],
        restarts: 0,
        session: 0,
        clockOffsetMs: null,
        lastSeq: null,
        missingSeqs: new Set(),
        gaps: 0,
        missing: 0,
        duplicates: 0,
        outOfOrder: 0,
        stale: 0,
        lastGap: null,
        birth: null,
        health: null,
        anomalies: [],
      };
      this.records.set(key, rec);
    }

    if (rec.previousBoots.includes(h.bootId)) {
      rec.stale++;
      return { ...base, applied: false, disposition: 'stale-boot' };
    }
    // The will of an earlier connection of this boot, delivered after the terminal had already reconnected.
    if (
      msg.type === 'state' &&
      !msg.online &&
      h.bootId === rec.bootId &&
      msg.session > 0 &&
      msg.session < rec.session
    ) {
      rec.stale++;
      return { ...base, applied: false, disposition: 'stale-boot' };
    }

    let result: IngestResult;
    const offlineState = msg.type === 'state' && !msg.online;
    const tracked = this.trackSequence && !retained && !offlineState;
    if (h.bootId !== rec.bootId) {
      const previousBootId = rec.bootId;
      rec.previousBoots = [...rec.previousBoots, previousBootId].slice(-MAX_PREVIOUS_BOOTS);
      rec.bootId = h.bootId;
      rec.restarts++;
      rec.lastSeq = tracked ? h.seq : null;
      rec.missingSeqs.clear();
      rec.session = 0;
      rec.clockOffsetMs = null;
      // A new boot is a new connection: it is online unless this very message says otherwise.
      this.setConnection(rec, 'online', now);
      rec.onlineAt = now;
      result = { ...base, applied: true, disposition: 'restart', restart: { previousBootId, bootId: h.bootId } };
    } else if (!tracked) {
      result = { ...base, applied: true, disposition: 'untracked' };
    } else if (rec.lastSeq === null) {
      rec.lastSeq = h.seq;
      result = { ...base, applied: true, disposition: 'first' };
    } else if (h.seq === rec.lastSeq + 1) {
      rec.lastSeq = h.seq;
      result = { ...base, applied: true, disposition: 'in-order' };
    } else if (h.seq > rec.lastSeq) {
      const gap = h.seq - rec.lastSeq - 1;
      rec.gaps++;
      rec.missing += gap;
      rec.lastGap = { at: now, bootId: h.bootId, afterSeq: rec.lastSeq, seq: h.seq, missing: gap };
      if (gap <= MAX_MISSING_REMEMBERED) {
        for (let s = rec.lastSeq + 1; s < h.seq; s++) rec.missingSeqs.add(s);
        for (const s of rec.missingSeqs) {
          if (rec.missingSeqs.size <= MAX_MISSING_REMEMBERED) break;
          rec.missingSeqs.delete(s);
        }
      }
      rec.lastSeq = h.seq;
      result = { ...base, applied: true, disposition: 'gap', gap };
    } else if (rec.missingSeqs.delete(h.seq)) {
      rec.outOfOrder++;
      rec.missing = Math.max(0, rec.missing - 1);
      result = { ...base, applied: true, disposition: 'out-of-order' };
    } else {
      rec.duplicates++;
      return { ...base, applied: false, disposition: 'duplicate' };
    }

    rec.lastSeenAt = Math.max(rec.lastSeenAt, now);
    if (h.sentAtMs > 0) rec.clockOffsetMs = Math.min(rec.clockOffsetMs ?? Infinity, now - h.sentAtMs);
    // A message older than the newest one seen must not overwrite what the newer ones said.
    const latest = result.disposition !== 'out-of-order';
    switch (msg.type) {
      case 'state':
        if (msg.online && msg.session > 0 && latest) rec.session = Math.max(rec.session, msg.session);
        if (latest || !msg.online) {
          this.setConnection(rec, msg.online ? 'online' : 'offline', now);
          if (msg.online) rec.onlineAt = now;
          rec.offlineReason = msg.online ? '' : msg.reason || 'offline';
        }
        break;
      case 'birth':
        rec.birth = birthSummary(msg, now);
        if (msg.session > 0) rec.session = Math.max(rec.session, msg.session);
        if (latest && !retained) {
          this.setConnection(rec, 'online', now);
          rec.onlineAt = now;
        }
        break;
      case 'health':
        if (latest) rec.health = healthRecord(msg, now);
        if (latest && !retained && rec.connection !== 'online') this.setConnection(rec, 'online', now);
        break;
      case 'event': {
        result.eventAt = eventTime(msg, now, rec.clockOffsetMs);
        if (msg.severityLevel >= ANOMALY_LEVEL) {
          rec.anomalies.push({
            at: result.eventAt,
            code: msg.code,
            name: msg.name,
            severity: msg.severity,
            message: msg.message,
          });
          rec.anomalies.sort((a, b) => a.at - b.at);
          if (rec.anomalies.length > MAX_ANOMALIES) rec.anomalies.splice(0, rec.anomalies.length - MAX_ANOMALIES);
        }
        if (latest && !retained && rec.connection !== 'online') this.setConnection(rec, 'online', now);
        break;
      }
      case 'cmd-result':
        if (latest && !retained && rec.connection !== 'online') this.setConnection(rec, 'online', now);
        break;
    }
    return result;
  }

  private setConnection(rec: TerminalRecord, connection: Connection, now: number): void {
    if (rec.connection !== connection) {
      rec.connection = connection;
      rec.connectionSince = now;
      if (connection === 'online') rec.onlineAt = now;
    }
    if (connection === 'online') rec.offlineReason = '';
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
    return this.records.delete(terminalKey(fleet, terminalId));
  }

  private view(rec: TerminalRecord, at: number): TerminalView {
    const interval = this.healthIntervalFor(rec.fleet, rec.terminalId);
    rec.anomalies = rec.anomalies.filter((a) => at - a.at < this.anomalyWindowMs);

    let unreachableSince: number | null = null;
    if (rec.connection === 'offline') {
      unreachableSince = rec.connectionSince;
    } else {
      const lastHealthAt = rec.health?.receivedAt ?? null;
      const since = rec.onlineAt ?? rec.firstSeenAt;
      const silentAt = Math.max(lastHealthAt ?? -Infinity, since) + this.factor * interval;
      if (at >= silentAt) unreachableSince = silentAt;
    }

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
    if (rec.connection === 'offline') {
      status = 'offline';
      reasons.push(rec.offlineReason || 'offline');
    } else if (unreachableSince !== null) {
      status = 'silent';
      reasons.push(`no health for ${Math.round((at - (rec.health?.receivedAt ?? rec.firstSeenAt)) / 1000)} s`);
    } else if (health?.state === 'locked') {
      status = 'locked';
      reasons.push(...(health.lockReasons.length > 0 ? health.lockReasons : ['locked']));
    } else if (rec.anomalies.length > 0) {
      status = 'anomalous';
      reasons.push(...new Set(rec.anomalies.map((a) => a.code || a.name)));
    } else if (health && degradations(health).length > 0) {
      status = 'degraded';
      reasons.push(...degradations(health));
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
      bootId: rec.bootId,
      restarts: rec.restarts,
      sequence: {
        lastSeq: rec.lastSeq,
        gaps: rec.gaps,
        missing: rec.missing,
        duplicates: rec.duplicates,
        outOfOrder: rec.outOfOrder,
        stale: rec.stale,
        lastGap: rec.lastGap,
      },
      birth: rec.birth,
      health,
      anomalies: [...rec.anomalies],
    };
  }
}

/** Why a terminal that is neither locked nor offline counts as degraded; empty when it does not. */
function degradations(h: HealthSummary): string[] {
  const out: string[] = [];
  if (h.state === 'degraded') out.push(...(h.limitations.length > 0 ? h.limitations : ['degraded']));
  for (const p of h.problems) if (p.status === 'fault') out.push(`${p.component} ${p.code || 'fault'}`);
  if (h.link && !h.link.hostUp) out.push('host down');
  return [...new Set(out)];
}

function birthSummary(m: BirthMessage, now: number): BirthSummary {
  return {
    receivedAt: now,
    firmwareVersion: m.firmwareVersion,
    configVersion: m.configVersion,
    model: m.model,
    capabilities: m.capabilities,
    bootReason: m.bootReason,
    bootedAtMs: m.bootedAtMs,
    session: m.session,
    healthIntervalMs: m.healthIntervalMs,
  };
}

function healthRecord(m: HealthMessage, now: number): NonNullable<TerminalRecord['health']> {
  return {
    receivedAt: now,
    seq: m.header.seq,
    state: m.state,
    limitations: m.limitations,
    lockReasons: m.lockReasons,
    pendingReversals: m.pendingReversals,
    storeAndForward: m.storeAndForward,
    link: m.link,
    resources: m.resources,
    problems: m.components.filter((c) => c.status !== 'ok' && c.status !== 'unspecified'),
    telemetryDropped: m.telemetryDropped,
    eventsDropped: m.eventsDropped,
    outboxDepth: m.outboxDepth,
  };
}

/**
 * When an event happened, on the consumer's clock: its at_ms moved by the terminal's clock offset (the smallest
 * arrival − sent_at_ms seen this boot, which live messages keep close to the true offset), never later than its
 * arrival. Events replayed from the terminal's outbox after a broker outage thus land at their real time instead of
 * as a burst; with nothing to go by, the arrival time.
 */
export function eventTime(m: EventMessage, receivedAt: number, clockOffsetMs: number | null): number {
  if (m.atMs <= 0 || clockOffsetMs === null) return receivedAt;
  return Math.min(receivedAt, m.atMs + clockOffsetMs);
}
