/**
 * Supervisor PIN check for the operations that move money back or change the terminal. Wrong PINs are counted
 * across all these operations (one PIN, one counter), and past the limit the guard refuses everything for a while,
 * even the right PIN, so the PIN cannot be found by trying.
 */
import { PIN_HASH_PATTERN, verifyPin } from '../security/pin.js';
import type { Evidence, TimeSource } from './evidence.js';
import { nowFrom, requirePositive } from './evidence.js';

export const SUPERVISOR_OPERATIONS = ['refund', 'void', 'unlock', 'settings'] as const;
export type SupervisorOperation = (typeof SUPERVISOR_OPERATIONS)[number];

export interface SupervisorGuardOptions {
  /** scrypt hash from hashPin(); the PIN itself is never held. */
  pinHash: string;
  maxAttempts?: number;
  lockoutMs?: number;
}

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
  private failures = 0;
  private lockedUntil: number | undefined;

  constructor(options: SupervisorGuardOptions, now: TimeSource) {
    if (!PIN_HASH_PATTERN.test(options.pinHash)) throw new RangeError('pinHash is not a supervisor PIN hash');
    this.pinHash = options.pinHash;
    this.maxAttempts = requirePositive('maxAttempts', options.maxAttempts ?? DEFAULT_MAX_PIN_ATTEMPTS, true);
    this.lockoutMs = requirePositive('lockoutMs', options.lockoutMs ?? DEFAULT_PIN_LOCKOUT_MS);
    this.now = nowFrom(now);
  }

  verify(pin: string | undefined, operation: SupervisorOperation): SupervisorCheck {
    const now = this.now();
    if (this.lockedUntil !== undefined && now >= this.lockedUntil) {
      this.lockedUntil = undefined;
      this.failures = 0;
    }
    // The lockout is checked before the PIN, so during it a right PIN learns nothing and costs no scrypt.
    if (this.lockedUntil !== undefined) {
      return this.refuse('locked-out', operation, { lockedUntil: this.lockedUntil });
    }
    // An empty entry is not a guess: it is not counted.
    if (typeof pin !== 'string' || pin.length === 0) {
      return this.refuse('missing', operation, { attemptsLeft: this.maxAttempts - this.failures });
    }
    if (this.matches(pin)) {
      this.failures = 0;
      return { ok: true, operation };
    }
    this.failures++;
    if (this.failures >= this.maxAttempts) {
      this.lockedUntil = now + this.lockoutMs;
      return this.refuse('wrong', operation, { attemptsLeft: 0, lockedUntil: this.lockedUntil });
    }
    return this.refuse('wrong', operation, { attemptsLeft: this.maxAttempts - this.failures });
  }

  /** Epoch ms until which every operation is refused, or undefined when not locked out. */
  lockedOutUntil(): number | undefined {
    const until = this.lockedUntil;
    return until !== undefined && this.now() < until ? until : undefined;
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
        failedAttempts: this.failures,
        maxAttempts: this.maxAttempts,
        ...(extra.attemptsLeft !== undefined ? { attemptsLeft: extra.attemptsLeft } : {}),
        ...(extra.lockedUntil !== undefined ? { lockedUntil: extra.lockedUntil } : {}),
      }),
    };
  }
}
