/**
 * Where lockouts outlive a restart: the guards hand the locks they hold (key → epoch ms until which it is locked) to
 * this, and read them back at start. The risk code stays pure; the app gives it a durable file (or nothing in tests).
 */
export interface LockoutPersistence {
  load(): Record<string, number>;
  save(locks: Record<string, number>): void;
}

/** Locks still in force at `now`, from what was loaded (bad entries skipped: a damaged record must not crash). */
export function liveLocks(loaded: unknown, now: number): Map<string, number> {
  const live = new Map<string, number>();
  if (typeof loaded !== 'object' || loaded === null) return live;
  for (const [key, until] of Object.entries(loaded)) {
    if (typeof until === 'number' && Number.isFinite(until) && until > now) live.set(key, until);
  }
  return live;
}
