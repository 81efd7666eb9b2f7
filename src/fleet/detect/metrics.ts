/** The six rates anomaly detection watches, each a count per transaction in one hour of one terminal. */
import type { DetectConfig } from '../config-detect.js';

export const METRICS = ['declines', 'timeouts', 'reversals', 'readFailures', 'offlineSales', 'fallbackSwipes'] as const;
export type Metric = (typeof METRICS)[number];

/** Where each metric is counted: the Health `outcomes` counters or its `anomalies` counters. */
export const METRIC_SOURCE: Record<Metric, 'outcomes' | 'anomalies'> = {
  declines: 'outcomes',
  offlineSales: 'outcomes',
  timeouts: 'anomalies',
  reversals: 'anomalies',
  readFailures: 'anomalies',
  fallbackSwipes: 'anomalies',
};

export const METRIC_LABEL: Record<Metric, string> = {
  declines: 'declines',
  timeouts: 'host timeouts',
  reversals: 'reversals',
  readFailures: 'read failures',
  offlineSales: 'offline sales',
  fallbackSwipes: 'fallback swipes',
};

/** One terminal's hour: transactions (every outcome) and the count of each metric. */
export interface HourCounts {
  transactions: number;
  counts: Record<Metric, number>;
}

export function emptyHour(): HourCounts {
  return {
    transactions: 0,
    counts: { declines: 0, timeouts: 0, reversals: 0, readFailures: 0, offlineSales: 0, fallbackSwipes: 0 },
  };
}

/** counter key → the metric it counts toward, per source. */
export function metricOfKey(config: DetectConfig['counters']): {
  outcomes: Map<string, Metric>;
  anomalies: Map<string, Metric>;
} {
  const outcomes = new Map<string, Metric>();
  const anomalies = new Map<string, Metric>();
  for (const metric of METRICS)
    for (const key of config[metric]) (METRIC_SOURCE[metric] === 'outcomes' ? outcomes : anomalies).set(key, metric);
  return { outcomes, anomalies };
}
