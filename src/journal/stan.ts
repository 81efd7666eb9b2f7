/** STANs (field 11) run 1..999999 and then wrap to 1. */
export const STAN_MAX = 999_999;

/** Steps from STAN `from` forward to STAN `to`, across the wrap (0 stands for "before 1", like 999999). */
export function stanDistance(from: number, to: number): number {
  return ((to % STAN_MAX) - (from % STAN_MAX) + STAN_MAX) % STAN_MAX;
}

/** The STAN `steps` after `stan`, across the wrap. */
export function stanAdvance(stan: number, steps: number): number {
  const p = ((stan % STAN_MAX) + steps) % STAN_MAX;
  return p === 0 ? STAN_MAX : p;
}
