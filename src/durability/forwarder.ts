/**
 * The forwarder: what the terminal owes the host, sent until the host acknowledges it with a success (see
 * answer-policy.ts). Pending reversals go first (0400, then 0401 on a real retransmission); the store-and-forward
 * queue follows in order (0220, then 0221). Nothing leaves the journal before the host has answered, and a restart
 * picks up exactly where the journal says.
 */
import type { TimerHandle } from '../../hal/clock.js';
import { AdviceSender } from './forward-advices.js';
import { ReversalSender } from './forward-reversal.js';
import { type ForwarderDeps, RetryTimes } from './forward-retry.js';

export type { ForwarderDeps } from './forward-retry.js';

/** Advices sent per pass step. */
const ADVICE_BATCH = 500;

export interface DrainResult {
  reversalsAcknowledged: number;
  advicesForwarded: number;
  advicesSetAside: number;
  /** The pass stopped on a transport failure (host unreachable or silent). */
  blocked: boolean;
}

export class Forwarder {
  private running: Promise<DrainResult> | undefined;
  private timer: TimerHandle | undefined;
  private kickTimer: TimerHandle | undefined;
  private stopped = true;
  private kickedEarly = false;

  private readonly reversals: ReversalSender;
  private readonly advices: AdviceSender;

  constructor(private readonly deps: ForwarderDeps) {
    const retry = new RetryTimes(deps);
    this.reversals = new ReversalSender(deps, retry);
    this.advices = new AdviceSender(deps, retry);
  }

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
        const outcome = await this.reversals.send(reversal);
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
        const outcome = await this.advices.sendBatch(batch);
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
}
