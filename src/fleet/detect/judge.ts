/**
 * One hour judged: every terminal's rates against its peers in that hour (robust z-score: median and MAD) and
 * against its own history (EWMA mean and variance). Pure: the detector feeds it the hour's counts and the histories
 * and gets back each terminal's findings, with the evidence an alert carries.
 */
import type { DetectConfig } from '../config-detect.js';
import { type HourCounts, METRICS, type Metric } from './metrics.js';
import { type Ewma, excessZ, MAD_TO_SD, type PeerStats, peerStats } from './stats.js';

export interface Finding {
  metric: Metric;
  anomalous: boolean;
  /** Why it is anomalous: both baselines agree, or its own history alone is far enough off. */
  by: 'peers-and-history' | 'peers' | 'history' | null;
  count: number;
  transactions: number;
  rate: number;
  history: { mean: number; sd: number; hours: number; z: number } | null;
  /** pooled: all the peers' counts over all their transactions (the reference where the median is 0). */
  peers: PeerFinding | null;
  /** With peers by fleet: the same against every terminal (the rest of the fleet), so a whole fleet that is off shows. */
  fleetPeers: PeerFinding | null;
}

export interface PeerFinding {
  group: string;
  count: number;
  median: number;
  mad: number;
  pooled: number;
  z: number;
}

export interface TerminalHour {
  key: string;
  fleet: string;
  hour: HourCounts;
  history: Partial<Record<Metric, Ewma>>;
}

export type JudgeConfig = Pick<
  DetectConfig,
  | 'minTransactions'
  | 'minCount'
  | 'peerZ'
  | 'historyZ'
  | 'aloneZ'
  | 'minHistoryHours'
  | 'peerGroup'
  | 'minPeers'
  | 'rateFloor'
>;

/** terminal key → findings for the metrics it had enough transactions to judge. */
export function judgeHour(terminals: readonly TerminalHour[], c: JudgeConfig): Map<string, Finding[]> {
  const groupOf = (t: TerminalHour): string => (c.peerGroup === 'fleet' ? t.fleet : '*');
  const judged = terminals.filter((t) => t.hour.transactions >= c.minTransactions);
  // group → metric → the peers' median and MAD of the rate.
  const peers = new Map<string, Map<Metric, PeerStats & { pooled: number }>>();
  const byGroup = new Map<string, TerminalHour[]>();
  for (const t of judged) {
    const g = groupOf(t);
    if (g !== '*') {
      const all = byGroup.get('*');
      if (all) all.push(t);
      else byGroup.set('*', [t]);
    }
    const members = byGroup.get(g);
    if (members) members.push(t);
    else byGroup.set(g, [t]);
  }
  for (const [g, members] of byGroup) {
    if (members.length < c.minPeers) continue;
    const stats = new Map<Metric, PeerStats & { pooled: number }>();
    const volume = members.reduce((n, t) => n + t.hour.transactions, 0);
    for (const metric of METRICS) {
      const pooled = members.reduce((n, t) => n + t.hour.counts[metric], 0) / volume;
      stats.set(metric, { ...peerStats(members.map((t) => t.hour.counts[metric] / t.hour.transactions)), pooled });
    }
    peers.set(g, stats);
  }

  const out = new Map<string, Finding[]>();
  for (const t of judged) {
    const n = t.hour.transactions;
    const group = groupOf(t);
    const findings: Finding[] = [];
    for (const metric of METRICS) {
      const count = t.hour.counts[metric];
      const rate = count / n;
      const against = (g: string): PeerFinding | null => {
        const p = peers.get(g)?.get(metric);
        return p
          ? { group: g, ...p, z: excessZ(count, n, Math.max(p.median, p.pooled), MAD_TO_SD * p.mad, c.rateFloor) }
          : null;
      };
      const peer = against(group);
      const fleetPeers = group === '*' ? null : against('*');
      const h = t.history[metric];
      const warm = h !== undefined && h.hours >= c.minHistoryHours;
      const sd = h ? Math.sqrt(h.variance) : 0;
      const history = warm ? { mean: h.mean, sd, hours: h.hours, z: excessZ(count, n, h.mean, sd, c.rateFloor) } : null;
      let by: Finding['by'] = null;
      if (count >= c.minCount) {
        const peerHigh = Math.max(peer?.z ?? -Infinity, fleetPeers?.z ?? -Infinity) >= c.peerZ;
        // One baseline alone (no history yet, too few peers, or peers that see the same) needs a higher score.
        if (peerHigh && history !== null && history.z >= c.historyZ) by = 'peers-and-history';
        else if (peer !== null && peer.z >= c.aloneZ && history === null) by = 'peers';
        else if (history !== null && history.z >= c.aloneZ) by = 'history';
      }
      findings.push({
        metric,
        anomalous: by !== null,
        by,
        count,
        transactions: n,
        rate,
        history,
        peers: peer,
        fleetPeers,
      });
    }
    out.set(t.key, findings);
  }
  return out;
}
