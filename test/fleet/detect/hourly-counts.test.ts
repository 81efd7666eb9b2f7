/** Hourly counts from cumulative Health counters: reboots, repeats, late and out-of-order Health, the first sight. */
import { describe, expect, it } from 'vitest';
import { DETECT_DEFAULTS } from '../../../src/fleet/config-detect.js';
import { HourlyCounts } from '../../../src/fleet/detect/hourly-counts.js';
import { metricOfKey } from '../../../src/fleet/detect/metrics.js';
import { poissonUpperTail, zOfUpperTail, peerStats, ewmaUpdate } from '../../../src/fleet/detect/stats.js';
import type { HealthMessage } from '../../../src/fleet/messages.js';

const H0 = Date.UTC(2026, 2, 2, 10, 0, 0);
const HOUR = 3_600_000;

function health(
  bootId: string,
  seq: number,
  at: number,
  outcomes: Record<string, number>,
  anomalies: Record<string, number> = {},
): HealthMessage {
  return {
    type: 'health',
    historical: false,
    fleetConsumersOnline: 0,
    topic: 'pos/v1/m/T1/health',
    fleet: 'm',
    terminalId: 'T1',
    header: { terminalId: 'T1', fleet: 'm', bootId, seq, sentAtMs: at },
    state: 'ready',
    limitations: [],
    lockReasons: [],
    components: [],
    pendingReversals: 0,
    storeAndForward: { depth: 0, totalMinor: 0, oldestAgeMs: 0 },
    outcomes: Object.entries(outcomes).map(([key, count]) => ({ key, count })),
    anomalies: Object.entries(anomalies).map(([key, count]) => ({ key, count })),
    link: null,
    resources: null,
    telemetryDropped: 0,
    eventsDropped: 0,
    outboxDepth: 0,
  };
}

describe('HourlyCounts', () => {
  it('counts what grew between Health messages, in the hour each was sent, across a reboot', () => {
    let judgedBefore = Number.NEGATIVE_INFINITY;
    const counts = new HourlyCounts(metricOfKey(DETECT_DEFAULTS.counters), (hour) => hour < judgedBefore);
    // First sight: where the counters stand, nothing counted (they hold days from before pos-fleet watched).
    counts.add(health('a', 10, H0 + 60_000, { approved: 500, declined: 40 }, { E311: 9 }), H0);
    counts.add(health('a', 11, H0 + 20 * 60_000, { approved: 520, declined: 44 }, { E311: 10, E999: 3 }), H0);
    // A repeat and an older one (a backlog out of order) add nothing.
    counts.add(health('a', 11, H0 + 20 * 60_000, { approved: 520, declined: 44 }, { E311: 10 }), H0);
    counts.add(health('a', 10, H0 + 60_000, { approved: 500, declined: 40 }), H0);
    // Rebooted: counters from zero, counted in full.
    counts.add(health('b', 1, H0 + 40 * 60_000, { approved: 6, 'offline-approved': 2 }, { E101: 1, E522: 1 }), H0);
    // Next hour.
    counts.add(
      health('b', 2, H0 + HOUR + 60_000, { approved: 16, 'offline-approved': 2, declined: 1 }, { E101: 1, E522: 1 }),
      H0,
    );
    // A late Health of the previous boot, sent in the first hour but arriving now: still counted there.
    counts.add(health('a', 12, H0 + 30 * 60_000, { approved: 521, declined: 44 }, { E311: 10 }), H0);

    const first = counts.take(H0).get('m/T1')!;
    expect(first.transactions).toBe(20 + 4 + 6 + 2 + 1);
    expect(first.counts).toEqual({
      declines: 4,
      timeouts: 1,
      reversals: 0,
      readFailures: 1,
      offlineSales: 2,
      fallbackSwipes: 1,
    });
    judgedBefore = H0 + HOUR;
    // Arriving after its hour was judged: not counted, but noted.
    counts.add(health('b', 3, H0 + 59 * 60_000, { approved: 30, 'offline-approved': 2, declined: 1 }), H0);
    expect(counts.late).toBe(1);
    const second = counts.take(H0 + HOUR).get('m/T1')!;
    expect(second.transactions).toBe(11);
    expect(second.counts.declines).toBe(1);
  });
});

describe('detection statistics', () => {
  it('gives Poisson tails and their z-scores, medians and MADs, and a moving baseline', () => {
    // P(X >= 3 | 0.5) = 1 - e^-0.5 (1 + 0.5 + 0.125)
    expect(poissonUpperTail(3, 0.5)).toBeCloseTo(1 - Math.exp(-0.5) * 1.625, 12);
    expect(poissonUpperTail(0, 2)).toBe(1);
    expect(zOfUpperTail(0.5)).toBeCloseTo(0, 6);
    expect(zOfUpperTail(0.02275)).toBeCloseTo(2, 3);
    expect(zOfUpperTail(3.167e-5)).toBeCloseTo(4, 2);
    expect(zOfUpperTail(1e-300)).toBeGreaterThan(30);
    expect(peerStats([5, 1, 3, 100, 2])).toEqual({ count: 5, median: 3, mad: 2 });
    let s = ewmaUpdate(undefined, 2, 0.1);
    s = ewmaUpdate(s, 4, 0.1);
    // The first hours are a plain average: mean 3, variance of (2, 4) around it weighted 1/2.
    expect(s).toEqual({ mean: 3, variance: 1, hours: 2 });
    for (let i = 0; i < 200; i++) s = ewmaUpdate(s, 10, 0.1);
    expect(s.mean).toBeCloseTo(10, 6);
    expect(s.variance).toBeLessThan(1e-6);
  });
});
