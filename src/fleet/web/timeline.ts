/**
 * A terminal's history as its page shows it: the entries from the history reader, each marked when it is an anomaly,
 * and chart series drawn from its Health messages (pending reversals, store-and-forward depth, outbox depth, host
 * round trip). The stored message is read defensively: a store may hold messages of an older or newer contract.
 */
import { z } from 'zod';
import type { TimelineEntry } from '../ports.js';

const healthShape = z.object({
  pendingReversals: z.number().optional(),
  outboxDepth: z.number().optional(),
  storeAndForward: z.object({ depth: z.number() }).partial().nullish(),
  link: z.object({ hostRttMs: z.number() }).partial().nullish(),
});
const eventShape = z.object({ severity: z.string().optional(), kind: z.string().optional() });

const ANOMALY_SEVERITIES = new Set(['warning', 'error', 'critical']);

export interface TimelineItem {
  receivedAt: number;
  sentAt: number | null;
  kind: string;
  seq: number | null;
  historical: boolean;
  summary: string;
  anomaly: boolean;
}

/** uPlot's columnar data: x in seconds, then one array per series (null where a Health did not say). */
export interface TimelineCharts {
  x: number[];
  pendingReversals: (number | null)[];
  safDepth: (number | null)[];
  outboxDepth: (number | null)[];
  hostRttMs: (number | null)[];
}

export function timelineItems(entries: readonly TimelineEntry[]): TimelineItem[] {
  return entries.map((e) => {
    const ev = e.kind === 'event' ? eventShape.safeParse(e.data) : undefined;
    return {
      receivedAt: e.receivedAt,
      sentAt: e.sentAt,
      kind: String(e.kind),
      seq: e.seq,
      historical: e.historical,
      summary: e.summary,
      anomaly: ev?.success === true && ANOMALY_SEVERITIES.has(ev.data.severity ?? ''),
    };
  });
}

/** Series in time order (the reader answers newest first). */
export function timelineCharts(entries: readonly TimelineEntry[]): TimelineCharts {
  const out: TimelineCharts = { x: [], pendingReversals: [], safDepth: [], outboxDepth: [], hostRttMs: [] };
  const health = entries.filter((e) => e.kind === 'health').sort((a, b) => a.receivedAt - b.receivedAt);
  for (const e of health) {
    const parsed = healthShape.safeParse(e.data);
    if (!parsed.success) continue;
    const h = parsed.data;
    out.x.push(e.receivedAt / 1000);
    out.pendingReversals.push(h.pendingReversals ?? null);
    out.safDepth.push(h.storeAndForward?.depth ?? null);
    out.outboxDepth.push(h.outboxDepth ?? null);
    out.hostRttMs.push(h.link?.hostRttMs ?? null);
  }
  return out;
}
