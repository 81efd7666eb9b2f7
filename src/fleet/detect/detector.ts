/**
 * Anomaly detection across the fleet: Health counters in, hourly judgements out. Each hour is judged once, when it
 * has ended and `graceMinutes` more have passed on the Clock; a terminal's finding per metric raises an alert
 * (type `anomaly-detection`, rule `anomaly <metric>`) with its evidence, and the alert clears after
 * `clearAfterNormalHours` judged hours without it. An anomalous hour does not enter the terminal's history, and a
 * high one enters it clipped, so a fault that lasts is not learnt as normal.
 */
import type { Clock, TimerHandle } from '../../../hal/clock.js';
import type { BookAlert } from '../alert-book/sqlite-alert-book.js';
import type { DetectConfig } from '../config-detect.js';
import type { TerminalMessage } from '../messages.js';
import { HourlyCounts } from './hourly-counts.js';
import { type Finding, judgeHour, type TerminalHour } from './judge.js';
import { METRIC_LABEL, type Metric, metricOfKey } from './metrics.js';
import { type Ewma, ewmaUpdate, spread } from './stats.js';

const HOUR = 3_600_000;

export const DETECTION_TYPE = 'anomaly-detection';

export type DetectionAlert = BookAlert & { type: typeof DETECTION_TYPE };

export interface DetectionEvidence extends Record<string, unknown> {
  metric: Metric;
  window: { from: string; to: string };
  count: number;
  transactions: number;
  rate: number;
  by: Finding['by'];
  history: Finding['history'];
  peers: Finding['peers'];
  fleetPeers: Finding['fleetPeers'];
  thresholds: { peerZ: number; historyZ: number; aloneZ: number; minTransactions: number; minCount: number };
}

export interface FleetAnomalyDetectorOptions {
  config: Omit<DetectConfig, 'enabled'>;
  clock: Clock;
  onAlert: (alert: DetectionAlert, evidence: DetectionEvidence | undefined) => void;
  /** Told of every judged hour (the test's measurements, logs). */
  onHourJudged?: (hour: number, findings: Map<string, Finding[]>) => void;
}

interface TerminalState {
  fleet: string;
  terminalId: string;
  history: Partial<Record<Metric, Ewma>>;
  /** metric → judged hours without the anomaly since it was raised. */
  raised: Map<Metric, number>;
}

export class FleetAnomalyDetector {
  private readonly counts: HourlyCounts;
  private readonly terminals = new Map<string, TerminalState>();
  /** Start of the next hour to judge. */
  private nextHour: number | null = null;
  private timer: TimerHandle | null = null;

  constructor(private readonly o: FleetAnomalyDetectorOptions) {
    this.counts = new HourlyCounts(
      metricOfKey(o.config.counters),
      (hour) => this.nextHour !== null && hour < this.nextHour,
    );
  }

  /** Feeds one message (only Health counts). */
  ingest(msg: TerminalMessage, receivedAt = this.o.clock.now()): void {
    if (msg.type !== 'health') return;
    const key = `${msg.fleet}/${msg.terminalId}`;
    if (!this.terminals.has(key))
      this.terminals.set(key, { fleet: msg.fleet, terminalId: msg.terminalId, history: {}, raised: new Map() });
    this.nextHour ??= Math.floor(this.o.clock.now() / HOUR) * HOUR;
    this.counts.add(msg, receivedAt);
  }

  /** Judges each hour once it is over (plus the grace), until stop(). */
  start(): void {
    if (this.timer) return;
    const tick = (): void => {
      this.catchUp();
      const now = this.o.clock.now();
      const next = Math.floor(now / HOUR) * HOUR + HOUR + this.o.config.graceMinutes * 60_000;
      const due = next - HOUR > now ? next - HOUR : next;
      this.timer = this.o.clock.setTimeout(tick, Math.max(1, due - now));
    };
    tick();
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = null;
  }

