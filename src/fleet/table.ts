/**
 * Text renderings of the fleet picture: the `pos-fleet watch` table and one-line summaries of messages. Pure
 * functions of their input (time included), so what an operator sees is what the tests check.
 */
import type { Alert } from './alerts.js';
import { formatAlert } from './alerts.js';
import type { TelemetryMessage } from './decode.js';
import type { FleetStatus, TerminalView } from './state.js';

/** Compact age: 45s, 12m, 3h, 2d. */
export function age(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 90) return `${s}s`;
  if (s < 90 * 60) return `${Math.round(s / 60)}m`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86400)}d`;
}

function link(v: TerminalView): string {
  const l = v.health?.link;
  if (!l) return '-';
  const parts = [l.networkUp ? (l.hostUp ? 'host up' : 'host down') : 'net down'];
  if (l.hostUp && l.hostRttMs > 0) parts.push(`${l.hostRttMs}ms`);
  if (l.signalPercent > 0) parts.push(`${l.signalPercent}%`);
  return parts.join(' ');
}

function saf(v: TerminalView): string {
  const s = v.health?.storeAndForward;
  if (!s) return '-';
  return s.depth === 0 ? '0' : `${s.depth}/${age(s.oldestAgeNowMs)}`;
}

function anomalies(v: TerminalView): string {
  if (v.anomalies.length === 0) return '-';
  const counts = new Map<string, number>();
  for (const a of v.anomalies) counts.set(a.code || a.name, (counts.get(a.code || a.name) ?? 0) + 1);
  return [...counts].map(([code, n]) => (n > 1 ? `${code}x${n}` : code)).join(',');
}

function gaps(v: TerminalView): string {
  const s = v.sequence;
  if (s.gaps === 0 && s.duplicates === 0 && s.outOfOrder === 0) return '0';
  let out = `${s.gaps}`;
  if (s.missing > 0) out += ` (${s.missing} lost)`;
  if (s.duplicates > 0) out += ` ${s.duplicates} dup`;
  if (s.outOfOrder > 0) out += ` ${s.outOfOrder} late`;
  return out;
}

const COLUMNS: { title: string; cell: (v: TerminalView) => string }[] = [
  { title: 'TERMINAL', cell: (v) => v.key },
  { title: 'STATUS', cell: (v) => v.status.toUpperCase() },
  { title: 'SEEN', cell: (v) => `${age(v.at - v.lastSeenAt)} ago` },
  { title: 'STATE', cell: (v) => v.health?.state ?? '-' },
  { title: 'REV', cell: (v) => (v.health ? String(v.health.pendingReversals) : '-') },
  { title: 'SAF', cell: saf },
  { title: 'LINK', cell: link },
  { title: 'ANOMALIES', cell: anomalies },
  { title: 'GAPS', cell: gaps },
  { title: 'RESTARTS', cell: (v) => String(v.restarts) },
  { title: 'WHY', cell: (v) => v.reasons.join('; ') || '-' },
];

export interface WatchScreen {
  at: number;
  title: string;
  terminals: TerminalView[];
  recentAlerts: Alert[];
  /** Extra lines under the title (connection, counters). */
  info: string[];
  /** Cut lines to this many characters (the terminal's width); 0 = no limit. */
  width?: number;
}

export function statusCounts(views: readonly TerminalView[]): string {
  const order: FleetStatus[] = ['healthy', 'degraded', 'anomalous', 'locked', 'silent', 'offline'];
  // One pass, whatever the fleet's size.
  const tally = new Map<FleetStatus, number>();
  for (const v of views) tally.set(v.status, (tally.get(v.status) ?? 0) + 1);
  const counts = order.map((s) => [s, tally.get(s) ?? 0] as const).filter(([, n]) => n > 0);
  return `${views.length} terminal${views.length === 1 ? '' : 's'}${counts.length > 0 ? `: ${counts.map(([s, n]) => `${n} ${s}`).join(', ')}` : ''}`;
}

export function renderWatch(screen: WatchScreen): string {
  const rows = [COLUMNS.map((c) => c.title), ...screen.terminals.map((v) => COLUMNS.map((c) => c.cell(v)))];
  // A loop, not Math.max(...cells): spreading one argument per terminal throws past about 100,000 of them.
  const widths = COLUMNS.map(() => 0);
  for (const r of rows) for (let i = 0; i < r.length; i++) widths[i] = Math.max(widths[i] ?? 0, (r[i] ?? '').length);
  const cut = (line: string): string =>
    screen.width && screen.width > 0 && line.length > screen.width ? line.slice(0, screen.width) : line;
  const lines = [
    `${screen.title}   ${new Date(screen.at).toISOString()}`,
    ...screen.info,
    statusCounts(screen.terminals),
    '',
    ...rows.map((r) =>
      r
        .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    ),
  ];
  if (screen.terminals.length === 0) lines.push('(no terminal heard from yet)');
  if (screen.recentAlerts.length > 0) lines.push('', 'recent alerts:', ...screen.recentAlerts.map(formatAlert));
  return `${lines.map(cut).join('\n')}\n`;
}

/** One readable line per message for `pos-fleet tail` without --json. */
export function summarize(msg: TelemetryMessage): string {
  const who = `${msg.fleet}/${msg.terminalId}`;
  const seq = 'header' in msg ? ` boot=${msg.header.bootId} seq=${msg.header.seq}` : '';
  switch (msg.type) {
    case 'birth':
      return `${who} birth${seq} firmware=${msg.firmwareVersion} model=${msg.model} reason=${msg.bootReason}`;
    case 'health':
      return (
        `${who} health${seq} state=${msg.state} reversals=${msg.pendingReversals} saf=${msg.storeAndForward.depth}` +
        ` host=${msg.link ? (msg.link.hostUp ? 'up' : 'down') : '?'}`
      );
    case 'event':
      return `${who} event${seq} ${msg.severity} ${msg.kind} ${msg.code} ${msg.name}${msg.message ? `: ${msg.message}` : ''}`;
    case 'state':
      return `${who} state${seq} ${msg.online ? 'online' : 'offline'}${msg.reason ? ` (${msg.reason})` : ''}`;
    case 'cmd':
      return `${who} cmd ${msg.name} id=${msg.commandId} by=${msg.issuedBy}`;
    case 'cmd-result':
      return `${who} cmd-result${seq} ${msg.name} id=${msg.commandId} ${msg.ok ? 'ok' : `failed ${msg.error}`}${msg.message ? `: ${msg.message}` : ''}`;
  }
}
