/**
 * Journal rows as text: an aligned table for a person at a terminal, JSON Lines for tools, CSV (RFC 4180) for
 * spreadsheets. Times are ISO 8601 UTC everywhere; amounts stay integer minor units, with a decimal rendering by
 * the currency's ISO 4217 exponent beside them for people.
 */
import { decimalAmount } from '../vocabulary/index.js';
import type { AnomalyRow, TransactionEventRow, TransactionRow } from './schema.js';

export type ExportFormat = 'table' | 'jsonl' | 'csv';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['table', 'jsonl', 'csv'];

export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/** Seconds are enough for a person reading a table. */
function shortTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export interface FormatTransactionsOptions {
  /** Each transaction's state changes (txnRef -> events); included when given. */
  events?: ReadonlyMap<string, readonly TransactionEventRow[]>;
}

// ---- CSV (RFC 4180) ----

function csvField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function csv(header: readonly string[], rows: readonly (readonly (string | number | null)[])[]): string {
  return [header, ...rows].map((r) => `${r.map(csvField).join(',')}\r\n`).join('');
}

// ---- table ----

interface Column<R> {
  title: string;
  right?: boolean;
  value: (row: R) => string;
}

/** Control characters (from a register's request id, say) must not reach the operator's terminal as escapes. */
function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
}

