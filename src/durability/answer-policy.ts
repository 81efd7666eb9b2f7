/**
 * What the host's field 39 means for something the terminal owes it (a reversal 0410, an advice 0230). Only a
 * success settles it; a transient refusal is retried with backoff; anything else is set aside for the operator,
 * never dropped: a set-aside reversal is money the cardholder may still be owed, a set-aside advice money not
 * collected.
 *
 * The choices (ISO 8583:1987 field 39, see REFERENCE.md):
 * - 00 settles both. On a repeat (0401, 0221) after a transmission that went unanswered (a timeout, a lost link,
 *   a crash mid-send), 94 "duplicate transmission" settles too: the host already has it. On a first transmission
 *   94 cannot be about our message (nothing with this STAN left before), and after a transmission the host answered
 *   with a refusal (96...) it has nothing of ours to settle: both are set aside, never taken as done.
 * - For a reversal of an original that went unanswered, 25 "unable to locate record" and 76 "no match on original"
 *   settle it: the original never reached the host, so nothing moved and nothing is left to reverse. When the host
 *   did answer the original (an answer the terminal could not take, a partial approval declined), its record
 *   exists: 25/76 then contradict the host's own answer and the reversal is set aside. For an advice they are a
 *   refusal.
 * - For an advice, every approved-class answer (00, 08, 10, 11, 16 and the table's other approvals) settles it: the
 *   sale was already approved offline and the host says it took it, so the money is collected. Setting it aside
 *   would tell the merchant "not collected" for money the host holds, and invite collecting it twice.
 * - 19, 68, 90, 91, 92, 96 (re-enter, too late, cut-off, issuer or switch inoperative, no route, malfunction) are
 *   the host's own trouble: the same message goes again after the backoff.
 * - Every other code (for a reversal the approved-class ones other than 00 included: 08, 10, 11, 16 are no answer
 *   to it) and every code the table does not know: set aside with an anomaly.
 */
import { isApprovedClass, responseClass } from '../iso8583/index.js';

export type OwedKind = 'reversal' | 'advice';

export type AnswerVerdict =
  | { kind: 'settled'; note: string }
  | { kind: 'retry'; note: string }
  | { kind: 'set-aside'; note: string };

/**
 * Host-side trouble that passes: the table's retry-later class (19, 90, 91, 92, 96), and 68 "response received too
 * late", which to a reversal or an advice means the host's own answer came too late for it: send again.
 */
function retryable(responseCode: string): boolean {
  return responseClass(responseCode) === 'retry-later' || responseCode === '68';
}

/** Reversal answers meaning the original never arrived: nothing to reverse. */
export const ORIGINAL_NOT_FOUND_CODES: ReadonlySet<string> = new Set(['25', '76']);

/** The reason the forwarder journals when the host answered with a passing refusal: that transmission was answered. */
export const REFUSED_REASON_PREFIX = 'refused ';

export interface AnswerContext {
  /** An earlier transmission of this message left. */
  repeat: boolean;
  /** The last transmission was answered with a refusal (only an unanswered one can have reached the host's books). */
  previousRefused?: boolean;
  /** A reversal: the host answered its original (so the host has a record of it). */
  originalAnswered?: boolean;
}

export function judgeAnswer(
  kind: OwedKind,
  responseCode: string,
  { repeat, previousRefused = false, originalAnswered = false }: AnswerContext,
): AnswerVerdict {
  if (responseCode === '00') return { kind: 'settled', note: 'acknowledged' };
  if (responseCode === '94') {
    if (!repeat)
      return { kind: 'set-aside', note: 'duplicate on a first transmission: the STAN may have been used before' };
    return previousRefused
      ? { kind: 'set-aside', note: 'duplicate after the host refused the last transmission: nothing of ours to settle' }
      : { kind: 'settled', note: 'duplicate of a repeat: the host already has it' };
  }
  if (kind === 'advice' && isApprovedClass(responseCode))
    return { kind: 'settled', note: `host took the advice (${responseCode})` };
  if (kind === 'reversal' && ORIGINAL_NOT_FOUND_CODES.has(responseCode)) {
    return originalAnswered
      ? { kind: 'set-aside', note: 'original not found, yet the host answered it: ask the acquirer' }
      : { kind: 'settled', note: 'original not found at the host: nothing moved, nothing to reverse' };
  }
  if (retryable(responseCode)) return { kind: 'retry', note: `host answered ${responseCode}: will retry` };
  return { kind: 'set-aside', note: `host answered ${responseCode}: not sent again` };
}
