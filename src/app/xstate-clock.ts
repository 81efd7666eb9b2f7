import type { Clock } from '../../hal/clock.js';

/** XState's scheduler takes setTimeout/clearTimeout; adapt our Clock so machine delays follow the same time. */
export function xstateClockFrom(clock: Clock) {
  return {
    setTimeout: (fn: (...args: unknown[]) => void, ms: number) => clock.setTimeout(fn, ms),
    clearTimeout: (handle: unknown) => (handle as { cancel(): void } | undefined)?.cancel(),
  };
}
