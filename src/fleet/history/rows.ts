/** What the two backends share: the column list, a record as column values, a row read back as a message. */
import type { HistoryRecord, StoredMessage } from './store.js';

export const COLUMNS = [
  'fleet',
  'terminal_id',
  'kind',
  'boot_id',
  'seq',
  'sent_at',
  'received_at',
  'historical',
  'retained',
  'summary',
  'data',
] as const;

export const SELECT_COLUMNS = `id, ${COLUMNS.join(', ')}`;

/** PostgreSQL TEXT refuses NUL; a terminal's boot id or free text could carry one. */
function text(s: string): string {
  return s.includes('\u0000') ? s.replaceAll('\u0000', '\uFFFD') : s;
}

/** The record's column values, in COLUMNS order; booleans as the backend stores them. */
export function columnValues(r: HistoryRecord, bool: (b: boolean) => unknown): unknown[] {
  return [
    r.fleet,
    r.terminalId,
    r.kind,
    r.bootId === null ? null : text(r.bootId),
    r.seq,
    r.sentAt,
    r.receivedAt,
    bool(r.historical),
    bool(r.retained),
    text(r.summary),
    JSON.stringify(r.data ?? null),
  ];
}

export interface MessageRow {
  id: number | string;
  fleet: string;
  terminal_id: string;
  kind: string;
  boot_id: string | null;
  seq: number | string | null;
  sent_at: number | string | null;
  received_at: number | string;
  historical: number | boolean;
  retained: number | boolean;
  summary: string;
  data: string;
}

/** BIGINT arrives as a string from pg; every value we keep is below 2^53. */
function n(v: number | string): number {
  return typeof v === 'number' ? v : Number(v);
}

function parseData(s: string): unknown {
  try {
    return JSON.parse(s) as unknown;
  } catch {
    return null;
  }
}

export function storedMessage(row: MessageRow): StoredMessage {
  return {
    id: n(row.id),
    fleet: row.fleet,
    terminalId: row.terminal_id,
    kind: row.kind,
    bootId: row.boot_id,
    seq: row.seq === null ? null : n(row.seq),
    sentAt: row.sent_at === null ? null : n(row.sent_at),
    receivedAt: n(row.received_at),
    historical: row.historical === true || row.historical === 1,
    retained: row.retained === true || row.retained === 1,
    summary: row.summary,
    data: parseData(row.data),
  };
}

/** A stored message as the timeline shows it (the envelope and the store's id left out). */
export function timelineEntry(m: StoredMessage) {
  return {
    receivedAt: m.receivedAt,
    sentAt: m.sentAt,
    kind: m.kind,
    bootId: m.bootId,
    seq: m.seq,
    historical: m.historical,
    summary: m.summary,
    data: m.data,
  };
}

/** Groups the records' message counts and newest arrival by terminal, sorted by key (so upserts lock in one order). */
export function terminalDeltas(records: readonly HistoryRecord[]) {
  const byKey = new Map<string, { fleet: string; terminalId: string; count: number; lastReceivedAt: number }>();
  for (const r of records) {
    const key = `${r.fleet}\u0000${r.terminalId}`;
    const d = byKey.get(key);
    if (d === undefined)
      byKey.set(key, { fleet: r.fleet, terminalId: r.terminalId, count: 1, lastReceivedAt: r.receivedAt });
    else {
      d.count++;
      d.lastReceivedAt = Math.max(d.lastReceivedAt, r.receivedAt);
    }
  }
  return [...byKey.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([, d]) => d);
}
