/**
 * The forwarder: what the terminal owes the host, sent until the host acknowledges it with a success (see
 * answer-policy.ts). Pending reversals go first (0400, then 0401 on a real retransmission); the store-and-forward
 * queue follows in order (0220, then 0221). Nothing leaves the journal before the host has answered, and a restart
 * picks up exactly where the journal says.
 */
import { backoffDelay, type BackoffPolicy } from '../../hal/backoff.js';
import type { Clock, TimerHandle } from '../../hal/clock.js';
import type { AnomalyRecorder } from '../anomaly/recorder.js';
import { HostError, type AcquirerClient } from '../acquirer/acquirer-client.js';
import {
  buildAdvice,
  buildReversal,
  REVERSAL_REASON,
  type FinancialRequest,
  type ReversalReasonCode,
} from '../iso8583/index.js';
import type { Journal, ReversalRow, SafRow } from '../journal/index.js';
import type { Logger } from '../util/log.js';
import { judgeAnswer, REFUSED_REASON_PREFIX } from './answer-policy.js';
import { VaultError, type CardVault } from './card-vault.js';
import { posEntryMode } from './entry-mode.js';

export interface ForwarderDeps {
  journal: Journal;
  acquirer: AcquirerClient;
  vault: CardVault | undefined;
  clock: Clock;
  log: Logger;
  anomalies: AnomalyRecorder;
  backoff: BackoffPolicy;
  /** Periodic drain, so an item whose retry time has come is sent even without a trigger. */
  intervalMs: number;
  responseTimeoutMs: number;
  random?: () => number;
}

/** Advices sent per pass step, and acknowledgements committed together. */
const ADVICE_BATCH = 500;
const ACK_GROUP = 100;

export interface DrainResult {
  reversalsAcknowledged: number;
  advicesForwarded: number;
  advicesSetAside: number;
  /** The pass stopped on a transport failure (host unreachable or silent). */
  blocked: boolean;
}

/**
 * The original request a reversal refers to, rebuilt from the journal: its field 22 and institution ids, and its PAN
 * and expiry when they were sealed with it (`card`). Without them field 90 still identifies the original.
 */
