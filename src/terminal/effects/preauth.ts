/**
 * Hospitality at the host: what a pre-authorization's answer opens, what an increment adds, and the card-less flows
 * that name their original. A completion (0220 profile) and a tip adjust are advices: committed with the close of the
 * hold in one write, queued like store-and-forward advices (never lost), forwarded at once when the host is there.
 * A cancel (and an expiry) releases the hold by a reversal (0400 of the 0100), owed until the host acknowledges it.
 */
import { MTI, REVERSAL_REASON } from '../../iso8583/index.js';
import type { Authorization, AuthorizeInput } from '../../transaction/types.js';
import type { PreauthSettings, TransactionDeps } from './deps.js';
import { offlineReason } from './offline.js';
import { financialRequestFor } from './request.js';

export const DEFAULT_PREAUTH_SETTINGS: PreauthSettings = {
  completionMessage: '0220',
  expiryDays: 7,
  completionTolerancePercent: 20,
};

const DAY_MS = 86_400_000;

function settingsOf(deps: TransactionDeps): PreauthSettings {
  return deps.preauth ?? DEFAULT_PREAUTH_SETTINGS;
}

/** The hospitality kinds the terminal never decides offline: a hold, and a completion that goes as a 0200. */
export function needsTheHost(input: AuthorizeInput): boolean {
  return input.kind === 'preauth' || input.kind === 'preauth-increment' || input.kind === 'completion';
}

/** Whether this kind goes as an 0100 (a hold) rather than a 0200. */
export function isHoldRequest(input: AuthorizeInput): boolean {
  return input.kind === 'preauth' || input.kind === 'preauth-increment';
}

/** Whether this transaction is settled here (advice or reversal) rather than by an online request. */
export function settledWithoutRequest(deps: TransactionDeps, input: AuthorizeInput): boolean {
  if (input.kind === 'preauth-cancel' || input.kind === 'tip-adjust') return true;
  return input.kind === 'completion' && settingsOf(deps).completionMessage === '0220';
}

/**
 * What an approved answer does to the holds, written in the same commit as the answer: a pre-authorization opens its
 * hold, an increment adds to it, a completion sent as a 0200 closes it.
 */
export function holdWrite(deps: TransactionDeps, input: AuthorizeInput, auth: Authorization): (() => void) | undefined {
  if (!auth.approved || auth.stan === undefined) return undefined;
  const { preauths } = deps.journal;
  const original = input.original;
  if (input.kind === 'preauth') {
    const stan = auth.stan;
    const expiresAt = deps.clock.now() + settingsOf(deps).expiryDays * DAY_MS;
    const heldAmount = auth.approvedAmount ?? input.amount;
    return () => preauths.open({ txnRef: input.txnRef, stan, currency: input.currency, heldAmount, expiresAt });
  }
  if (input.kind === 'preauth-increment' && original)
    return () => preauths.addToHold(original.txnRef, input.amount, input.txnRef);
  if (input.kind === 'completion' && original) return () => preauths.close(original.txnRef, 'completed', input.txnRef);
  return undefined;
}

/** A completion (0220 profile), a tip adjust or a cancel: settled here, without an online request of its own. */
export async function settleWithoutRequest(deps: TransactionDeps, input: AuthorizeInput): Promise<Authorization> {
  if (input.kind === 'preauth-cancel') return cancelHold(deps, input);
  return queueAdvice(deps, input);
}

/** A hold that is no longer open answers the request as declined (12, invalid transaction), never twice. */
function notOpen(why: string): Authorization {
  return { responseCode: '12', responseText: why, approved: false };
}

/**
 * A completion or tip adjust as a 0220: the close of the hold (a completion), the queued advice and the approval are
 * one commit, so a completion can neither be lost nor made twice; then the advice is forwarded if the host is there.
 */
