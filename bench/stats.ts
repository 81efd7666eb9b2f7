/**
 * The statistics the benchmarks report: percentiles of samples in milliseconds, rounded to the microsecond as
 * bench/results.json holds them, and a sale run's figures (count, p50, p99, max, and its rate).
 */
import { performance } from 'node:perf_hooks';

/** The sample at or just below the p-th percentile of `sorted` (ascending); 0 for no samples. */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/** The middle sample (the upper one of an even count); 0 for no samples. */
export function median(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
}

/** Milliseconds to three decimals: a microsecond is the finest figure a bench reports. */
export function ms3(ms: number): number {
  return Number(ms.toFixed(3));
}

export interface Spread {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** p50, p99 and the largest of `samples` (any order; not changed). */
export function spread(samples: readonly number[]): Spread {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    p50Ms: ms3(percentile(sorted, 50)),
    p99Ms: ms3(percentile(sorted, 99)),
    maxMs: ms3(sorted.at(-1) ?? 0),
  };
}

export interface SaleFigures extends Spread {
  sales: number;
}

/** A run of sales by their latencies. */
export function saleFigures(latencies: readonly number[]): SaleFigures {
  return { sales: latencies.length, ...spread(latencies) };
}

export interface LatencyFigures extends SaleFigures {
  salesPerSecond: number;
}

/** A run of sales made one after another in `seconds`. */
export function rateFigures(latencies: readonly number[], seconds: number): LatencyFigures {
  return { ...saleFigures(latencies), salesPerSecond: Math.round(latencies.length / seconds) };
}

/** Runs `sale` (it resolves with its own latency) `count` times one after another, and figures the run. */
export async function measureSales(sale: () => Promise<number>, count: number): Promise<LatencyFigures> {
  const latencies: number[] = [];
  const start = performance.now();
  for (let i = 0; i < count; i++) latencies.push(await sale());
  return rateFigures(latencies, (performance.now() - start) / 1_000);
}