function originalOf(r: ReversalRow, card: { pan: string; expiry: string } | undefined): FinancialRequest {
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

export class Forwarder {
  private running: Promise<DrainResult> | undefined;
  private timer: TimerHandle | undefined;
  private kickTimer: TimerHandle | undefined;
  private stopped = true;
  private kickedEarly = false;

  constructor(private readonly deps: ForwarderDeps) {}

  start(): void {
    this.stopped = false;
    this.schedule(this.kickedEarly ? 0 : this.nextWakeMs());
    this.kickedEarly = false;
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.kickTimer?.cancel();
  }

  /** Ask for a drain soon (coalesced): on link up, after a new pending reversal, after recovery. */
  kick(): void {
    if (this.kickTimer) return;
    // Before start() a kick is remembered: start() drains at once.
    if (this.stopped) {
      this.kickedEarly = true;
      return;
    }
    this.kickTimer = this.deps.clock.setTimeout(() => {
      this.kickTimer = undefined;
      void this.drain();
    }, 0);
  }

  private schedule(ms: number): void {
    this.timer?.cancel();
    if (this.stopped) return;
    this.timer = this.deps.clock.setTimeout(() => void this.drain(), ms);
  }

  /** A journal that cannot be read now is tried again at the periodic interval. */
  private scheduleNextWake(): void {
    let ms = this.deps.intervalMs;
    try {
      ms = this.nextWakeMs();
    } catch (err) {
      this.deps.log.error({ err }, 'forwarder could not read its next retry time');
    }
    this.schedule(ms);
  }

  /** Sleep until the first owed item's retry time, or the periodic interval, whichever comes first. */
  private nextWakeMs(): number {
    const { journal, clock, intervalMs } = this.deps;
    // A reversal waiting for its retry time does not hold up the advices of other transactions (see pass()).
    const firsts = [journal.reversals.pending()[0], journal.saf.queue(1)[0]].filter((item) => item !== undefined);
    if (firsts.length === 0) return intervalMs;
    return Math.min(
      intervalMs,
      ...firsts.map((item) => (item.nextAttemptAt === null ? 0 : Math.max(0, item.nextAttemptAt - clock.now()))),
    );
  }

  /** One pass over everything owed; concurrent callers share the pass in flight. */
  drain(options: { ignoreBackoff?: boolean; reversalsOnly?: boolean } = {}): Promise<DrainResult> {
    if (this.running) return this.running;
    // Every pass (timed, kicked, or a caller's) sets the next wake: an item it refused for now is retried after its
    // own backoff, not at the next periodic interval.
    this.running = this.pass(options).finally(() => {
      this.running = undefined;
      this.scheduleNextWake();
    });
    return this.running;
  }

  /**
   * Before a new online authorization: every pending reversal must reach the host first (acquirers require it; one
   * the host refused for good is set aside and no longer waited for). Retries at once (the terminal is about to talk
   * to the host anyway). True when nothing is pending any more.
   */
  async flushReversals(): Promise<boolean> {
    if (this.deps.journal.reversals.pending().length === 0) return true;
    if (this.running) await this.running;
    await this.drain({ ignoreBackoff: true, reversalsOnly: true });
    return this.deps.journal.reversals.pending().length === 0;
  }

  /** Resolves once no pass is in flight (a pass may be sending any queued advice right now). */
  async idle(): Promise<void> {
    if (this.running) await this.running;
  }

  /**
   * A void of an offline sale whose advice may have left: everything owed before it (reversals, earlier advices)
   * and that advice go first, now. True when the advice is no longer queued.
   */
  async forwardAdviceOf(txnRef: string): Promise<boolean> {
    await this.idle();
    if (this.deps.journal.saf.forTransaction(txnRef)?.state === 'queued') await this.drain({ ignoreBackoff: true });
    return this.deps.journal.saf.forTransaction(txnRef)?.state !== 'queued';
  }

  private async pass(options: { ignoreBackoff?: boolean; reversalsOnly?: boolean }): Promise<DrainResult> {
    const result: DrainResult = { reversalsAcknowledged: 0, advicesForwarded: 0, advicesSetAside: 0, blocked: false };
    const now = () => this.deps.clock.now();
    const due = (item: { nextAttemptAt: number | null }) =>
      options.ignoreBackoff || item.nextAttemptAt === null || item.nextAttemptAt <= now();
    try {
      // Reversals in order: a later one never overtakes one still waiting for its retry time or refused for now. A
      // reversal held that way blocks only its own transaction: the advices of other STANs may still go (an
      // acquirer wants the reversal before the next online request, which authorize() enforces, not before an
      // advice of a sale it never saw). A host that cannot be reached stops the whole pass.
      const owedRefs = new Set<string>();
      let reversalsHeld = false;
      for (const reversal of this.deps.journal.reversals.pending()) {
        if (reversalsHeld || !due(reversal)) {
          reversalsHeld = true;
          owedRefs.add(reversal.txnRef);
          continue;
        }
        const outcome = await this.sendReversal(reversal);
        if (outcome === 'acknowledged') result.reversalsAcknowledged += 1;
        else if (outcome === 'set-aside') continue;
        else if (outcome === 'refused') {
          reversalsHeld = true;
          owedRefs.add(reversal.txnRef);
        } else {
          result.blocked = true;
          return result;
        }
      }
      if (reversalsHeld) result.blocked = true;
      if (options.reversalsOnly) return result;
      // Advices whose own transaction still owes a reversal wait for it (none are made today; kept as the rule).
      const held = new Set<number>();
      for (;;) {
        const batch = [];
        for (const item of this.deps.journal.saf.queue(ADVICE_BATCH + held.size)) {
          if (held.has(item.id)) continue;
          if (owedRefs.has(item.txnRef)) {
            held.add(item.id);
            continue;
          }
          if (!due(item)) break;
          batch.push(item);
        }
        if (batch.length === 0) {
          result.blocked ||= this.deps.journal.saf.stats().count > 0;
          return result;
        }
        const outcome = await this.sendAdvices(batch);
        result.advicesForwarded += outcome.forwarded;
        result.advicesSetAside += outcome.setAside;
        if (outcome.blocked) {
          result.blocked = true;
          return result;
        }
      }
    } catch (err) {
      // The journal failing under us: report it and try again on the next pass.
      this.deps.log.error({ err }, 'forwarder pass failed');
      this.deps.anomalies.raise('storage-fault', { reason: `forwarder: ${(err as Error).message}` }, { show: false });
      result.blocked = true;
      return result;
    }
  }

  /** The next retry time after `attempts` attempts. */
  private nextAttemptAt(attempts: number): number {
    return this.deps.clock.now() + backoffDelay(attempts, this.deps.backoff, this.deps.random);
  }

  /**
   * Tries that sent nothing (a refused connect) are not attempts, but they still grow the wait: counted here, in
   * memory, per item (a restart starts the wait afresh).
   */
  private readonly unsentTries = new Map<string, number>();

  private unsentTry(key: string): number {
    const tries = (this.unsentTries.get(key) ?? 0) + 1;
    this.unsentTries.set(key, tries);
    return tries;
  }

  /**
   * Sends one reversal and settles it by the answer (see answer-policy.ts). The attempt is committed before the
   * message leaves, so after a crash the resend is a repeat (0401); a send that provably left nothing (HostError with
   * sent=false) takes the attempt back, so the next one is still the first transmission (0400).
   */
  private async sendReversal(reversal: ReversalRow): Promise<'acknowledged' | 'set-aside' | 'refused' | 'unreachable'> {
    const { journal, anomalies, log } = this.deps;
    const key = `reversal:${reversal.id}`;
    const repeat = reversal.attempts > 0;
    const attempts = reversal.attempts + 1;
    journal.reversals.recordAttempt(reversal.id, {
      attempts,
      nextAttemptAt: this.nextAttemptAt(attempts),
      reason: 'sent',
    });
    const message = buildReversal(originalOf(reversal, this.openReversalCard(reversal)), {
      repeat,
      transmittedAt: new Date(this.deps.clock.now()),
      reason: reasonOf(reversal),
    });
    let reply;
    try {
      reply = await this.deps.acquirer.send(message, { timeoutMs: this.deps.responseTimeoutMs });
    } catch (err) {
      if (!(err instanceof HostError)) throw err;
      const counted = err.sent ? attempts : reversal.attempts;
      const wait = err.sent ? attempts : counted + this.unsentTry(key);
      journal.reversals.recordAttempt(reversal.id, {
        attempts: counted,
        nextAttemptAt: this.nextAttemptAt(wait),
        reason: `${err.code}: ${err.message}`,
      });
      log.warn(
        { txnRef: reversal.txnRef, stan: reversal.stan, attempts: counted, reason: err.message },
        'reversal not acknowledged; will retry',
      );
      return 'unreachable';
    }
    this.unsentTries.delete(key);
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
        nextAttemptAt: this.nextAttemptAt(attempts),
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
  private openReversalCard(reversal: ReversalRow): { pan: string; expiry: string } | undefined {
    if (!reversal.cardBlob) return undefined;
    try {
      if (!this.deps.vault) throw new VaultError('key-missing', 'no card vault configured');
      const { pan, expiry } = this.deps.vault.open(reversal.cardBlob, reversal.txnRef);
      return { pan, expiry };
    } catch (err) {
      if (!(err instanceof VaultError)) throw err;
      this.deps.log.warn(
        { txnRef: reversal.txnRef, stan: reversal.stan, reason: err.message },
        'reversal sent without PAN: card data unreadable',
      );
      return undefined;
    }
  }

  /**
   * Forward a run of queued advices in order. Attempts are counted in one commit before the first leaves (a resend
   * after a crash is a 0221); acknowledgements are committed in groups after the host has answered, so nothing is
   * removed before its answer and the queue runs at network speed rather than one fsync per advice.
   */
  private async sendAdvices(batch: SafRow[]): Promise<{ forwarded: number; setAside: number; blocked: boolean }> {
    const { journal } = this.deps;
    journal.batch('count advice attempts', () => {
      for (const item of batch)
        journal.saf.recordAttempt(item.id, {
          attempts: item.attempts + 1,
          nextAttemptAt: this.nextAttemptAt(item.attempts + 1),
          reason: 'sent',
        });
    });
    const settled: Array<() => void> = [];
    const flush = () => {
      if (settled.length) journal.batch('record advice answers', () => settled.splice(0).forEach((write) => write()));
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
    let card;
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
    const request: FinancialRequest & { approvalCode: string } = {
      processingCode: item.processingCode,
      amount: item.amount,
      currency: item.currency,
      stan: item.stan,
      transmittedAt: new Date(item.transmittedAt),
      terminalId: item.terminalId,
      merchantId: item.merchantId,
      pan: card.pan,
      expiry: card.expiry,
      // Field 22 as decided at the sale; rows queued before it was kept say no PIN capability.
      entryMode: item.posEntryMode ?? posEntryMode(card.entryMode, false),
      ...(item.acquiringInstitutionId !== null ? { acquiringInstitutionId: item.acquiringInstitutionId } : {}),
      ...(item.forwardingInstitutionId !== null ? { forwardingInstitutionId: item.forwardingInstitutionId } : {}),
      approvalCode: item.approvalCode,
    };
    const key = `advice:${item.id}`;
    const repeat = item.attempts > 0;
    const attempts = item.attempts + 1;
    let reply;
    try {
      reply = await this.deps.acquirer.send(
        buildAdvice(request, { repeat, transmittedAt: new Date(this.deps.clock.now()) }),
        { timeoutMs: this.deps.responseTimeoutMs },
      );
    } catch (err) {
      if (!(err instanceof HostError)) throw err;
      // Nothing left (a refused connect): the attempt is taken back, so the next try is still a first 0220.
      const counted = err.sent ? attempts : item.attempts;
      const wait = err.sent ? attempts : counted + this.unsentTry(key);
      const attempt = {
        attempts: counted,
        nextAttemptAt: this.nextAttemptAt(wait),
        reason: `${err.code}: ${err.message}`,
      };
      this.deps.log.warn(
        { txnRef: item.txnRef, stan: item.stan, reason: err.message },
        'advice not acknowledged; will retry',
      );
      return { kind: 'blocked', write: () => journal.saf.recordAttempt(item.id, attempt) };
    }
    this.unsentTries.delete(key);
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
        nextAttemptAt: this.nextAttemptAt(attempts),
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