async function queueAdvice(deps: TransactionDeps, input: AuthorizeInput): Promise<Authorization> {
  const { journal } = deps;
  const original = input.original!;
  if (input.kind === 'completion' && journal.preauths.get(original.txnRef)?.state !== 'open')
    return notOpen('the pre-authorization is no longer open');
  const stan = journal.counters.nextStan();
  // A tip adjust's advice carries the sale's new total; the host moves the difference (the tip).
  const amount = input.kind === 'tip-adjust' ? original.amount + input.amount : input.amount;
  const fields = financialRequestFor(
    { ...input, amount },
    stan,
    deps.merchant,
    new Date(deps.clock.now()),
    deps.messageProfile,
  );
  const approvalCode = original.approvalCode ?? `Y1${String(stan % 10_000).padStart(4, '0')}`;
  journal.batch(`queue the ${input.kind} advice of ${input.txnRef}`, () => {
    if (input.kind === 'completion') journal.preauths.close(original.txnRef, 'completed', input.txnRef);
    journal.preauths.enqueueAdvice(input.txnRef, {
      stan,
      processingCode: fields.processingCode,
      amount: fields.amount,
      currency: fields.currency,
      approvalCode,
      maskedPan: original.maskedPan ?? 'card-not-present',
      transmittedAt: fields.transmittedAt.getTime(),
      terminalId: fields.terminalId,
      merchantId: fields.merchantId,
      posEntryMode: fields.entryMode,
      ...(fields.acquiringInstitutionId !== undefined ? { acquiringInstitutionId: fields.acquiringInstitutionId } : {}),
      ...(fields.forwardingInstitutionId !== undefined
        ? { forwardingInstitutionId: fields.forwardingInstitutionId }
        : {}),
    });
    journal.transactions.recordState(input.txnRef, 'adviceQueued', {
      stan,
      responseCode: '00',
      approvalCode,
      ...(original.rrn ? { rrn: original.rrn } : {}),
    });
  });
  const forwarded = !offlineReason(deps) && deps.forwarder ? await deps.forwarder.forwardAdviceOf(input.txnRef) : false;
  if (!forwarded) deps.forwarder?.kick();
  return {
    stan,
    responseCode: '00',
    responseText: forwarded ? 'advice taken by the host' : 'advice queued: forwarded once the host answers',
    approved: true,
    approvalCode,
    ...(original.rrn ? { rrn: original.rrn } : {}),
  };
}

/** A cancel: the hold is released by a reversal owed to the host; it goes now if the host is there. */
async function cancelHold(deps: TransactionDeps, input: AuthorizeInput): Promise<Authorization> {
  const original = input.original!;
  if (deps.journal.preauths.get(original.txnRef)?.state !== 'open')
    return notOpen('the pre-authorization is no longer open');
  releaseHold(deps, original.txnRef, input.txnRef, 'cancelled', 'cancelled by the register');
  const sent = !offlineReason(deps) && deps.forwarder ? await deps.forwarder.flushReversals() : false;
  return {
    responseCode: '00',
    responseText: sent ? 'hold released by the host' : 'hold release owed: sent once the host answers',
    approved: true,
  };
}

/**
 * Closes an open hold (cancelled or expired) and, in the same commit, makes its release owed: a reversal of the
 * pre-authorization's 0100 for everything held (increments included), journaled under the transaction `by`.
 */
export function releaseHold(
  deps: Pick<TransactionDeps, 'journal' | 'forwarder'>,
  preauthTxnRef: string,
  by: string,
  state: 'cancelled' | 'expired',
  reason: string,
): void {
  const { journal } = deps;
  const hold = journal.preauths.get(preauthTxnRef);
  // The pre-authorization's own reversal row (cleared when the host answered) keeps the facts of its 0100.
  const request = journal.reversals.forTransaction(preauthTxnRef);
  if (!hold || !request) throw new Error(`no hold or request recorded for ${preauthTxnRef}`);
  journal.batch(`release the hold of ${preauthTxnRef}`, () => {
    journal.preauths.close(preauthTxnRef, state, by);
    journal.reversals.arm({
      txnRef: by,
      stan: hold.stan,
      originalMti: MTI.authRequest,
      processingCode: request.processingCode,
      amount: hold.heldAmount,
      currency: hold.currency,
      transmittedAt: request.transmittedAt,
      terminalId: request.terminalId,
      merchantId: request.merchantId,
      ...(request.posEntryMode !== null ? { posEntryMode: request.posEntryMode } : {}),
      ...(request.acquiringInstitutionId !== null ? { acquiringInstitutionId: request.acquiringInstitutionId } : {}),
      ...(request.forwardingInstitutionId !== null ? { forwardingInstitutionId: request.forwardingInstitutionId } : {}),
      ...(request.maskedPan !== null ? { maskedPan: request.maskedPan } : {}),
    });
    journal.reversals.markPending(by, reason, { reasonCode: REVERSAL_REASON.cancelled });
  });
  deps.forwarder?.kick();
}
