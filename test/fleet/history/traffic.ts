/**
 * A generated fleet's telemetry in rounds, as terminals publish it: Births, Health with changing queue depths,
 * anomaly events, and per terminal class a gap (messages lost), a restart (new boot), a repeated delivery
 * (duplicate), an offline last will, or silence after the first rounds. Also what a picture is compared on.
 */
import type { TerminalView } from '../../../src/fleet/state.js';
import { encode } from '../support.js';

export const FLEET_NAME = 'shop-lyon-02';
export const HEALTH_INTERVAL_MS = 60_000;

export interface Publication {
  topic: string;
  payload: Uint8Array;
  terminalId: string;
}

export function terminalIds(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `T${String(i).padStart(5, '0')}`);
}

/** The fleet's terminals and where each stands (boot, seq); round(r) makes round r's messages in publish order. */
export class FleetTraffic {
  private readonly seqs: number[];
  private readonly boots: string[];

  constructor(
    readonly ids: readonly string[],
    readonly rounds: number,
  ) {
    this.seqs = ids.map(() => 0);
    this.boots = ids.map((id) => `${id}-a`);
  }

  round(round: number, sentAt: number): Publication[] {
    const out: Publication[] = [];
    this.ids.forEach((terminalId, i) => {
      const cls = i % 10;
      if (cls === 9 && round >= 2) return; // falls silent
      const pub = (type: string, payload: Uint8Array): void => {
        out.push({ topic: `pos/v1/${FLEET_NAME}/${terminalId}/${type}`, payload, terminalId });
      };
      const next = (): number => {
        this.seqs[i] = this.seqs[i]! + 1;
        return this.seqs[i]!;
      };
      const h = (seq: number) => ({ terminalId, fleet: FLEET_NAME, bootId: this.boots[i]!, seq, sentAtMs: sentAt });
      const health = (seq: number) =>
        encode.health(h(seq), {
          storeAndForward: { depth: (i + round) % 4, totalMinor: 1000 * ((i + round) % 4), oldestAgeMs: 5_000 },
          pendingReversals: (i * round) % 3,
          outboxDepth: (i + 2 * round) % 5,
        });
      if (cls === 5 && round === 3) {
        this.boots[i] = `${terminalId}-b`; // restarted: a new boot counts from 1 again
        this.seqs[i] = 0;
      }
      if (round === 0 || (cls === 5 && round === 3))
        pub('birth', encode.birth(h(next()), { healthIntervalMs: HEALTH_INTERVAL_MS, session: 1 }));
      if (cls === 3 && round === 2) next(); // lost on the way: a gap of one
      const seq = next();
      pub('health', health(seq));
      if (cls === 1 && round === 4) pub('health', health(seq)); // delivered twice
      if (i % 7 === 0 && round === 2) pub('event', encode.event(h(next()), { atMs: sentAt }));
      // The last will is composed at connect time (seq 0, the connection's session): older than what followed.
      if (cls === 7 && round === this.rounds - 1) pub('state', encode.state(h(0), false, 'connection lost', 1));
    });
    return out;
  }
}

/** What the fleet table shows of each terminal, to compare two pictures. */
export function pictureOf(views: readonly TerminalView[]) {
  return views.map((v) => ({
    terminal: v.key,
    status: v.status,
    connection: v.connection,
    lastSeenAt: v.lastSeenAt,
    lastHealthAt: v.lastHealthAt,
    bootId: v.bootId,
    restarts: v.restarts,
    gaps: v.sequence.gaps,
    missing: v.sequence.missing,
    duplicates: v.sequence.duplicates,
    lastSeq: v.sequence.lastSeq,
    saf: v.health?.storeAndForward.depth ?? null,
    pendingReversals: v.health?.pendingReversals ?? null,
    outbox: v.health?.outboxDepth ?? null,
    anomalies: v.anomalies.length,
  }));
}
