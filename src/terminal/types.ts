/** The terminal's words: what it is built from, what it is asked, what it reports, and how it refuses. */
import type { HostLink } from '../../hal/acquirer-link/contract.js';
import type { NetworkMonitor } from '../../hal/network/contract.js';
import type { SelfTestReport } from '../selftest/selftest.js';
import type { TransactionLimits, TransactionOutput } from '../transaction/types.js';
import type { TransactionKind } from '../vocabulary/index.js';
import type { TransactionDeps } from './effects/index.js';

export type TerminalErrorCode =
  | 'busy'
  | 'locked'
  | 'not-ready'
  | 'no-transaction'
  | 'not-found'
  | 'printer-fault'
  | 'display-fault';

export class TerminalError extends Error {
  override readonly name = 'TerminalError';
  constructor(
    readonly code: TerminalErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface TerminalDeps extends Omit<TransactionDeps, 'listener'> {
  /** The hardware self-test (src/selftest), run on boot, on demand and on an interval. */
  runSelfTest: () => Promise<SelfTestReport>;
  selfTestIntervalMs?: number;
  hostLink: HostLink;
  network: NetworkMonitor;
  limits: TransactionLimits;
  defaultCurrency: string;
  /** Ask the cardholder for a tip on the PIN pad (config `tips` with prompt on); absent: never asked. */
  tips?: { maxPercent: number; timeoutMs: number };
  /**
   * Faults found before boot that only a supervised procedure clears (a journal that disagrees with its outside
   * record, a vault key that cannot open the sealed cards): the terminal boots locked with them, recovery writes
   * nothing to a journal under question, and unlock refuses.
   */
  heldLocks?: string[];
  xstateClock?: { setTimeout(fn: (...args: unknown[]) => void, ms: number): unknown; clearTimeout(id: unknown): void };
}

interface Supervised {
  /** Supervisor rights were presented (and checked by the caller). */
  supervisor?: boolean;
  /** Why rights were refused, for the anomaly. */
  supervisorNote?: string;
  /** The register's id of the request, journaled so a retry is answered from the journal. */
  ecrRequestId?: string;
}

export type TransactionRequest =
  /** `tip`: the part of `amount` that is a tip (a sale with a tip charges `amount`, tip included). */
  | ({ kind: 'sale' | 'refund'; amount: number; currency?: string; tip?: number } & Supervised)
  /** Void: the STAN of the approved transaction to cancel; its amount and currency are the original's. */
  | ({ kind: 'void'; originalStan: number } & Supervised)
  /** A hold on the card for `amount`; no money moves until it is completed. */
  | ({ kind: 'preauth'; amount: number; currency?: string } & Supervised)
  /**
   * Card-less, naming an open pre-authorization by its id (its txnRef): an increment adds `amount` to the hold, a
   * completion captures `amount` (tip included), a cancel releases the hold (its amount is the held one).
   */
  | ({ kind: 'preauth-increment' | 'completion'; preauthId: string; amount: number; tip?: number } & Supervised)
  | ({ kind: 'preauth-cancel'; preauthId: string } & Supervised)
  /** Adds `tip` to the approved sale of this STAN. */
  | ({ kind: 'tip-adjust'; originalStan: number; tip: number } & Supervised);

/** What telemetry hears about: a new operation state, a finished self-test, a finished transaction. */
export type TerminalChange =
  | { type: 'state'; state: string; previous: string | undefined }
  | { type: 'self-test'; report: SelfTestReport }
  | { type: 'transaction'; output: TransactionOutput };

export interface TerminalStatus {
  state: string;
  pendingReversals: number;
  offlineQueue: { count: number; total: number; oldestAgeMs: number | null };
  connectivity: string;
  limitations: string[];
  lockReasons: string[];
  hostUp: boolean;
  /** The host stopped answering (a run of timeouts) and no answer came since: new sales go offline at once. */
  hostDown?: boolean;
  /** Owed but no longer sent (the host refused it for good): reversals may be money owed, advices money not collected. */
  setAside?: { reversals: { count: number; total: number }; advices: { count: number; total: number } };
  transaction?: { txnRef: string; kind: TransactionKind; state: string };
}
