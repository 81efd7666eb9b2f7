/** What an anomaly looks like to people: the error screen, the slip for support and the README anomaly guide. */
import type { Screen } from '../../../hal/display/contract.js';
import type { ReceiptDocument, ReceiptLine } from '../../../hal/printer/contract.js';
import {
  type AnomalyText,
  formatLocalAmount,
  formatLocalDateTime,
  type Language,
  type Locale,
  messagesFor,
} from '../../i18n/index.js';
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

/**
 * What the cashier reads of an anomaly in a language: the catalogue's text for its code; the taxonomy's own English
 * when a catalogue lacks it (test/i18n fails the build for that, so it is only a guard).
 */
export function anomalyText(def: AnomalyDefinition, language?: Language): AnomalyText {
  const own = { title: def.title, message: def.message, action: def.actionText };
  // In English the definition's own words, which the classifier may have made precise ("Declined: <reason>").
  return isEnglish(language) ? own : (messagesFor(language).anomaly[def.code] ?? own);
}

function isEnglish(language: Language | undefined): boolean {
  return (language ?? 'en') === 'en';
}

/**
 * The error picture: title, what happened (plus the reason when it adds something), what to do, and the code. The
 * reason is free text from a driver or the host, in English: it is shown on an English screen only, and kept on the
 * slip and in the journal for support.
 */
export function renderAnomalyScreen(
  def: AnomalyDefinition,
  ctx: { reason?: string; language?: Language } = {},
): Screen & { code: string } {
  const text = anomalyText(def, ctx.language);
  const lines = [text.message];
  const reason = isEnglish(ctx.language) ? ctx.reason?.trim() : undefined;
  if (reason && !def.message.includes(reason)) lines.push(clip(reason, TEXT_MAX));
  lines.push(text.action);
  return { title: text.title, lines, code: def.code, severity: SCREEN_SEVERITY[def.severity] };
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

/**
 * A slip the cashier can hand to support: code, local time, what happened and the transaction facts (masked PAN
 * only), in the merchant's language. The journal's message is English; what it adds to the taxonomy's message (the
 * driver's or host's reason) is printed as it is, for support.
 */
export function renderAnomalySlip(
  def: AnomalyDefinition,
  record: AnomalySlipRecord,
  locale: Locale = {},
): ReceiptDocument {
  const messages = messagesFor(locale.language);
  const t = messages.anomalySlip;
  const text = anomalyText(def, locale.language);
  const pair = (label: string, value: string): ReceiptLine => ({ text: `${label}: ${value}` });
  // English prints the journal's message as it is; another language its own text, then what the journal adds.
  const happened = isEnglish(locale.language) ? [record.message ?? text.message] : [text.message];
  const reason = isEnglish(locale.language) ? undefined : reasonOf(def, record.message);
  const lines: ReceiptLine[] = [
    { text: t.heading(def.code), align: 'center', bold: true, doubleHeight: true },
    { text: text.title, align: 'center', bold: true },
    { kind: 'rule' },
    pair(t.time, formatLocalDateTime(new Date(record.at), locale.timeZone)),
    ...(record.terminalId ? [pair(t.terminal, record.terminalId)] : []),
    pair(t.severity, t.severityWord[def.severity]),
    ...(record.txnRef ? [pair(t.ref, record.txnRef)] : []),
    ...(record.stan != null ? [pair(t.stan, String(record.stan).padStart(6, '0'))] : []),
    ...(record.amount != null && record.currency
      ? [pair(t.amount, formatLocalAmount(record.amount, record.currency, messages))]
      : []),
    ...(record.maskedPan ? [pair(t.card, record.maskedPan)] : []),
    { kind: 'rule' },
    ...happened.map((line): ReceiptLine => ({ text: line })),
    ...(reason ? [{ text: reason }] : []),
    { text: `${t.action}: ${text.action}` },
    { kind: 'rule' },
    { text: t.giveToSupport(def.name), align: 'center' },
  ];
  return { lines, cut: true };
}

/** The part of a journaled message beyond the taxonomy's text (the recorder writes `message: reason`). */
function reasonOf(def: AnomalyDefinition, message: string | undefined): string | undefined {
  if (!message || message === def.message) return undefined;
  return message.startsWith(`${def.message}: `) ? message.slice(def.message.length + 2) : message;
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
