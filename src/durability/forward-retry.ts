/** What the forwarder works with, and when an owed item is tried again. */
import { backoffDelay, type BackoffPolicy } from '../../hal/backoff.js';
import type { Clock } from '../../hal/clock.js';
import type { AcquirerClient } from '../acquirer/acquirer-client.js';
import type { AnomalyRecorder } from '../anomaly/recorder.js';
import type { Journal } from '../journal/index.js';
import type { Logger } from '../util/log.js';
import type { CardVault } from './card-vault.js';

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

export class RetryTimes {
  /**
   * Tries that sent nothing (a refused connect) are not attempts, but they still grow the wait: counted here, in
   * memory, per item (a restart starts the wait afresh).
   */
  private readonly unsentTries = new Map<string, number>();

  constructor(private readonly deps: Pick<ForwarderDeps, 'clock' | 'backoff' | 'random'>) {}

  /** The next retry time after `attempts` attempts. */
  nextAttemptAt(attempts: number): number {
    return this.deps.clock.now() + backoffDelay(attempts, this.deps.backoff, this.deps.random);
  }

  /** One more try of this item that sent nothing; the count so far. */
  unsentTry(key: string): number {
    const tries = (this.unsentTries.get(key) ?? 0) + 1;
    this.unsentTries.set(key, tries);
    return tries;
  }

  /** The item reached the host: its unsent tries no longer count. */
  sent(key: string): void {
    this.unsentTries.delete(key);
  }
}
