/**
 * Locks out one client, not the terminal: a client whose requests are refused again and again (wrong tokens, wrong
 * supervisor PINs) has all its requests refused for a while, while every other register keeps selling. The locks are
 * persisted when given a LockoutPersistence, so restarting the terminal does not open the door again.
 * When the persisted record was damaged (`damaged()` true), clients it may have named can no longer be told apart:
 * until the damage is acknowledged (a supervisor clearing the lockouts) or ages out, a client is locked at its first
 * refusal. Registers presenting good tokens are never refused, so they keep selling; a guesser loses its tries.
 */
import { requirePositive } from './evidence.js';
import { type LockoutPersistence, liveLocks } from './lockout-persistence.js';

export interface ClientLockoutOptions {
  /** Refusals within `windowMs` that lock the client. */
  refusals: number;
  windowMs: number;
  lockoutMs: number;
  persistence?: ClientLockoutPersistence;
  /** Clients whose refusals are remembered at most; the oldest is forgotten first. */
  maxClients?: number;
}

/** Persistence that may know its record was damaged (the lockouts file does: src/ecr/limits/lockout-file.ts). */
export interface ClientLockoutPersistence extends LockoutPersistence {
  damaged?(): boolean;
  acknowledgeDamage?(): void;
}

export interface ClientLock {
  client: string;
  /** Epoch ms. */
  until: number;
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
    if (times.length >= this.threshold()) {
      const until = now + this.options.lockoutMs;
      this.locks.set(client, until);
      this.save();
      return { locked: true, until, refusals: times.length };
    }
    this.refusals.set(client, times);
    if (this.refusals.size > this.maxClients) this.refusals.delete(this.refusals.keys().next().value as string);
    return { locked: false };
  }

  /** The clients locked out now, soonest free first. */
  list(): ClientLock[] {
    const now = this.now();
    return [...this.locks]
      .filter(([, until]) => until > now)
      .map(([client, until]) => ({ client, until }))
      .sort((a, b) => a.until - b.until || a.client.localeCompare(b.client));
  }

  /**
   * Lifts the lockout (and the refusals counted) of one client, or of every client when no key is given: a supervisor
   * unlock lifts them all. Persisted at once.
   */
  clear(client?: string): void {
    if (client === undefined) {
      this.refusals.clear();
      this.locks.clear();
      this.save();
      this.guard(() => this.options.persistence?.acknowledgeDamage?.());
      return;
    }
    this.refusals.delete(client);
    if (this.locks.delete(client)) this.save();
  }

  /** Refusals that lock: one while a damaged record may hide who was locked. */
  private threshold(): number {
    let damaged = false;
    this.guard(() => {
      damaged = this.options.persistence?.damaged?.() === true;
    });
    return damaged ? 1 : this.options.refusals;
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch {
      // Persistence trouble never changes a verdict for the worse; the lock holds in memory.
    }
  }

  private save(): void {
    try {
      this.options.persistence?.save(Object.fromEntries(this.locks));
    } catch {
      // The lock holds in memory.
    }
  }
}
