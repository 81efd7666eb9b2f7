/**
 * Shapes shared by the risk checks. Every decision carries evidence an operator or the journal can read: masked PAN,
 * field names, counts and times only, never a PAN, track, CVV or PIN.
 */
import type { Clock } from '../../hal/clock.js';

export type EvidenceValue = string | number | boolean;
export type Evidence = Readonly<Record<string, EvidenceValue>>;

/** Time in milliseconds since the epoch: a plain function or anything with the Clock's now(). */
export type TimeSource = (() => number) | Pick<Clock, 'now'>;

export function nowFrom(source: TimeSource): () => number {
  return typeof source === 'function' ? source : () => source.now();
}

/** Config arrives from files: a bad number is a set-up error, reported at construction rather than mid-payment. */
export function requirePositive(name: string, value: number, integer = false): number {
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new RangeError(`${name} must be a positive ${integer ? 'integer' : 'number'}, got ${String(value)}`);
  }
  return value;
}
