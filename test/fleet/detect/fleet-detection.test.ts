/**
 * Anomaly detection on a generated fleet (300 terminals of 30 merchants, 6 days of hours, seeded): every injected
 * fault must be found, and the false alerts on the healthy terminals are measured, printed and held under a bound.
 *
 * The bound: an operator can live with about one false alert per 100 healthy terminals per day (30 a day for a fleet
 * of 3,000, each a look at a chart, not a call-out). A busy terminal is judged about 13 hours a day on 6 metrics
 * (the night is too quiet to judge), about 80 judgements a day, so per judgement that is about 1.2e-4: the test
 * holds 0.01 per terminal-day and 2e-4 per judgement.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../hal/clock.js';
import { DETECT_DEFAULTS, type DetectConfig } from '../../../src/fleet/config-detect.js';
import {
  type DetectionAlert,
  type DetectionEvidence,
  FleetAnomalyDetector,
} from '../../../src/fleet/detect/detector.js';
import type { Finding } from '../../../src/fleet/detect/judge.js';
import type { Metric } from '../../../src/fleet/detect/metrics.js';
import { generateFleet, type GeneratedFleet } from './generated-fleet.js';

const HOUR = 3_600_000;
const MAX_FALSE_ALERTS_PER_TERMINAL_DAY = 0.01;
const MAX_FALSE_FINDINGS_PER_JUDGEMENT = 2e-4;

interface Run {
  fleet: GeneratedFleet;
  raised: { alert: DetectionAlert; evidence: DetectionEvidence }[];
  cleared: DetectionAlert[];
  judgements: { healthy: number; healthyAnomalous: number };
  /** `terminal hour` of the faulty terminals' hours busy enough to be judged. */
  judged: Set<string>;
}

async function runDetection(fleet: GeneratedFleet, config: Omit<DetectConfig, 'enabled'>): Promise<Run> {
  const clock = new ManualClock(fleet.start);
  const faulty = new Set(fleet.faults.flatMap((f) => f.terminals));
  const judged = new Set<string>();
  const run: Run = { fleet, raised: [], cleared: [], judgements: { healthy: 0, healthyAnomalous: 0 }, judged };
  const detector = new FleetAnomalyDetector({
    config,
    clock,
    onAlert: (alert, evidence) => {
      if (alert.state === 'raised') run.raised.push({ alert, evidence: evidence! });
      else run.cleared.push(alert);
    },
    onHourJudged: (hour, findings: Map<string, Finding[]>) => {
      for (const [key, list] of findings) {
        if (faulty.has(key)) {
          judged.add(`${key} ${hour}`);
          continue;
        }
        run.judgements.healthy += list.length;
        run.judgements.healthyAnomalous += list.filter((f) => f.anomalous).length;
      }
    },
  });
  detector.start();
  for (const msg of fleet.messages) {
    if (msg.header.sentAtMs > clock.now()) await clock.advance(msg.header.sentAtMs - clock.now());
    detector.ingest(msg, msg.header.sentAtMs + 500);
  }
  await clock.advance(2 * HOUR);
  detector.stop();
  return run;
}

/**
 * For each injected fault and terminal: found (an alert on one of its metrics for an hour inside the fault), missed,
 * or too quiet to judge (not one hour of the fault reached the minimum volume). Also per (terminal, metric) pair.
 */
function hits(run: Run) {
  const found: string[] = [];
  const missed: string[] = [];
  const quiet: string[] = [];
  const pairs = { found: 0, all: 0 };
  for (const fault of run.fleet.faults) {
    const from = run.fleet.start + fault.fromHour * HOUR;
    const to = run.fleet.start + fault.toHour * HOUR;
    for (const terminal of fault.terminals) {
      const name = `${fault.kind} ${terminal}`;
      let judgeable = false;
      for (let at = from; at < to; at += HOUR) judgeable ||= run.judged.has(`${terminal} ${at}`);
      if (!judgeable) {
        quiet.push(name);
        continue;
      }
      let any = false;
      for (const metric of Object.keys(fault.rates) as Metric[]) {
        const hit = run.raised.some(
          (r) =>
            r.alert.key === terminal &&
            r.evidence.metric === metric &&
            Date.parse(r.evidence.window.from) >= from &&
            Date.parse(r.evidence.window.from) < to,
        );
        pairs.all++;
        if (hit) pairs.found++;
        any ||= hit;
      }
      (any ? found : missed).push(name);
    }
  }
  return { found, missed, quiet, pairs };
}

function falseAlerts(run: Run) {
  const injected = new Set(
    run.fleet.faults.flatMap((f) => f.terminals.flatMap((t) => Object.keys(f.rates).map((m) => `${t} ${m}`))),
  );
  const faulty = new Set(run.fleet.faults.flatMap((f) => f.terminals));
  const onHealthy = run.raised.filter((r) => !faulty.has(r.alert.key));
  const otherMetric = run.raised.filter(
    (r) => faulty.has(r.alert.key) && !injected.has(`${r.alert.key} ${r.evidence.metric}`),
  );
  const healthyTerminals = run.fleet.terminals.length - faulty.size;
  return { onHealthy, otherMetric, perTerminalDay: onHealthy.length / (healthyTerminals * (run.fleet.hours / 24)) };
}

