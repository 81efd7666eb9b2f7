/**
 * Duplicate transaction check: the same card, amount, currency and kind approved a moment ago is most often a
 * cashier pressing pay twice. Only approved transactions are recorded; the integrator decides what a hit means
 * (anomaly duplicate-transaction, supervisor override).
 */
import type { Evidence, TimeSource } from './evidence.js';
import { nowFrom, requirePositive } from './evidence.js';

export interface DuplicateQuery {
  /** From cardKey(): never the PAN. */
  cardKey: string;
  /** Minor units. */
  amount: number;
  currency: string;
  kind: string;
}

export interface ApprovedTransaction extends DuplicateQuery {
  at: number;
  stan?: number;
  txnRef: string;
}

export interface EarlierTransaction {
  at: number;
  stan?: number;
  txnRef: string;
}

export type DuplicateResult =
  | { duplicate: false }
  | { duplicate: true; earlier: EarlierTransaction; anomaly: 'duplicate-transaction'; evidence: Evidence };

export interface DuplicateDetectorOptions {
  windowMs: number;
  /** Hard bound on remembered transactions whatever the rate; the oldest go first. */
  maxEntries?: number;
}

export const DEFAULT_DUPLICATE_MAX_ENTRIES = 10_000;

export class DuplicateDetector {
  private readonly windowMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  // Insertion order is record order, so pruning from the front removes the oldest first.
  private readonly recent = new Map<string, ApprovedTransaction>();

  constructor(options: DuplicateDetectorOptions, now: TimeSource) {
    this.windowMs = requirePositive('windowMs', options.windowMs);
    this.maxEntries = requirePositive('maxEntries', options.maxEntries ?? DEFAULT_DUPLICATE_MAX_ENTRIES, true);
    this.now = nowFrom(now);
  }

  check(query: DuplicateQuery): DuplicateResult {
    const now = this.now();
    this.prune(now);
    const earlier = this.recent.get(keyOf(query));
    if (!earlier || !this.inWindow(earlier.at, now)) return { duplicate: false };
    return {
      duplicate: true,
      earlier: {
        at: earlier.at,
        ...(earlier.stan !== undefined ? { stan: earlier.stan } : {}),
        txnRef: earlier.txnRef,
      },
      anomaly: 'duplicate-transaction',
      evidence: {
        kind: query.kind,
        amount: query.amount,
        currency: query.currency,
        earlierTxnRef: earlier.txnRef,
        ...(earlier.stan !== undefined ? { earlierStan: earlier.stan } : {}),
        ageMs: Math.max(0, now - earlier.at),
        windowMs: this.windowMs,
      },
    };
  }

  /** Call for approved transactions only: a decline or a cancel is not something the customer paid twice. */
  record(txn: ApprovedTransaction): void {
    const key = keyOf(txn);
    // Delete first so the entry moves to the end of the insertion order.
    this.recent.delete(key);
    this.recent.set(key, { ...txn });
    this.prune(this.now());
  }

  /** A voided or reversed transaction no longer makes the next identical sale a duplicate. */
  forget(txnRef: string): void {
    for (const [key, txn] of this.recent) if (txn.txnRef === txnRef) this.recent.delete(key);
  }

  get size(): number {
    return this.recent.size;
  }

  private inWindow(at: number, now: number): boolean {
    return now - at < this.windowMs;
  }

  private prune(now: number): void {
    for (const [key, txn] of this.recent) {
      if (this.recent.size <= this.maxEntries && this.inWindow(txn.at, now)) break;
      this.recent.delete(key);
    }
  }
}

function keyOf(q: DuplicateQuery): string {
  // JSON keeps the parts apart whatever characters they hold.
  return JSON.stringify([q.cardKey, q.amount, q.currency, q.kind]);
}
