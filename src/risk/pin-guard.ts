/**
 * Supervisor PIN check for the operations that move money back or change the terminal. Wrong PINs are counted per
 * client (a register, the console) across all these operations, and past the limit the guard refuses that client
 * everything for a while, even the right PIN, so the PIN cannot be found by trying; other clients keep their rights.
 * The lockouts are persisted when given a LockoutPersistence, so a restart does not reset the count of tries.
 */
import { PIN_HASH_PATTERN, verifyPin } from '../security/pin.js';
import type { Evidence, TimeSource } from './evidence.js';
import { nowFrom, requirePositive } from './evidence.js';
import { type LockoutPersistence, liveLocks } from './lockout-persistence.js';

export const SUPERVISOR_OPERATIONS = ['refund', 'void', 'unlock', 'settings'] as const;
export type SupervisorOperation = (typeof SUPERVISOR_OPERATIONS)[number];

export interface SupervisorGuardOptions {
  /** scrypt hash from hashPin(); the PIN itself is never held. */
  pinHash: string;
  maxAttempts?: number;
  lockoutMs?: number;
  /** Keeps the lockouts across a restart. */
  persistence?: LockoutPersistence;
}

/** The client a check is counted for when the caller names none. */
export const DEFAULT_SUPERVISOR_CLIENT = 'terminal';

export const DEFAULT_MAX_PIN_ATTEMPTS = 3;
export const DEFAULT_PIN_LOCKOUT_MS = 15 * 60_000;

export type SupervisorRefusalReason = 'missing' | 'wrong' | 'locked-out';

export type SupervisorCheck =
  | { ok: true; operation: SupervisorOperation }
  | {
      ok: false;
      reason: SupervisorRefusalReason;
      attemptsLeft?: number;
      lockedUntil?: number;
      anomaly: 'unauthorized-operation';
      /** Operation and counts; never the PIN that was tried. */
      evidence: Evidence;
    };

export class SupervisorGuard {
  private readonly pinHash: string;
  private readonly maxAttempts: number;
  private readonly lockoutMs: number;
  private readonly now: () => number;
  private readonly persistence: LockoutPersistence | undefined;
  // Per client: wrong PINs since its last right one, and its lockout.
  private readonly failures = new Map<string, number>();
  private readonly locks: Map<string, number>;
  // The failures kept are bounded: an attacker inventing client names must not grow memory without limit.
  private static readonly MAX_CLIENTS = 1024;

  constructor(options: SupervisorGuardOptions, now: TimeSource) {
    if (!PIN_HASH_PATTERN.test(options.pinHash)) throw new RangeError('pinHash is not a supervisor PIN hash');
    this.pinHash = options.pinHash;
    this.maxAttempts = requirePositive('maxAttempts', options.maxAttempts ?? DEFAULT_MAX_PIN_ATTEMPTS, true);
    this.lockoutMs = requirePositive('lockoutMs', options.lockoutMs ?? DEFAULT_PIN_LOCKOUT_MS);
    this.now = nowFrom(now);
    this.persistence = options.persistence;
    let loaded: unknown = {};
    try {
      loaded = this.persistence?.load() ?? {};
    } catch {
      // An unreadable record locks nobody; the count starts over.
    }
    this.locks = liveLocks(loaded, this.now());
  }

  verify(
    pin: string | undefined,
    operation: SupervisorOperation,
    client: string = DEFAULT_SUPERVISOR_CLIENT,
  ): SupervisorCheck {
    const now = this.now();
    const until = this.locks.get(client);
    if (until !== undefined && now >= until) {
      this.locks.delete(client);
      this.failures.delete(client);
      this.save();
    }
    const lockedUntil = this.locks.get(client);
    const failures = this.failures.get(client) ?? 0;
    // The lockout is checked before the PIN, so during it a right PIN learns nothing and costs no scrypt.
    if (lockedUntil !== undefined) {
      return this.refuse('locked-out', operation, failures, { lockedUntil });
    }
    // An empty entry is not a guess: it is not counted.
    if (typeof pin !== 'string' || pin.length === 0) {
      return this.refuse('missing', operation, failures, { attemptsLeft: this.maxAttempts - failures });
    }
    if (this.matches(pin)) {
      this.failures.delete(client);
      return { ok: true, operation };
    }
    const counted = failures + 1;
    this.failures.delete(client);
    this.failures.set(client, counted);
    if (this.failures.size > SupervisorGuard.MAX_CLIENTS) {
      this.failures.delete(this.failures.keys().next().value as string);
    }
    if (counted >= this.maxAttempts) {
      const until = now + this.lockoutMs;
      this.locks.set(client, until);
      this.save();
      return this.refuse('wrong', operation, counted, { attemptsLeft: 0, lockedUntil: until });
    }
    return this.refuse('wrong', operation, counted, { attemptsLeft: this.maxAttempts - counted });
  }

  /** Epoch ms until which every operation of `client` is refused, or undefined when it is not locked out. */
  lockedOutUntil(client: string = DEFAULT_SUPERVISOR_CLIENT): number | undefined {
    const until = this.locks.get(client);
    return until !== undefined && this.now() < until ? until : undefined;
  }

  private save(): void {
    try {
      this.persistence?.save(Object.fromEntries(this.locks));
    } catch {
      // The lock holds in memory; a storage failure shows up elsewhere (self-test, journal).
    }
  }

  private matches(pin: string): boolean {
    try {
      return verifyPin(pin, this.pinHash);
    } catch {
      // A hash whose scrypt parameters the platform refuses cannot confirm anything: refuse.
      return false;
    }
  }

  private refuse(
    reason: SupervisorRefusalReason,
    operation: SupervisorOperation,
    failures: number,
    extra: { attemptsLeft?: number; lockedUntil?: number },
  ): SupervisorCheck {
    return {
      ok: false,
      reason,
      ...extra,
      anomaly: 'unauthorized-operation',
      evidence: Object.freeze({
        operation: String(operation),
        reason,
        failedAttempts: failures,
        maxAttempts: this.maxAttempts,
        ...(extra.attemptsLeft !== undefined ? { attemptsLeft: extra.attemptsLeft } : {}),
        ...(extra.lockedUntil !== undefined ? { lockedUntil: extra.lockedUntil } : {}),
      }),
    };
  }
}
