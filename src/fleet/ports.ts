/**
 * What the fleet service's parts offer each other, as interfaces: the history store (every message kept, read back
 * as a timeline), the alert book (alerts persisted, acknowledged) and the stream of alert changes that delivery
 * (webhooks) and metrics follow. The web dashboard, the CLI and the metrics read through these, so each store can be
 * SQLite on one machine or PostgreSQL for a fleet beyond one, and tests can hand in their own.
 */
import type { Alert } from './alerts.js';

/** The message types a terminal publishes, as they are named in topics (`pos/v1/<fleet>/<terminal>/<type>`). */
export type TimelineKind = 'birth' | 'health' | 'event' | 'state' | 'command-result' | (string & {});

/** One stored message of one terminal, as a timeline shows it. */
export interface TimelineEntry {
  /** Epoch ms when the consumer received it. */
  receivedAt: number;
  /** Epoch ms the terminal stamped on it, when it carries one. */
  sentAt: number | null;
  kind: TimelineKind;
  /** Boot id and sequence number within that boot, when the message carries them. */
  bootId: string | null;
  seq: number | null;
  /** Marked when it arrived from a backlog (a terminal's queue flushed after reconnecting): not current state. */
  historical: boolean;
  /** One line for a person: "health ready · saf 2 · pending reversals 0", "E101 timeout at host". */
  summary: string;
  /** The decoded message, as the fleet consumer reads it (src/fleet/messages.ts). */
  data: unknown;
}

export interface TimelineQuery {
  /** Newest first; at most this many (the store caps it). */
  limit: number;
  /** Only entries received strictly before this epoch ms (paging back). */
  before?: number;
  /** Only entries received at or after this epoch ms. */
  since?: number;
  kinds?: readonly TimelineKind[];
}

export interface FleetHistoryReader {
  timeline(fleet: string, terminalId: string, query: TimelineQuery): Promise<TimelineEntry[]>;
}

export type AlertRecordState = 'open' | 'acknowledged' | 'cleared';

/** An alert as the alert book keeps it: raised once, perhaps acknowledged, cleared when its condition ends. */
export interface AlertRecord {
  /** Stable for one raise of one (rule, terminal) pair. */
  id: string;
  rule: string;
  type: string;
  fleet: string;
  terminalId: string;
  state: AlertRecordState;
  raisedAt: number;
  clearedAt: number | null;
  acknowledgedAt: number | null;
  acknowledgedBy: string | null;
  acknowledgeNote: string | null;
  /** The measured value and message at the last change. */
  value: number;
  message: string;
  /** Evidence attached by the rule (for anomaly detection: the rates, the window, the baseline). */
  evidence: Record<string, unknown> | null;
}

export interface AlertListQuery {
  states?: readonly AlertRecordState[];
  fleet?: string;
  terminalId?: string;
  limit: number;
  offset?: number;
}

export interface AlertBook {
  /** Records a raise or a clear from the alert engine; returns the record as it now stands. */
  record(alert: Alert, evidence?: Record<string, unknown>): Promise<AlertRecord>;
  list(query: AlertListQuery): Promise<AlertRecord[]>;
  /** Undefined when no alert has that id; acknowledging twice keeps the first acknowledgement. */
  acknowledge(id: string, by: string, note?: string): Promise<AlertRecord | undefined>;
}
