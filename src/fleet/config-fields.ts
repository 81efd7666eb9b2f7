/**
 * The typed fields every block of the fleet consumer's config is made of, each with the one-line expectation a
 * problem is reported with (`path: expected X, found Y`).
 */
import { z } from 'zod';

/** Above this a number of milliseconds no longer fits a Node timer. */
export const MAX_TIMER_MS = 2_147_483_647;

export function int(min: number, max: number) {
  const expected = max >= MAX_TIMER_MS ? `an integer >= ${min}` : `an integer from ${min} to ${max}`;
  return z
    .number({ error: expected })
    .int({ error: expected })
    .min(min, { error: expected })
    .max(max, { error: expected });
}

export function positive(max: number, unit: string) {
  const expected = `a number of ${unit} above 0 (at most ${max})`;
  return z.number({ error: expected }).gt(0, { error: expected }).max(max, { error: expected });
}

export function str(expected: string) {
  return z.string({ error: expected }).min(1, { error: expected }).max(4096, { error: expected });
}