function report(name: string, run: Run): void {
  const h = hits(run);
  const f = falseAlerts(run);
  const rate = run.judgements.healthyAnomalous / run.judgements.healthy;
  console.log(
    `[detection ${name}] faulty terminals found ${h.found.length}/${h.found.length + h.missed.length}` +
      ` (${h.quiet.length} too quiet to judge); fault metrics found ${h.pairs.found}/${h.pairs.all}` +
      ` (${((100 * h.pairs.found) / h.pairs.all).toFixed(1)}%);` +
      ` false alerts on healthy terminals ${f.onHealthy.length} in ${run.fleet.hours / 24} days` +
      ` (${f.perTerminalDay.toExponential(2)} per terminal-day, bound ${MAX_FALSE_ALERTS_PER_TERMINAL_DAY});` +
      ` anomalous findings ${run.judgements.healthyAnomalous} of ${run.judgements.healthy} judged` +
      ` (${rate.toExponential(2)}, bound ${MAX_FALSE_FINDINGS_PER_JUDGEMENT});` +
      ` other metrics on faulty terminals ${f.otherMetric.length}`,
  );
  for (const r of f.onHealthy) console.log(`  false: ${r.alert.key} ${r.alert.message}`);
  for (const m of h.missed) console.log(`  missed: ${m}`);
  for (const m of h.quiet) console.log(`  too quiet: ${m}`);
}

const shape = { seed: 18, merchants: 30, terminalsPerMerchant: 10, days: 6 };

describe('anomaly detection on a generated fleet', () => {
  const fleet = generateFleet(shape);

  it('finds the skimmer, the flaky network and the decline wave, with few false alerts (peers: the whole fleet)', async () => {
    const run = await runDetection(fleet, DETECT_DEFAULTS as Omit<DetectConfig, 'enabled'>);
    report('peers=all', run);
    const h = hits(run);
    expect(h.missed).toEqual([]);
    // Every skimmer and flaky terminal; of the wave's merchant, every terminal busy enough to be judged.
    expect(h.found.filter((m) => !m.startsWith('wave')).length).toBe(6);
    expect(h.found.length + h.quiet.length).toBe(16);
    expect(h.quiet.length).toBeLessThanOrEqual(2);
    expect(h.pairs.found / h.pairs.all).toBeGreaterThanOrEqual(0.9);
    const f = falseAlerts(run);
    expect(f.perTerminalDay).toBeLessThanOrEqual(MAX_FALSE_ALERTS_PER_TERMINAL_DAY);
    expect(run.judgements.healthyAnomalous / run.judgements.healthy).toBeLessThanOrEqual(
      MAX_FALSE_FINDINGS_PER_JUDGEMENT,
    );
    // The evidence says what was seen and against what.
    const skim = run.raised.find(
      (r) => r.evidence.metric === 'readFailures' && r.alert.key === fleet.faults[0]!.terminals[0],
    );
    expect(skim?.alert).toMatchObject({ type: 'anomaly-detection', rule: 'anomaly read failures', state: 'raised' });
    expect(skim?.evidence.rate).toBeGreaterThan(0.05);
    expect(skim?.evidence.peers?.count).toBeGreaterThan(100);
    expect(skim?.evidence.history?.hours).toBeGreaterThan(12);
    expect(skim?.alert.message).toMatch(
      /^read failures \d+\.\d% \(\d+ of \d+ transactions\) in 2026-03-\d\d \d\d:00–\d\d:00; own /,
    );
    // The flaky terminals heal: their alerts clear.
    const flaky = fleet.faults.filter((f) => f.kind === 'flaky').flatMap((f) => f.terminals);
    for (const key of flaky)
      expect(run.cleared.some((c) => c.key === key && c.rule === 'anomaly host timeouts')).toBe(true);
  });

  it("still finds the decline wave when peers are the merchant's own terminals (against the rest and its own history)", async () => {
    const run = await runDetection(fleet, {
      ...(DETECT_DEFAULTS as Omit<DetectConfig, 'enabled'>),
      peerGroup: 'fleet',
    });
    report('peers=fleet', run);
    const h = hits(run);
    expect(h.missed.filter((m) => m.startsWith('wave'))).toEqual([]);
    const wave = run.raised.filter(
      (r) => r.evidence.metric === 'declines' && r.alert.fleet === fleet.faults.at(-1)!.terminals[0]!.split('/')[0],
    );
    expect(wave.length).toBe(h.found.filter((m) => m.startsWith('wave')).length);
    expect(wave.length).toBeGreaterThanOrEqual(8);
    // Its own merchant's terminals see the same: what finds it is the rest of the fleet and each one's own history.
    for (const r of wave) {
      // (No within-merchant figure when fewer than minPeers of its terminals were busy enough that hour.)
      expect(r.evidence.peers?.z ?? Number.NEGATIVE_INFINITY).toBeLessThan(r.evidence.fleetPeers!.z);
      expect(r.evidence.fleetPeers!.z).toBeGreaterThanOrEqual(3.5);
      expect(r.evidence.by === 'peers-and-history' || r.evidence.by === 'history').toBe(true);
    }
    expect(falseAlerts(run).perTerminalDay).toBeLessThanOrEqual(MAX_FALSE_ALERTS_PER_TERMINAL_DAY);
  });
});
