/**
 * The history store: every message the fleet consumer receives, kept for the retention period and read back as a
 * terminal's timeline, or folded into the fleet picture (picture.ts). Two backends implement it: SQLite (one
 * machine, the default) and PostgreSQL (consumers on several machines writing one store).
 */
import type { FleetHistoryReader, TimelineEntry, TimelineKind } from '../ports.js';

/** One message as it is written: the timeline's fields plus the envelope and whether it came from the retained store. */
export interface HistoryRecord extends TimelineEntry {
  fleet: string;
  terminalId: string;
  kind: TimelineKind;
  /** Delivered from the broker's retained store on subscribe, not live. */
  retained: boolean;
}

/** A stored message as it is read back for folding, oldest first. */
export interface StoredMessage extends HistoryRecord {
  /** Order of writing within one store (not across writers: two consumers' rows interleave arbitrarily). */
  id: number;
}

export interface TerminalKey {
  fleet: string;
  terminalId: string;
}

/** How often a terminal's stored messages changed: a reader refolds a terminal only when this moved. */
export interface TerminalVersion extends TerminalKey {
  version: number;
  lastReceivedAt: number;
}

export type HistoryBackend = 'sqlite' | 'postgres';

export interface FleetHistoryStore extends FleetHistoryReader {
  readonly backend: HistoryBackend;
  /** Writes the records in one transaction; the terminals' versions move with them. */
  insert(records: readonly HistoryRecord[]): Promise<void>;
  /** Deletes at most `limit` messages received before `before` (oldest first); returns how many went. */
  purge(before: number, limit: number): Promise<number>;
  terminalVersions(): Promise<TerminalVersion[]>;
  /** The stored messages of these terminals (those received at or after `since`, when given), by terminal, then received time, then id. */
  messagesOf(terminals: readonly (TerminalKey & { since?: number })[]): Promise<StoredMessage[]>;
  /** The schema migrations applied, oldest first. */
  schemaVersions(): Promise<string[]>;
  /** Number of stored messages (for the operator and tests). */
  count(): Promise<number>;
  close(): Promise<void>;
}

/** The store caps a timeline query at this many entries, whatever the caller asks. */
export const MAX_TIMELINE_LIMIT = 10_000;

export function timelineLimit(limit: number): number {
  if (!Number.isFinite(limit) || limit < 1) return 1;
  return Math.min(Math.floor(limit), MAX_TIMELINE_LIMIT);
}
