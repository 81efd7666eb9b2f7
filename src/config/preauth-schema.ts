/** Pre-authorizations (`preauth`): how long a hold stays open, and how far a completion may exceed it. */
import { bool, int, ms, obj } from './schema-parts.js';

export const preauth = obj({
  /** A pre-authorization not completed after this many days is expired and its hold released. */
  expiryDays: int(1, 365),
  /** A completion (tip included) may exceed the held amount by at most this percentage; above it is refused. */
  completionTolerancePercent: int(0, 100),
  /** How often open holds are checked for expiry. */
  expiryCheckIntervalMs: ms(1_000),
});

/**
 * Tips (`tips`): whether the cardholder is asked for one on the PIN pad before the card, on a sale the register sent
 * without a tip, on a pad with amount entry; the largest tip as a percentage of the sale; how long the pad waits.
 */
export const tips = obj({
  prompt: bool,
  maxPercent: int(1, 100),
  timeoutMs: ms(1_000),
});
