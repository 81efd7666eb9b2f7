/**
 * When a failed delivery is tried again: exponential (first, 2×, 4×… up to the maximum) with "equal jitter" (half
 * the delay fixed, half random), so receivers that come back are not hit by every sender at the same instant.
 */
export function retryDelayMs(attempt: number, firstMs: number, maxMs: number, random: () => number): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 40);
  const base = Math.min(maxMs, firstMs * 2 ** exponent);
  return Math.round(base / 2 + (base / 2) * Math.min(Math.max(random(), 0), 1));
}
