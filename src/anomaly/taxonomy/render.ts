/** What an anomaly looks like to people: the error screen, the slip for support and the README anomaly guide. */
import type { Screen } from '../../../hal/display/contract.js';
import type { ReceiptDocument, ReceiptLine } from '../../../hal/printer/contract.js';
import { formatAmount } from '../../vocabulary/index.js';
import { ANOMALIES, type AnomalyDefinition } from './lookups.js';
import { type AnomalySeverity, TEXT_MAX } from './vocabulary.js';

/** Shortens a text for the screen, with an ellipsis. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

const SCREEN_SEVERITY: Record<AnomalySeverity, Screen['severity']> = {
  info: 'info',
  warning: 'warning',
  error: 'error',
  critical: 'error',
};

/** The error picture: title, what happened (plus the reason when it adds something), what to do, and the code. */
export function renderAnomalyScreen(def: AnomalyDefinition, ctx: { reason?: string } = {}): Screen & { code: string } {
  const lines = [def.message];
  const reason = ctx.reason?.trim();
  if (reason && !def.message.includes(reason)) lines.push(clip(reason, TEXT_MAX));
  lines.push(def.actionText);
  return { title: def.title, lines, code: def.code, severity: SCREEN_SEVERITY[def.severity] };
}

/** What an anomaly slip prints besides the definition; shaped like the journal's anomaly row. */
export interface AnomalySlipRecord {
  at: number;
  message?: string;
  txnRef?: string | null;
  stan?: number | null;
  amount?: number | null;
  currency?: string | null;
  maskedPan?: string | null;
  terminalId?: string;
}

/** A slip the cashier can hand to support: code, time, what happened and the transaction facts (masked PAN only). */
export function renderAnomalySlip(def: AnomalyDefinition, record: AnomalySlipRecord): ReceiptDocument {
  const pair = (label: string, value: string): ReceiptLine => ({ text: `${label}: ${value}` });
  const lines: ReceiptLine[] = [
    { text: `ANOMALY ${def.code}`, align: 'center', bold: true, doubleHeight: true },
    { text: def.title, align: 'center', bold: true },
    { kind: 'rule' },
    pair('Time', `${new Date(record.at).toISOString().replace('T', ' ').slice(0, 19)} UTC`),
    ...(record.terminalId ? [pair('Terminal', record.terminalId)] : []),
    pair('Severity', def.severity.toUpperCase()),
    ...(record.txnRef ? [pair('Ref', record.txnRef)] : []),
    ...(record.stan != null ? [pair('STAN', String(record.stan).padStart(6, '0'))] : []),
    ...(record.amount != null && record.currency ? [pair('Amount', formatAmount(record.amount, record.currency))] : []),
    ...(record.maskedPan ? [pair('Card', record.maskedPan)] : []),
    { kind: 'rule' },
    { text: record.message ?? def.message },
    { text: `Action: ${def.actionText}` },
    { kind: 'rule' },
    { text: `Give this slip to support (${def.name})`, align: 'center' },
  ];
  return { lines, cut: true };
}

/** The anomaly guide for the README, generated so the document cannot drift from the table. */
export function anomalyGuideMarkdown(): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  const rows = ANOMALIES.map(
    (a) =>
      `| ${a.code} | \`${a.name}\` | ${a.class} | ${a.severity} | ${cell(a.message)} | ${cell(a.actionText)} | ${cell(a.support)} |`,
  );
  return `${[
    '| Code | Name | Class | Severity | Screen | Cashier action | Support |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n')}\n`;
}