function table<R>(columns: readonly Column<R>[], rows: readonly R[], extra?: (row: R) => string[]): string {
  const cells = rows.map((r) => columns.map((c) => printable(c.value(r))));
  const widths = columns.map((c, i) => Math.max(c.title.length, ...cells.map((r) => r[i]?.length ?? 0)));
  const line = (values: readonly string[]) =>
    values
      .map((v, i) => (columns[i]?.right ? v.padStart(widths[i] ?? 0) : v.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const out = [line(columns.map((c) => c.title))];
  rows.forEach((row, i) => {
    out.push(line(cells[i] ?? []));
    for (const more of extra?.(row) ?? []) out.push(`    ${printable(more)}`);
  });
  return `${out.join('\n')}\n`;
}

const dash = (v: string | number | null | undefined): string =>
  v === null || v === undefined || v === '' ? '-' : String(v);
const stanText = (v: number | null): string => (v === null ? '-' : String(v).padStart(6, '0'));
const json = (v: unknown): string => (v === null || v === undefined ? '' : JSON.stringify(v));

// ---- transactions ----

const TXN_TABLE: readonly Column<TransactionRow>[] = [
  { title: 'TIME (UTC)', value: (r) => shortTime(r.createdAt) },
  { title: 'REF', value: (r) => r.txnRef },
  { title: 'KIND', value: (r) => r.kind },
  { title: 'STATE', value: (r) => r.state },
  { title: 'OUTCOME', value: (r) => dash(r.outcome) },
  { title: 'MINOR', right: true, value: (r) => String(r.amount) },
  { title: 'AMOUNT', right: true, value: (r) => decimalAmount(r.amount, r.currency) },
  { title: 'CUR', value: (r) => r.currency },
  { title: 'STAN', value: (r) => stanText(r.stan) },
  { title: 'CARD', value: (r) => dash(r.maskedPan) },
  { title: 'ENTRY', value: (r) => dash(r.entryMode) },
  { title: 'RC', value: (r) => dash(r.responseCode) },
  { title: 'AUTH', value: (r) => dash(r.approvalCode) },
  { title: 'RRN', value: (r) => dash(r.rrn) },
  { title: 'ANOMALY', value: (r) => dash(r.anomalyCode) },
  { title: 'RECEIPT', value: (r) => r.receiptStatus },
  { title: 'ORIG', value: (r) => stanText(r.originalStan) },
  { title: 'ECR ID', value: (r) => dash(r.ecrRequestId) },
];

const TXN_CSV_HEADER = [
  'id',
  'txnRef',
  'kind',
  'state',
  'outcome',
  'amount',
  'amountDecimal',
  'currency',
  'stan',
  'maskedPan',
  'entryMode',
  'responseCode',
  'approvalCode',
  'rrn',
  'anomalyCode',
  'originalStan',
  'receiptStatus',
  'ecrRequestId',
  'createdAt',
  'updatedAt',
] as const;

function eventJson(e: TransactionEventRow) {
  return { at: isoTime(e.at), state: e.state, detail: e.detail, changes: e.changes };
}

/** A transaction as exported in JSON Lines: the row itself with ISO times (and its events when asked). */
export function transactionRecord(
  row: TransactionRow,
  events?: readonly TransactionEventRow[],
): Record<string, unknown> {
  return {
    ...row,
    createdAt: isoTime(row.createdAt),
    updatedAt: isoTime(row.updatedAt),
    ...(events ? { events: events.map(eventJson) } : {}),
  };
}

export function formatTransactions(
  rows: readonly TransactionRow[],
  format: ExportFormat,
  options: FormatTransactionsOptions = {},
): string {
  const { events } = options;
  switch (format) {
    case 'jsonl':
      return rows
        .map((r) => `${JSON.stringify(transactionRecord(r, events ? (events.get(r.txnRef) ?? []) : undefined))}\n`)
        .join('');
    case 'csv':
      return csv(
        events ? [...TXN_CSV_HEADER, 'events'] : TXN_CSV_HEADER,
        rows.map((r) => [
          r.id,
          r.txnRef,
          r.kind,
          r.state,
          r.outcome,
          r.amount,
          decimalAmount(r.amount, r.currency),
          r.currency,
          r.stan,
          r.maskedPan,
          r.entryMode,
          r.responseCode,
          r.approvalCode,
          r.rrn,
          r.anomalyCode,
          r.originalStan,
          r.receiptStatus,
          r.ecrRequestId,
          isoTime(r.createdAt),
          isoTime(r.updatedAt),
          ...(events ? [JSON.stringify((events.get(r.txnRef) ?? []).map(eventJson))] : []),
        ]),
      );
    case 'table':
      if (rows.length === 0) return '(no transactions)\n';
      return table(
        TXN_TABLE,
        rows,
        events
          ? (r) =>
              (events.get(r.txnRef) ?? []).map(
                (e) =>
                  `${shortTime(e.at)}  ${e.state}${e.changes ? `  set ${json(e.changes)}` : ''}${e.detail ? `  ${json(e.detail)}` : ''}`,
              )
          : undefined,
      );
  }
}

// ---- anomalies ----

const ANOMALY_TABLE: readonly Column<AnomalyRow>[] = [
  { title: 'TIME (UTC)', value: (r) => shortTime(r.at) },
  { title: 'CODE', value: (r) => r.code },
  { title: 'CLASS', value: (r) => r.class },
  { title: 'SEVERITY', value: (r) => r.severity },
  { title: 'STAN', value: (r) => stanText(r.stan) },
  { title: 'MINOR', right: true, value: (r) => dash(r.amount) },
  {
    title: 'AMOUNT',
    right: true,
    value: (r) => (r.amount !== null && r.currency ? decimalAmount(r.amount, r.currency) : '-'),
  },
  { title: 'CUR', value: (r) => dash(r.currency) },
  { title: 'CARD', value: (r) => dash(r.maskedPan) },
  { title: 'REF', value: (r) => dash(r.txnRef) },
  { title: 'MESSAGE', value: (r) => r.message },
  { title: 'DETAIL', value: (r) => json(r.detail) },
];

const ANOMALY_CSV_HEADER = [
  'id',
  'at',
  'code',
  'class',
  'severity',
  'message',
  'txnRef',
  'stan',
  'amount',
  'amountDecimal',
  'currency',
  'maskedPan',
  'detail',
] as const;

export function anomalyRecord(row: AnomalyRow): Record<string, unknown> {
  return { ...row, at: isoTime(row.at) };
}

export function formatAnomalies(rows: readonly AnomalyRow[], format: ExportFormat): string {
  switch (format) {
    case 'jsonl':
      return rows.map((r) => `${JSON.stringify(anomalyRecord(r))}\n`).join('');
    case 'csv':
      return csv(
        ANOMALY_CSV_HEADER,
        rows.map((r) => [
          r.id,
          isoTime(r.at),
          r.code,
          r.class,
          r.severity,
          r.message,
          r.txnRef,
          r.stan,
          r.amount,
          r.amount !== null && r.currency ? decimalAmount(r.amount, r.currency) : null,
          r.currency,
          r.maskedPan,
          r.detail === null ? null : JSON.stringify(r.detail),
        ]),
      );
    case 'table':
      if (rows.length === 0) return '(no anomalies)\n';
      return table(ANOMALY_TABLE, rows);
  }
}