  /** Judges every hour that is over, with its grace passed. */
  catchUp(): void {
    const now = this.o.clock.now();
    while (this.nextHour !== null && this.nextHour + HOUR + this.o.config.graceMinutes * 60_000 <= now) {
      const hour = this.nextHour;
      this.nextHour = hour + HOUR;
      this.judge(hour);
    }
  }

  private judge(hour: number): void {
    const counts = this.counts.take(hour);
    const input: TerminalHour[] = [];
    for (const [key, h] of counts) {
      const t = this.terminals.get(key);
      if (t) input.push({ key, fleet: t.fleet, hour: h, history: t.history });
    }
    const findings = judgeHour(input, this.o.config);
    const at = this.o.clock.now();
    for (const [key, list] of findings) {
      const t = this.terminals.get(key)!;
      for (const f of list) {
        const quietHours = t.raised.get(f.metric);
        if (f.anomalous) {
          if (quietHours === undefined) this.o.onAlert(this.alert(t, f, hour, at, 'raised'), this.evidence(f, hour));
          t.raised.set(f.metric, 0);
          continue;
        }
        t.history[f.metric] = ewmaUpdate(t.history[f.metric], this.learnable(f), this.o.config.ewmaAlpha);
        if (quietHours === undefined) continue;
        if (quietHours + 1 >= this.o.config.clearAfterNormalHours) {
          t.raised.delete(f.metric);
          this.o.onAlert(this.alert(t, f, hour, at, 'cleared'), this.evidence(f, hour));
        } else {
          t.raised.set(f.metric, quietHours + 1);
        }
      }
    }
    this.o.onHourJudged?.(hour, findings);
  }

  /**
   * What an hour teaches the history: its rate, but never more than 2 spreads above the mean, so a fault that
   * starts slowly (hours just under the threshold) does not drag the baseline up before it is found.
   */
  private learnable(f: Finding): number {
    if (!f.history) return f.rate;
    const { mean, sd } = f.history;
    return Math.min(f.rate, mean + 2 * spread(sd, mean, f.transactions, this.o.config.rateFloor));
  }

  private alert(t: TerminalState, f: Finding, hour: number, at: number, state: 'raised' | 'cleared'): DetectionAlert {
    const window = `${iso(hour)}–${iso(hour + HOUR).slice(11)}`;
    const base = f.history
      ? `own ${pct(f.history.mean)} ± ${pct(f.history.sd)} over ${f.history.hours} h, z ${f.history.z.toFixed(1)}`
      : 'no own history yet';
    const peers = f.peers
      ? `peers' median ${pct(f.peers.median)}, MAD ${pct(f.peers.mad)} (${f.peers.count}), z ${f.peers.z.toFixed(1)}`
      : 'too few peers';
    const what = `${METRIC_LABEL[f.metric]} ${pct(f.rate)} (${f.count} of ${f.transactions} transactions) in ${window}`;
    return {
      at,
      state,
      rule: `anomaly ${METRIC_LABEL[f.metric]}`,
      type: DETECTION_TYPE,
      key: `${t.fleet}/${t.terminalId}`,
      fleet: t.fleet,
      terminalId: t.terminalId,
      value: f.rate,
      message: state === 'raised' ? `${what}; ${base}; ${peers}` : `back to normal: ${what}; ${base}; ${peers}`,
    };
  }

  private evidence(f: Finding, hour: number): DetectionEvidence {
    const c = this.o.config;
    return {
      metric: f.metric,
      window: { from: new Date(hour).toISOString(), to: new Date(hour + HOUR).toISOString() },
      count: f.count,
      transactions: f.transactions,
      rate: f.rate,
      by: f.by,
      history: f.history,
      peers: f.peers,
      fleetPeers: f.fleetPeers,
      thresholds: {
        peerZ: c.peerZ,
        historyZ: c.historyZ,
        aloneZ: c.aloneZ,
        minTransactions: c.minTransactions,
        minCount: c.minCount,
      },
    };
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}
