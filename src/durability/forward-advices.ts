/** Forwarding store-and-forward advices (0220, then 0221) in queue order, settled by the host's answers. */
import { HostError, type HostReply } from '../acquirer/acquirer-client.js';
import { buildAdvice, type FinancialRequest } from '../iso8583/index.js';
import type { SafRow } from '../journal/index.js';
import { judgeAnswer, REFUSED_REASON_PREFIX } from './answer-policy.js';
import { type VaultCard, VaultError } from './card-vault.js';
import { posEntryMode } from './entry-mode.js';
import type { ForwarderDeps, RetryTimes } from './forward-retry.js';

/** Acknowledgements committed together. */
const ACK_GROUP = 100;

export class AdviceSender {
  constructor(
    private readonly deps: ForwarderDeps,
    private readonly retry: RetryTimes,
  ) {}

  /**
   * Forward a run of queued advices in order. Attempts are counted in one commit before the first leaves (a resend
   * after a crash is a 0221); acknowledgements are committed in groups after the host has answered, so nothing is
   * removed before its answer and the queue runs at network speed rather than one fsync per advice.
   */
  async sendBatch(batch: SafRow[]): Promise<{ forwarded: number; setAside: number; blocked: boolean }> {
    const { journal } = this.deps;
    journal.batch('count advice attempts', () => {
      for (const item of batch)
        journal.saf.recordAttempt(item.id, {
          attempts: item.attempts + 1,
          nextAttemptAt: this.retry.nextAttemptAt(item.attempts + 1),
          reason: 'sent',
        });
    });
    const settled: Array<() => void> = [];
    const flush = () => {
      if (settled.length)
        journal.batch('record advice answers', () => {
          for (const write of settled.splice(0)) write();
        });
    };
    const tally = { forwarded: 0, setAside: 0, blocked: false };
    for (const [index, item] of batch.entries()) {
      const outcome = await this.sendAdvice(item);
      if (outcome.kind === 'blocked' || outcome.kind === 'retry') {
        tally.blocked = true;
        settled.push(outcome.write);
        // The advices behind it never left: take back their attempt, so they go as a first 0220 later.
        const unsent = batch.slice(index + 1);
        settled.push(() => {
          for (const rest of unsent)
            journal.saf.recordAttempt(rest.id, {
              attempts: rest.attempts,
              nextAttemptAt: rest.nextAttemptAt,
              reason: rest.reason ?? 'not sent yet',
            });
        });
        break;
      }
      settled.push(outcome.write);
      if (outcome.kind === 'forwarded') tally.forwarded += 1;
      else tally.setAside += 1;
      if (settled.length >= ACK_GROUP) flush();
    }
    flush();
    return tally;
  }

  private async sendAdvice(
    item: SafRow,
  ): Promise<{ kind: 'forwarded' | 'set-aside' | 'retry' | 'blocked'; write: () => void }> {
    const { journal, anomalies } = this.deps;
    const facts = {
      txnRef: item.txnRef,
      stan: item.stan,
      amount: item.amount,
      currency: item.currency,
      maskedPan: item.maskedPan,
    };
    // A completion or tip adjust carries no card: it names its original (fields 37, 38, 90) and its tip (54).
    const reference = journal.preauths.referenceOf(item.txnRef);
    let card: VaultCard | undefined;
    if (!reference) {
      try {
        if (!this.deps.vault || !item.cardBlob)
          throw new VaultError('decrypt-failed', 'no card data or no key to read it');
        card = this.deps.vault.open(item.cardBlob, item.txnRef);
      } catch (err) {
        const reason = `card data unreadable: ${(err as Error).message}`;
        return {
          kind: 'set-aside',
          write: () => {
            journal.saf.setAside(item.id, 'ZZ', reason);
            anomalies.raise('storage-fault', { ...facts, reason }, { show: false });
          },
        };
      }
    }
    const request: FinancialRequest & { approvalCode: string } = {
      processingCode: item.processingCode,
      amount: item.amount,
      currency: item.currency,
      stan: item.stan,
      transmittedAt: new Date(item.transmittedAt),
      terminalId: item.terminalId,
      merchantId: item.merchantId,
      ...(card ? { pan: card.pan, expiry: card.expiry } : {}),
      // Field 22 as decided at the sale; rows queued before it was kept say no PIN capability.
      entryMode: item.posEntryMode ?? posEntryMode(card?.entryMode ?? 'manual', false),
      // A chip sale approved offline: its TC (field 55 after the card's decision) goes with the advice.
      ...(card?.iccData ? { iccData: Buffer.from(card.iccData, 'hex') } : {}),
      ...(item.acquiringInstitutionId !== null ? { acquiringInstitutionId: item.acquiringInstitutionId } : {}),
      ...(item.forwardingInstitutionId !== null ? { forwardingInstitutionId: item.forwardingInstitutionId } : {}),
      ...(reference
        ? {
            tipAmount: reference.tipAmount,
            original: {
              ...reference.original,
              transmittedAt:
                reference.original.transmittedAt !== undefined ? new Date(reference.original.transmittedAt) : undefined,
            },
          }
        : {}),
      approvalCode: item.approvalCode,
    };
    const key = `advice:${item.id}`;
    const repeat = item.attempts > 0;
    const attempts = item.attempts + 1;
    let reply: HostReply;
    try {
      reply = await this.deps.acquirer.send(
        buildAdvice(request, { repeat, transmittedAt: new Date(this.deps.clock.now()) }),
        { timeoutMs: this.deps.responseTimeoutMs },
      );
    } catch (err) {
      if (!(err instanceof HostError)) throw err;
      // Nothing left (a refused connect): the attempt is taken back, so the next try is still a first 0220.
      const counted = err.sent ? attempts : item.attempts;
      const wait = err.sent ? attempts : counted + this.retry.unsentTry(key);
      const attempt = {
        attempts: counted,
        nextAttemptAt: this.retry.nextAttemptAt(wait),
        reason: `${err.code}: ${err.message}`,
      };
      this.deps.log.warn(
        { txnRef: item.txnRef, stan: item.stan, reason: err.message },
        'advice not acknowledged; will retry',
      );
      return { kind: 'blocked', write: () => journal.saf.recordAttempt(item.id, attempt) };
    }
    this.retry.sent(key);
    const verdict = judgeAnswer('advice', reply.responseCode, {
      repeat,
      previousRefused: item.reason?.startsWith(REFUSED_REASON_PREFIX) ?? false,
    });
    if (verdict.kind === 'settled')
      return { kind: 'forwarded', write: () => journal.saf.complete(item.id, reply.responseCode) };
    if (verdict.kind === 'retry') {
      // The host's own trouble: the same advice goes again after the backoff, and the queue keeps its order.
      const attempt = {
        attempts,
        nextAttemptAt: this.retry.nextAttemptAt(attempts),
        reason: `${REFUSED_REASON_PREFIX}${reply.responseCode}: ${verdict.note}`,
      };
      this.deps.log.warn(
        { txnRef: item.txnRef, stan: item.stan, responseCode: reply.responseCode },
        'advice refused for now; will retry',
      );
      return { kind: 'retry', write: () => journal.saf.recordAttempt(item.id, attempt) };
    }
    // A rejected advice never blocks the queue: the merchant is told, the next item goes.
    const reason = `host answered ${reply.responseCode} to the offline sale (${verdict.note}): money not collected`;
    return {
      kind: 'set-aside',
      write: () => {
        journal.saf.setAside(item.id, reply.responseCode, reason);
        anomalies.raise('host-rejected', { ...facts, reason }, { show: false });
      },
    };
  }
}
