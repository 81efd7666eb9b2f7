/**
 * The forwarder: what the terminal owes the host, sent until the host acknowledges it. Pending reversals go
 * first (0400, then 0401 on repeats); the store-and-forward queue follows in order (0220, then 0221). Nothing
 * leaves the journal before the host has answered, and a restart picks up exactly where the journal says.
 */
import { backoffDelay, type BackoffPolicy } from '../../hal/backoff.js';
import type { Clock, TimerHandle } from '../../hal/clock.js';
import type { AnomalyRecorder } from '../anomaly/recorder.js';
import { HostError, type AcquirerClient } from '../host/acquirer-client.js';
import { buildAdvice, buildReversal, type FinancialRequest } from '../iso8583/index.js';
import type { Journal, ReversalRow, SafRow } from '../journal/index.js';
import type { Logger } from '../util/log.js';
import { VaultError, type CardVault } from './card-vault.js';
import { POS_ENTRY_MODE } from './entry-mode.js';

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

export interface DrainResult {
  reversalsAcknowledged: number;
  advicesForwarded: number;
  advicesSetAside: number;
  /** The pass stopped on a transport failure (host unreachable or silent). */
  blocked: boolean;
}

/** The original request a reversal refers to, rebuilt from the journal (no card data: field 90 identifies it). */
function originalOf(r: ReversalRow): FinancialRequest {
  return {
    processingCode: r.processingCode,
    amount: r.amount,
    currency: r.currency,
    stan: r.stan,
    transmittedAt: new Date(r.transmittedAt),
    terminalId: r.terminalId,
    merchantId: r.merchantId,
    entryMode: '000',
  };
}

export class Forwarder {
  private running: Promise<DrainResult> | undefined;
  private timer: TimerHandle | undefined;
  private kickTimer: TimerHandle | undefined;
  private stopped = true;

  constructor(private readonly deps: ForwarderDeps) {}

  start(): void {
    this.stopped = false;
    this.schedule(this.deps.intervalMs);
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.kickTimer?.cancel();
  }

  /** Ask for a drain soon (coalesced): on link up, after a new pending reversal, after recovery. */
  kick(): void {
    if (this.stopped || this.kickTimer) return;
    this.kickTimer = this.deps.clock.setTimeout(() => {
      this.kickTimer = undefined;
      void this.drain();
    }, 0);
  }

  private schedule(ms: number): void {
    this.timer?.cancel();
    if (this.stopped) return;
    this.timer = this.deps.clock.setTimeout(() => {
      void this.drain().finally(() => this.schedule(this.deps.intervalMs));
    }, ms);
  }

