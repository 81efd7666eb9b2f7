/**
 * The register's hospitality commands (pre-authorization, increment, completion, cancel, tip adjust) as terminal
 * requests, each checked against the journal first so that bad input is a typed refusal before anything is
 * journaled: an unknown pre-authorization is `not-found`, a second completion `duplicate`, a completion after a cancel
 * `not-allowed`, an amount over the tolerance `invalid-request`.
 */
import type { Journal, TransactionRow } from '../journal/index.js';
import type { PreauthSettings } from '../terminal/effects/index.js';
import type { TransactionRequest } from '../terminal/types.js';
import type { TransactionKind } from '../vocabulary/index.js';

export type HospitalityCommand =
  /** A hold on the card for `amount` (minor units); the answer's `preauthId` names it later. */
  | { kind: 'preauth'; amount: number; currency?: string; requestId?: string }
  /** Adds `amount` to the hold of an open pre-authorization. */
  | { kind: 'preauth.increment'; preauthId: string; amount: number; requestId?: string }
  /** Captures the final `amount` plus `tip` of an open pre-authorization; the hold closes. */
  | { kind: 'preauth.complete'; preauthId: string; amount: number; tip?: number; requestId?: string }
  /** Releases the hold of an open pre-authorization. */
  | { kind: 'preauth.cancel'; preauthId: string; requestId?: string }
  /** Adds `tip` to the approved sale of this STAN. */
  | { kind: 'tipAdjust'; stan: number; tip: number; requestId?: string };

export type HospitalityKind = HospitalityCommand['kind'];

export const HOSPITALITY_KINDS: readonly HospitalityKind[] = [
  'preauth',
  'preauth.increment',
  'preauth.complete',
  'preauth.cancel',
  'tipAdjust',
];

export function isHospitality(request: { kind: string }): request is HospitalityCommand {
  return (HOSPITALITY_KINDS as readonly string[]).includes(request.kind);
}

/** The journal's kind of each command's transaction. */
export const TRANSACTION_KIND_OF: Record<HospitalityKind, TransactionKind> = {
  preauth: 'preauth',
  'preauth.increment': 'preauth-increment',
  'preauth.complete': 'completion',
  'preauth.cancel': 'preauth-cancel',
  tipAdjust: 'tip-adjust',
};

export type Refusal = {
  error: 'not-found' | 'not-allowed' | 'duplicate' | 'invalid-request';
  message: string;
  field?: string;
};

/** The terminal request of a command, or why it is refused. */
export function hospitalityRequest(
  command: HospitalityCommand,
  journal: Journal,
  settings: PreauthSettings,
  ecrRequestId: { ecrRequestId?: string },
): { request: TransactionRequest } | { refusal: Refusal } {
  switch (command.kind) {
    case 'preauth':
      return {
        request: {
          kind: 'preauth',
          amount: command.amount,
          ...(command.currency ? { currency: command.currency } : {}),
          ...ecrRequestId,
        },
      };
    case 'tipAdjust': {
      const sale = journal.transactions.findByStan(command.stan, 'sale');
      if (!sale || (sale.outcome !== 'approved' && sale.outcome !== 'offline-approved'))
        return {
          refusal: { error: 'not-found', message: `no approved sale with STAN ${command.stan}`, field: 'stan' },
        };
      // A tip is adjusted before the day closes: a settled sale's amount is already agreed with the host.
      if (sale.batchNumber != null && sale.batchNumber !== journal.batches.current().number)
        return {
          refusal: {
            error: 'not-allowed',
            message: `the sale with STAN ${command.stan} is in batch ${sale.batchNumber}, already settled`,
          },
        };
      if (tipAdjusted(journal, command.stan))
        return {
          refusal: { error: 'duplicate', message: `the sale with STAN ${command.stan} already has a tip adjust` },
        };
      return { request: { kind: 'tip-adjust', originalStan: command.stan, tip: command.tip, ...ecrRequestId } };
    }
    default: {
      const refusal = holdRefusal(command, journal, settings);
      if (refusal) return { refusal };
      if (command.kind === 'preauth.cancel')
        return { request: { kind: 'preauth-cancel', preauthId: command.preauthId, ...ecrRequestId } };
      const tip = command.kind === 'preauth.complete' ? (command.tip ?? 0) : 0;
      return {
        request: {
          kind: command.kind === 'preauth.complete' ? 'completion' : 'preauth-increment',
          preauthId: command.preauthId,
          amount: command.amount + tip,
          ...(tip > 0 ? { tip } : {}),
          ...ecrRequestId,
        },
      };
    }
  }
}

/** Why an increment, completion or cancel of this pre-authorization is refused, if it is. */
function holdRefusal(
  command: Extract<HospitalityCommand, { preauthId: string }>,
  journal: Journal,
  settings: PreauthSettings,
): Refusal | undefined {
  const hold = journal.preauths.get(command.preauthId);
  const row = journal.transactions.get(command.preauthId);
  if (!hold || row?.kind !== 'preauth' || row.outcome !== 'approved')
    return { error: 'not-found', message: `no approved pre-authorization ${command.preauthId}`, field: 'preauthId' };
  if (hold.state === 'completed')
    return {
      error: command.kind === 'preauth.complete' ? 'duplicate' : 'not-allowed',
      message: `pre-authorization ${command.preauthId} was already completed (by ${hold.closedBy ?? 'unknown'})`,
    };
  if (hold.state !== 'open')
    return { error: 'not-allowed', message: `pre-authorization ${command.preauthId} is ${hold.state}` };
  if (command.kind === 'preauth.complete') {
    // The final amount may differ from the hold (a tip, a minibar): up to the tolerance above it, never more.
    const total = command.amount + (command.tip ?? 0);
    const limit = Math.floor((hold.heldAmount * (100 + settings.completionTolerancePercent)) / 100);
    if (total > limit)
      return {
        error: 'invalid-request',
        message: `amount: ${total} (tip included) exceeds the held ${hold.heldAmount} by more than ${settings.completionTolerancePercent}% (at most ${limit})`,
        field: 'amount',
      };
  }
  return undefined;
}

function tipAdjusted(journal: Journal, stan: number): boolean {
  return journal.transactions
    .list({ outcome: 'approved', limit: 10_000 })
    .some((row) => row.kind === 'tip-adjust' && row.originalStan === stan);
}

/** Whether a journaled transaction is the one a repeated command asked for (same kind, same original, same amount). */
export function sameHospitalityRequest(
  earlier: TransactionRow,
  command: HospitalityCommand,
  journal: Journal,
): boolean {
  if (earlier.kind !== TRANSACTION_KIND_OF[command.kind]) return false;
  switch (command.kind) {
    case 'preauth':
      return earlier.amount === command.amount;
    case 'tipAdjust':
      return earlier.originalStan === command.stan && earlier.amount === command.tip;
    default: {
      const stan = journal.preauths.get(command.preauthId)?.stan;
      if (stan === undefined || earlier.originalStan !== stan) return false;
      if (command.kind === 'preauth.cancel') return true;
      const tip = command.kind === 'preauth.complete' ? (command.tip ?? 0) : 0;
      return earlier.amount === command.amount + tip;
    }
  }
}
