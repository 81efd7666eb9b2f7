/**
 * Sending one pending reversal (0400, or 0401 on a real retransmission) and settling it by the host's answer.
 */
import { HostError, type HostReply } from '../acquirer/acquirer-client.js';
import { buildReversal, REVERSAL_REASON, type FinancialRequest, type ReversalReasonCode } from '../iso8583/index.js';
import type { ReversalRow } from '../journal/index.js';
import { judgeAnswer, REFUSED_REASON_PREFIX } from './answer-policy.js';
import { VaultError } from './card-vault.js';
import type { ForwarderDeps, RetryTimes } from './forward-retry.js';

export type ReversalOutcome = 'acknowledged' | 'set-aside' | 'refused' | 'unreachable';

/**
 * The original request a reversal refers to, rebuilt from the journal: its field 22 and institution ids, and its PAN
 * and expiry when they were sealed with it (`card`). Without them field 90 still identifies the original.
 */
function originalOf(
  r: ReversalRow,
  card: { pan: string; expiry: string; iccData?: string } | undefined,
): FinancialRequest {
  return {
    processingCode: r.processingCode,
    amount: r.amount,
    currency: r.currency,
    stan: r.stan,
    transmittedAt: new Date(r.transmittedAt),
    terminalId: r.terminalId,
    merchantId: r.merchantId,
    // Rows armed before field 22 was kept: '000', entry mode unknown.
    entryMode: r.posEntryMode ?? '000',
    ...(card ? { pan: card.pan, expiry: card.expiry } : {}),
    // The chip's data of the original (field 55), so the issuer can match the reversal to the card's cryptogram.
    ...(card?.iccData ? { iccData: Buffer.from(card.iccData, 'hex') } : {}),
    ...(r.acquiringInstitutionId !== null ? { acquiringInstitutionId: r.acquiringInstitutionId } : {}),
    ...(r.forwardingInstitutionId !== null ? { forwardingInstitutionId: r.forwardingInstitutionId } : {}),
  };
}

const REASON_CODES: ReadonlySet<string> = new Set(Object.values(REVERSAL_REASON));

function reasonOf(r: ReversalRow): ReversalReasonCode {
  return r.reasonCode !== null && REASON_CODES.has(r.reasonCode)
    ? (r.reasonCode as ReversalReasonCode)
    : REVERSAL_REASON.malfunction;
}

export class ReversalSender {
  constructor(
    private readonly deps: ForwarderDeps,
    private readonly retry: RetryTimes,
  ) {}

  /**
   * Sends one reversal and settles it by the answer (see answer-policy.ts). The attempt is committed before the
   * message leaves, so after a crash the resend is a repeat (0401); a send that provably left nothing (HostError with
   * sent=false) takes the attempt back, so the next one is still the first transmission (0400).
   */
  async send(reversal: ReversalRow): Promise<ReversalOutcome> {
    const { journal, anomalies, log } = this.deps;
    const key = `reversal:${reversal.id}`;
    const repeat = reversal.attempts > 0;
    const attempts = reversal.attempts + 1;
    journal.reversals.recordAttempt(reversal.id, {
      attempts,
      nextAttemptAt: this.retry.nextAttemptAt(attempts),
      reason: 'sent',
    });
    const message = buildReversal(originalOf(reversal, this.openReversalCard(reversal)), {
      repeat,
      transmittedAt: new Date(this.deps.clock.now()),
      reason: reasonOf(reversal),
      originalMti: reversal.originalMti,
    });
    let reply: HostReply;
    try {
      reply = await this.deps.acquirer.send(message, { timeoutMs: this.deps.responseTimeoutMs });
    } catch (err) {
      if (!(err instanceof HostError)) throw err;
      const counted = err.sent ? attempts : reversal.attempts;
      const wait = err.sent ? attempts : counted + this.retry.unsentTry(key);
      journal.reversals.recordAttempt(reversal.id, {
        attempts: counted,
        nextAttemptAt: this.retry.nextAttemptAt(wait),
        reason: `${err.code}: ${err.message}`,
      });
      log.warn(
        { txnRef: reversal.txnRef, stan: reversal.stan, attempts: counted, reason: err.message },
        'reversal not acknowledged; will retry',
      );
      return 'unreachable';
    }
    this.retry.sent(key);
    const verdict = judgeAnswer('reversal', reply.responseCode, {
      repeat,
      previousRefused: reversal.reason?.startsWith(REFUSED_REASON_PREFIX) ?? false,
      // While pending, the row's code is the host's answer to the original (see ReversalRow.responseCode).
      originalAnswered: reversal.responseCode !== null,
    });
    const facts = { txnRef: reversal.txnRef, stan: reversal.stan, responseCode: reply.responseCode, mti: message.mti };
    if (verdict.kind === 'settled') {
      journal.reversals.acknowledge(reversal.id, reply.responseCode);
      log.info({ ...facts, note: verdict.note }, 'reversal acknowledged');
      return 'acknowledged';
    }
    if (verdict.kind === 'retry') {
      journal.reversals.recordAttempt(reversal.id, {
        attempts,
        nextAttemptAt: this.retry.nextAttemptAt(attempts),
        reason: `${REFUSED_REASON_PREFIX}${reply.responseCode}: ${verdict.note}`,
      });
      log.warn({ ...facts, attempts }, 'reversal refused for now; will retry');
      return 'refused';
    }
    const reason = `reversal refused (${verdict.note}): the cardholder may still be owed ${reversal.amount}; settle it with the acquirer`;
    journal.reversals.setAside(reversal.id, reply.responseCode, reason);
    anomalies.raise(
      'host-rejected',
      {
        txnRef: reversal.txnRef,
        stan: reversal.stan,
        amount: reversal.amount,
        currency: reversal.currency,
        ...(reversal.maskedPan ? { maskedPan: reversal.maskedPan } : {}),
        reason,
      },
      { show: false },
    );
    log.error(facts, 'reversal set aside');
    return 'set-aside';
  }

  /** The reversal's sealed PAN and expiry; a blob that cannot be opened sends the reversal without them (logged). */
  private openReversalCard(reversal: ReversalRow): { pan: string; expiry: string; iccData?: string } | undefined {
    if (!reversal.cardBlob) return undefined;
    try {
      if (!this.deps.vault) throw new VaultError('key-missing', 'no card vault configured');
      const { pan, expiry, iccData } = this.deps.vault.open(reversal.cardBlob, reversal.txnRef);
      return { pan, expiry, ...(iccData ? { iccData } : {}) };
    } catch (err) {
      if (!(err instanceof VaultError)) throw err;
      this.deps.log.warn(
        { txnRef: reversal.txnRef, stan: reversal.stan, reason: err.message },
        'reversal sent without PAN: card data unreadable',
      );
      return undefined;
    }
  }
}
