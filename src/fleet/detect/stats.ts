/** The two baselines: the peers' median and MAD in one hour, and a terminal's own moving mean and variance. */

/** 1.4826 × MAD estimates the standard deviation for normally distributed data. */
export const MAD_TO_SD = 1.4826;

export function median(sorted: readonly number[]): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const mid = n >> 1;
  return n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export interface PeerStats {
  count: number;
  median: number;
  mad: number;
}

export function peerStats(values: readonly number[]): PeerStats {
  const sorted = [...values].sort((a, b) => a - b);
  const m = median(sorted);
  const deviations = sorted.map((v) => Math.abs(v - m)).sort((a, b) => a - b);
  return { count: sorted.length, median: m, mad: median(deviations) };
}

/** An exponentially weighted mean and variance; the first hours weigh 1/n so a young history is a plain average. */
export interface Ewma {
  mean: number;
  variance: number;
  hours: number;
}

export function ewmaUpdate(s: Ewma | undefined, x: number, alpha: number): Ewma {
  if (!s || s.hours === 0) return { mean: x, variance: 0, hours: 1 };
  const a = Math.max(alpha, 1 / (s.hours + 1));
  const d = x - s.mean;
  return { mean: s.mean + a * d, variance: (1 - a) * (s.variance + a * d * d), hours: s.hours + 1 };
}

/**
 * The spread a rate of n transactions is judged against: the baseline's own spread, plus the sampling noise of a
 * binomial count at the baseline rate (never below `floor`), which dominates for a terminal with few sales.
 */
export function spread(baselineSd: number, baselineRate: number, n: number, floor: number): number {
  const p = Math.min(Math.max(baselineRate, floor), 0.5);
  return Math.sqrt(baselineSd * baselineSd + (p * (1 - p)) / n);
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7). */
function lnGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  const y = x - 1;
  let a = c[0]!;
  const t = y + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (y + i);
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(a);
}

/** P(X ≥ k) for X Poisson with mean lambda: how surprising k counted things are where lambda were expected. */
export function poissonUpperTail(k: number, lambda: number): number {
  if (k <= 0) return 1;
  if (lambda <= 0) return 0;
  let term = Math.exp(-lambda + k * Math.log(lambda) - lnGamma(k + 1));
  let sum = 0;
  for (let i = k; i < k + 10_000 && term > sum * 1e-15; i++) {
    sum += term;
    term *= lambda / (i + 1);
  }
  return Math.min(1, sum);
}

/** The z-score with the same upper tail as p (Acklam's inverse normal), capped at 40 where p underflows. */
export function zOfUpperTail(p: number): number {
  if (p <= 0) return 40;
  if (p >= 1) return -40;
  const q = 1 - p;
  // Inverse of the standard normal CDF at q.
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239,
  ];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const tail = (r: number): number =>
    (((((c[0]! * r + c[1]!) * r + c[2]!) * r + c[3]!) * r + c[4]!) * r + c[5]!) /
    ((((d[0]! * r + d[1]!) * r + d[2]!) * r + d[3]!) * r + 1);
  if (q < 0.02425) return tail(Math.sqrt(-2 * Math.log(q)));
  if (q > 1 - 0.02425) return -tail(Math.sqrt(-2 * Math.log(p)));
  const r0 = q - 0.5;
  const r = r0 * r0;
  return (
    ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * r0) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
  );
}

/**
 * How far a count of `count` in `n` transactions is above a baseline rate, as a z-score: the smaller of the
 * normal approximation (the baseline's spread plus binomial noise) and the exact Poisson tail, so a handful of rare
 * events (3 fallbacks where 0.3 were expected) is judged by what chance really gives, not by a normal curve.
 */
export function excessZ(count: number, n: number, baseRate: number, baseSd: number, floor: number): number {
  const rate = count / n;
  const normal = (rate - baseRate) / spread(baseSd, baseRate, n, floor);
  const poisson = zOfUpperTail(poissonUpperTail(count, n * Math.max(baseRate, floor)));
  return Math.min(normal, poisson);
}
