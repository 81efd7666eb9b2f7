/**
 * Expiry of pre-authorizations, on the Clock: a hold still open `preauth.expiryDays` after it was approved is marked
 * expired (anomaly E409) and released by a reversal of its 0100, journaled under a cancel transaction of its own.
 */
import type { Clock, TimerHandle } from '../../hal/clock.js';
import type { AnomalyRecorder } from '../anomaly/recorder.js';
import type { Forwarder } from '../durability/forwarder.js';
import type { Journal } from '../journal/index.js';
import type { Logger } from '../util/log.js';
import { newTxnRef } from '../util/txn-ref.js';
import { releaseHold } from './effects/preauth.js';

export interface PreauthExpiryDeps {
  journal: Journal;
  anomalies: AnomalyRecorder;
  clock: Clock;
  log: Logger;
  forwarder?: Forwarder;
  intervalMs: number;
  expiryDays: number;
}

export class PreauthExpiry {
  private timer: TimerHandle | undefined;
  private stopped = true;

  constructor(private readonly deps: PreauthExpiryDeps) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }

  /** Expires every hold whose time has come; returns how many. */
  checkNow(): number {
    const { journal, anomalies, clock, log } = this.deps;
    let expired = 0;
    for (const hold of journal.preauths.dueForExpiry(clock.now())) {
      const txnRef = newTxnRef();
      try {
        // A hold whose pre-authorization did not end approved (the card declined after the host, a crash) was
        // already reversed by that transaction: it is closed without a second reversal.
        if (journal.transactions.get(hold.txnRef)?.outcome !== 'approved') {
          journal.preauths.close(hold.txnRef, 'cancelled', hold.txnRef);
          continue;
        }
        journal.transactions.begin({
          txnRef,
          kind: 'preauth-cancel',
          amount: hold.heldAmount,
          currency: hold.currency,
          originalStan: hold.stan,
          state: 'expiring',
        });
        releaseHold(this.deps, hold.txnRef, txnRef, 'expired', `expired after ${this.deps.expiryDays} days`);
        journal.transactions.recordState(txnRef, 'expired', { outcome: 'approved', responseCode: '00' });
        anomalies.raise(
          'preauth-expired',
          {
            txnRef: hold.txnRef,
            stan: hold.stan,
            amount: hold.heldAmount,
            currency: hold.currency,
            reason: `open for ${this.deps.expiryDays} days; hold released by ${txnRef}`,
          },
          { show: false },
        );
        expired += 1;
      } catch (err) {
        log.error(
          { err, txnRef: hold.txnRef },
          'pre-authorization could not be expired; tried again at the next check',
        );
      }
    }
    return expired;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = this.deps.clock.setTimeout(() => {
      this.checkNow();
      this.schedule(this.deps.intervalMs);
    }, ms);
  }
}
