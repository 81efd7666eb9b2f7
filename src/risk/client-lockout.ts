/**
 * Locks out one client, not the terminal: a client whose requests are refused again and again (wrong tokens, wrong
 * supervisor PINs) has all its requests refused for a while, while every other register keeps selling. The locks are
 * persisted when given a LockoutPersistence, so restarting the terminal does not open the door again.
 */
import { requirePositive } from './evidence.js';
import { type LockoutPersistence, liveLocks } from './lockout-persistence.js';

export interface ClientLockoutOptions {
  /** Refusals within `windowMs` that lock the client. */
  refusals: number;
  windowMs: number;
  lockoutMs: number;
  persistence?: LockoutPersistence;
  /** Clients whose refusals are remembered at most; the oldest is forgotten first. */
  maxClients?: number;
}

export const DEFAULT_CLIENT_LOCKOUT = { refusals: 5, windowMs: 10 * 60_000, lockoutMs: 15 * 60_000 } as const;

export type ClientRefusalVerdict = { locked: false } | { locked: true; until: number; refusals: number };

export class ClientLockout {
  private readonly refusals = new Map<string, number[]>();
  private readonly locks: Map<string, number>;
  private readonly maxClients: number;

  constructor(
    private readonly options: ClientLockoutOptions,
    private readonly now: () => number,
  ) {
    requirePositive('refusals', options.refusals, true);
    requirePositive('windowMs', options.windowMs);
    requirePositive('lockoutMs', options.lockoutMs);
    this.maxClients = options.maxClients ?? 4096;
    let loaded: unknown = {};
    try {
      loaded = options.persistence?.load() ?? {};
    } catch {
      // An unreadable record locks nobody.
    }
    this.locks = liveLocks(loaded, now());
  }

  /** Epoch ms until which `client` is refused, or undefined. */
  lockedUntil(client: string): number | undefined {
    const until = this.locks.get(client);
    if (until === undefined) return undefined;
    if (this.now() < until) return until;
    this.locks.delete(client);
    this.save();
    return undefined;
  }

  /** One refused request of `client`; the verdict says whether it is now locked out. */
  refused(client: string): ClientRefusalVerdict {
    const now = this.now();
    const already = this.lockedUntil(client);
    if (already !== undefined) return { locked: true, until: already, refusals: this.options.refusals };
    const times = (this.refusals.get(client) ?? []).filter((t) => now - t <= this.options.windowMs);
    times.push(now);
    this.refusals.delete(client);
    if (times.length >= this.options.refusals) {
      const until = now + this.options.lockoutMs;
      this.locks.set(client, until);
      this.save();
      return { locked: true, until, refusals: times.length };
    }
    this.refusals.set(client, times);
    if (this.refusals.size > this.maxClients) this.refusals.delete(this.refusals.keys().next().value as string);
    return { locked: false };
  }

  /** A supervisor unlock lifts every client lockout too. */
  clear(): void {
    this.refusals.clear();
    this.locks.clear();
    this.save();
  }

  private save(): void {
    try {
      this.options.persistence?.save(Object.fromEntries(this.locks));
    } catch {
      // The lock holds in memory.
    }
  }
}
