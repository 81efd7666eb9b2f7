/**
 * What the fleet remembers of one terminal, and how an applied message changes it.
 *
 * - Connection: State messages (the retained one, and the offline last will the broker publishes for a terminal that
 *   vanished), Birth, and any live message from a terminal that was marked offline.
 * - A message older than the newest one seen (out of order) must not overwrite what the newer ones said.
 * - Historical Health (made while the terminal was offline, or older than the Health already held: a lower seq in
 *   the same boot, an earlier terminal time across boots) is history: it fills in only while nothing newer is known,
 *   marked historical, and never replaces a newer Health.
 * - Anomalies: events of severity warning or above, kept in time order up to a bound.
 *
 * Whether a message is applied at all is the sequence tracker's call (sequence.ts).
 */
import { type BootReasonName, type OperationStateName, type SeverityName, severities } from './enum-names.js';
import type {
  BirthMessage,
  ComponentHealth,
  EventMessage,
  HealthMessage,
  LinkQuality,
  Resources,
  StoreAndForward,
  TerminalMessage,
} from './messages.js';
import { SequenceTracker } from './sequence.js';

export type Connection = 'online' | 'offline' | 'unknown';

/** Severity at or above which an event is a current anomaly. */
const ANOMALY_LEVEL = severities.value('warning') ?? 2;
/** Kept per terminal; older anomalies fall out of the list before they fall out of the window. */
const MAX_ANOMALIES = 200;

export interface Anomaly {
  at: number;
  code: string;
  name: string;
  severity: SeverityName;
  message: string;
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

/** The last Health as received (its age is added when it is viewed). */
export type HealthRecord = Omit<HealthSummary, 'storeAndForward'> & {
  storeAndForward: StoreAndForward;
  /** The terminal's clock when it made this Health, and the boot it was made in. */
  sentAtMs: number;
  bootId: string;
  /** Backlog from the outbox, kept only until a live Health arrives. */
  historical: boolean;
  fleetConsumersOnline: number;
};

export interface TerminalRecord {
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
  /** Boot id, restarts and the seq accounting. */
  sequence: SequenceTracker;
  /** Connection number within the boot, from Birth and online State; 0 = unknown. */
  session: number;
  /** Smallest (arrival − sent_at_ms) seen this boot: the terminal's clock offset plus the least transit time. */
  clockOffsetMs: number | null;
  birth: BirthSummary | null;
  health: HealthRecord | null;
  anomalies: Anomaly[];
}

export function newRecord(
  id: { key: string; fleet: string; terminalId: string },
  bootId: string,
  now: number,
): TerminalRecord {
  return {
    key: id.key,
    fleet: id.fleet,
    terminalId: id.terminalId,
    firstSeenAt: now,
    lastSeenAt: now,
    connection: 'unknown',
    connectionSince: now,
    onlineAt: null,
    offlineReason: '',
    sequence: new SequenceTracker(bootId),
    session: 0,
    clockOffsetMs: null,
    birth: null,
    health: null,
    anomalies: [],
  };
}

/** A new boot is a new connection: it is online unless the message itself says otherwise. */
export function restarted(rec: TerminalRecord, now: number): void {
  rec.session = 0;
  rec.clockOffsetMs = null;
  setConnection(rec, 'online', now);
  rec.onlineAt = now;
}

export interface ApplyContext {
  now: number;
  /** Delivered from the broker's retained store on subscribe, not live. */
  retained: boolean;
  /** Not older than the newest message seen (false for one that filled a gap). */
  latest: boolean;
}

/** Folds one applied message into the record; for an event, returns when it happened on the consumer's clock. */
export function applyMessage(rec: TerminalRecord, msg: TerminalMessage, ctx: ApplyContext): number | undefined {
  const { now, retained, latest } = ctx;
  const h = msg.header;
  rec.lastSeenAt = Math.max(rec.lastSeenAt, now);
  if (h.sentAtMs > 0) rec.clockOffsetMs = Math.min(rec.clockOffsetMs ?? Infinity, now - h.sentAtMs);
  switch (msg.type) {
    case 'state':
      if (msg.online && msg.session > 0 && latest) rec.session = Math.max(rec.session, msg.session);
      if (latest || !msg.online) {
        setConnection(rec, msg.online ? 'online' : 'offline', now);
        if (msg.online) rec.onlineAt = now;
        rec.offlineReason = msg.online ? '' : msg.reason || 'offline';
      }
      return undefined;
    case 'birth':
      rec.birth = birthSummary(msg, now);
      if (msg.session > 0) rec.session = Math.max(rec.session, msg.session);
      if (latest && !retained) {
        setConnection(rec, 'online', now);
        rec.onlineAt = now;
      }
      return undefined;
    case 'health': {
      const held = rec.health;
      const sentAt = h.sentAtMs;
      // Within one boot the sequence number says which is newer (a terminal's clock may be set back); across boots
      // only the terminal's clock can.
      const older =
        held !== null &&
        (held.bootId === h.bootId && h.bootId !== ''
          ? h.seq < held.seq
          : sentAt > 0 && held.sentAtMs > 0 && sentAt < held.sentAtMs);
      if (msg.historical || older) {
        // History: it may stand in for nothing, or for older history, never for a newer or a live Health.
        if (held === null || (held.historical && !older)) rec.health = { ...healthRecord(msg, now), historical: true };
        return undefined;
      }
      if (latest) rec.health = healthRecord(msg, now);
      seenLive(rec, ctx);
      return undefined;
    }
    case 'event': {
      const at = eventTime(msg, now, rec.clockOffsetMs);
      if (msg.severityLevel >= ANOMALY_LEVEL) {
        rec.anomalies.push({ at, code: msg.code, name: msg.name, severity: msg.severity, message: msg.message });
        rec.anomalies.sort((a, b) => a.at - b.at);
        if (rec.anomalies.length > MAX_ANOMALIES) rec.anomalies.splice(0, rec.anomalies.length - MAX_ANOMALIES);
      }
      seenLive(rec, ctx);
      return at;
    }
    case 'cmd-result':
      seenLive(rec, ctx);
      return undefined;
  }
}

/** A live, current message from a terminal marked offline or unknown is a sign it is online. */
function seenLive(rec: TerminalRecord, ctx: ApplyContext): void {
  if (ctx.latest && !ctx.retained && rec.connection !== 'online') setConnection(rec, 'online', ctx.now);
}

function setConnection(rec: TerminalRecord, connection: Connection, now: number): void {
  if (rec.connection !== connection) {
    rec.connection = connection;
    rec.connectionSince = now;
    if (connection === 'online') rec.onlineAt = now;
  }
  if (connection === 'online') rec.offlineReason = '';
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

function healthRecord(m: HealthMessage, now: number): HealthRecord {
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
    sentAtMs: m.header.sentAtMs,
    bootId: m.header.bootId,
    historical: false,
    fleetConsumersOnline: m.fleetConsumersOnline,
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