  /** One pass over everything owed; concurrent callers share the pass in flight. */
  drain(options: { ignoreBackoff?: boolean; reversalsOnly?: boolean } = {}): Promise<DrainResult> {
    if (this.running) return this.running;
    this.running = this.pass(options).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /**
   * Before a new authorization: every pending reversal must reach the host first. Retries at once (the terminal is
   * about to talk to the host anyway). True when nothing is pending any more.
   */
  async flushReversals(): Promise<boolean> {
    if (this.deps.journal.pendingReversals().length === 0) return true;
    if (this.running) await this.running;
    await this.drain({ ignoreBackoff: true, reversalsOnly: true });
    return this.deps.journal.pendingReversals().length === 0;
  }

  private async pass(options: { ignoreBackoff?: boolean; reversalsOnly?: boolean }): Promise<DrainResult> {
    const result: DrainResult = { reversalsAcknowledged: 0, advicesForwarded: 0, advicesSetAside: 0, blocked: false };
    const now = () => this.deps.clock.now();
    const due = (item: { nextAttemptAt: number | null }) => options.ignoreBackoff || item.nextAttemptAt === null || item.nextAttemptAt <= now();
    try {
      for (const reversal of this.deps.journal.pendingReversals()) {
        // Order matters: a later reversal never overtakes one still waiting for its retry time.
        if (!due(reversal)) {
          result.blocked = true;
          return result;
        }
        if (!(await this.sendReversal(reversal))) {
          result.blocked = true;
          return result;
        }
        result.reversalsAcknowledged += 1;
      }
      if (options.reversalsOnly) return result;
      for (const item of this.deps.journal.safQueue()) {
        if (!due(item)) {
          result.blocked = true;
          return result;
        }
        const outcome = await this.sendAdvice(item);
        if (outcome === 'blocked') {
          result.blocked = true;
          return result;
        }
        if (outcome === 'forwarded') result.advicesForwarded += 1;
        else result.advicesSetAside += 1;
      }
      return result;
    } catch (err) {
      // The journal failing under us: report it and try again on the next pass.
      this.deps.log.error({ err }, 'forwarder pass failed');
      this.deps.anomalies.raise('storage-fault', { reason: `forwarder: ${(err as Error).message}` }, { show: false });
      result.blocked = true;
      return result;
    }
  }

  private retryLater(kind: 'reversal' | 'advice', item: ReversalRow | SafRow, err: HostError): void {
    const attempts = item.attempts + 1;
    const nextAttemptAt = this.deps.clock.now() + backoffDelay(attempts, this.deps.backoff, this.deps.random);
    const reason = `${err.code}: ${err.message}`;
    if (kind === 'reversal') this.deps.journal.recordReversalAttempt(item.id, { attempts, nextAttemptAt, reason });
    else this.deps.journal.recordSafAttempt(item.id, { attempts, nextAttemptAt, reason });
    this.deps.log.warn({ kind, txnRef: item.txnRef, stan: item.stan, attempts, reason }, `${kind} not acknowledged; will retry`);
  }

  /** True when the host acknowledged it. */
  private async sendReversal(reversal: ReversalRow): Promise<boolean> {
    const message = buildReversal(originalOf(reversal), { repeat: reversal.attempts > 0, transmittedAt: new Date(this.deps.clock.now()) });
    try {
      const reply = await this.deps.acquirer.send(message, { timeoutMs: this.deps.responseTimeoutMs });
      // Any answer is an acknowledgement: the host now knows the original is void.
      this.deps.journal.acknowledgeReversal(reversal.id, reply.responseCode);
      this.deps.log.info({ txnRef: reversal.txnRef, stan: reversal.stan, responseCode: reply.responseCode }, 'reversal acknowledged');
      return true;
    } catch (err) {
      if (!(err instanceof HostError)) throw err;
      // The same STAN may already be waiting for an answer (a late one): count it as a failed attempt.
      this.retryLater('reversal', reversal, err);
      return false;
    }
  }

  private async sendAdvice(item: SafRow): Promise<'forwarded' | 'set-aside' | 'blocked'> {
    let card;
    try {
      if (!this.deps.vault || !item.cardBlob) throw new VaultError('decrypt-failed', 'no card data or no key to read it');
      card = this.deps.vault.open(item.cardBlob, item.txnRef);
    } catch (err) {
      const reason = `card data unreadable: ${(err as Error).message}`;
      this.deps.journal.setAsideSafItem(item.id, 'ZZ', reason);
      this.deps.anomalies.raise('storage-fault', { txnRef: item.txnRef, stan: item.stan, amount: item.amount, currency: item.currency, maskedPan: item.maskedPan, reason }, { show: false });
      return 'set-aside';
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
      entryMode: POS_ENTRY_MODE[card.entryMode as keyof typeof POS_ENTRY_MODE] ?? '000',
      approvalCode: item.approvalCode,
    };
    try {
      const reply = await this.deps.acquirer.send(buildAdvice(request, { repeat: item.attempts > 0 }), { timeoutMs: this.deps.responseTimeoutMs });
      if (reply.responseCode === '00') {
        this.deps.journal.completeSafItem(item.id, reply.responseCode);
        return 'forwarded';
      }
      // A rejected advice never blocks the queue: the merchant is told, the next item goes.
      const reason = `host answered ${reply.responseCode} to the offline sale`;
      this.deps.journal.setAsideSafItem(item.id, reply.responseCode, reason);
      this.deps.anomalies.raise('host-rejected', { txnRef: item.txnRef, stan: item.stan, amount: item.amount, currency: item.currency, maskedPan: item.maskedPan, reason }, { show: false });
      return 'set-aside';
    } catch (err) {
      if (!(err instanceof HostError)) throw err;
      this.retryLater('advice', item, err);
      return 'blocked';
    }
  }
}
