/**
 * The running terminal: the terminal machine plus the commands a cash register or a person can give it. It
 * refuses a second transaction while one is running, and every refusal is a typed TerminalError.
 */
import { createActor, fromPromise, type Actor } from 'xstate';
import type { HostLink } from '../../hal/acquirer-link/contract.js';
import type { NetworkMonitor } from '../../hal/network/contract.js';
import type { TimerHandle } from '../../hal/clock.js';
import { isDeviceFault } from '../../hal/fault.js';
import { anomalyByCode, anomalyForDeviceFault, anomalyForSelfTest, renderAnomalySlip } from '../anomaly/index.js';
import { JournalError, type AnomalyRow, type TransactionRow } from '../journal/index.js';
import { buildReceipt } from '../receipt/receipt.js';
import type { TransactionInput, TransactionKind, TransactionLimits, TransactionOutput } from '../transaction/types.js';
import { newTxnRef } from '../util/txn-ref.js';
import { recoverAtBoot, settleCrashed, settleUnfinished, type RecoveryReport } from '../durability/recovery.js';
import { provideTransactionEffects, type TransactionDeps, type TransactionListener } from './effects/index.js';
import type { SelfTestReport } from '../selftest/selftest.js';
import { terminalMachine, type RecoverySummary, type SelfTestSummary } from './machine.js';
import { idleScreen } from './screens.js';

export type TerminalErrorCode = 'busy' | 'locked' | 'not-ready' | 'no-transaction' | 'not-found' | 'printer-fault';

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
  /**
   * Faults found before boot that only a supervised procedure clears (a journal that disagrees with its outside
   * record, a vault key that cannot open the sealed cards): the terminal boots locked with them, recovery writes
   * nothing to a journal under question, and unlock refuses.
   */
  heldLocks?: string[];
  xstateClock?: { setTimeout(fn: (...args: unknown[]) => void, ms: number): unknown; clearTimeout(id: unknown): void };
}

export interface TransactionRequest {
  kind: TransactionKind;
  amount?: number;
  currency?: string;
  /** Void: the STAN of the approved transaction to cancel. */
  originalStan?: number;
  supervisor?: boolean;
  supervisorNote?: string;
  ecrRequestId?: string;
}

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

/** Transaction states after the outcome, while its card is still in the reader. */
const REMOVAL_STATES = new Set(['removingCard', 'cardRemovalAlert']);

export class Terminal {
  private readonly actor: Actor<typeof terminalMachine>;
  private current:
    | {
        txnRef: string;
        kind: TransactionKind;
        amount: number;
        currency: string;
        listener?: TransactionListener;
        state: string;
        originalTxnRef?: string;
      }
    | undefined;
  private readonly waiting = new Map<string, (output: TransactionOutput) => void>();
  private readonly unsubscribers: Array<() => void> = [];
  private readonly changeListeners = new Set<(change: TerminalChange) => void>();
  lastSelfTest: SelfTestReport | undefined;
  private selfTestTimer: TimerHandle | undefined;
  /** What boot recovery found and how long it took (the benchmark and status read it). */
  lastRecovery: RecoveryReport | undefined;

  constructor(private readonly deps: TerminalDeps) {
    const transaction = provideTransactionEffects({
      ...deps,
      listener: () => this.current?.listener,
      onOutcome: (output) => this.deliver(output),
    });
    const machine = terminalMachine.provide({
      actors: {
        transaction,
        recover: fromPromise<RecoverySummary>(async () => this.recover()),
        selfTest: fromPromise<SelfTestSummary>(async () => this.runSelfTest()),
      },
      actions: {
        enteredState: ({ context }, { state }) => {
          deps.log.info(
            { state, limitations: context.limitations, lockReasons: context.lockReasons },
            'terminal state',
          );
          const screen = idleScreen(state, context.limitations, context.lockReasons);
          if (screen)
            deps.display.show(screen).catch((err: unknown) => deps.log.error({ err }, 'screen could not be shown'));
        },
        transactionFinished: (_, { output: finished }) => {
          // Told already when the outcome was known and the card was still in; otherwise now.
          this.deliver(finished);
          this.current = undefined;
        },
        terminalFault: (_, { name, reason }) => {
          const crashed = this.current;
          if (!crashed) {
            deps.anomalies.raise(name, { reason });
            return;
          }
          // A crashed transaction must still answer whoever waits for it, with the fate recovery would give it.
          this.current = undefined;
          const { output, storageFault } = settleCrashed(deps, crashed, { name, reason });
          // No sale may start on a journal that cannot record it (the lockout policy locks too; this names the cause).
          if (storageFault) this.lock(storageFault);
          const resolve = this.waiting.get(crashed.txnRef);
          this.waiting.delete(crashed.txnRef);
          resolve?.(output);
          this.notify({ type: 'transaction', output });
        },
      },
    });
    this.actor = createActor(machine, deps.xstateClock ? { clock: deps.xstateClock } : {});
    // Observers run after the transition, so status() read by a listener already shows the new state.
    let previous: string | undefined;
    this.actor.subscribe((snapshot) => {
      const state = (snapshot.value as { operation: string }).operation;
      if (state === previous) return;
      const from = previous;
      previous = state;
      this.notify({ type: 'state', state, previous: from });
    });
  }

  /** Listen to state changes, self-test results and transaction outcomes; returns the unsubscribe. */
  onChange(listener: (change: TerminalChange) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  private notify(change: TerminalChange): void {
    for (const listener of this.changeListeners) {
      try {
        listener(change);
      } catch (err) {
        this.deps.log.error({ err, change: change.type }, 'terminal change listener failed');
      }
    }
  }

  /** Boot: recovery and self-test run; resolves once the terminal is ready, degraded or locked. */
  async start(): Promise<void> {
    const { hostLink, network } = this.deps;
    this.unsubscribers.push(
      hostLink.on('up', () => {
        this.actor.send({ type: 'HOST_UP' });
        // The host is back: what is owed to it goes now.
        this.deps.forwarder?.kick();
      }),
      hostLink.on('down', () => this.actor.send({ type: 'HOST_DOWN' })),
      network.on('change', ({ state }) => {
        this.actor.send({ type: state.link === 'up' ? 'NETWORK_UP' : 'NETWORK_DOWN' });
        // The link is back but the host connection may never have dropped (no 'up' from it): what is owed goes now.
        if (state.link === 'up') this.deps.forwarder?.kick();
      }),
      // An old swipe the reader threw away: journaled without card data; the sale keeps waiting for a fresh one.
      this.deps.reader.on('swipe-discarded', ({ ageMs }) =>
        this.deps.anomalies.raise(
          'stale-swipe',
          {
            ...(this.current ? { txnRef: this.current.txnRef } : {}),
            reason: `swipe made ${ageMs} ms before the card wait, discarded unread`,
          },
          { show: false },
        ),
      ),
    );
    this.actor.start();
    for (const reason of this.deps.heldLocks ?? []) {
      this.deps.anomalies.raise('storage-fault', { reason }, { show: false });
      this.lock(reason);
    }
    if (hostLink.isUp()) this.actor.send({ type: 'HOST_UP' });
    // The monitor was started before we subscribed: take its current reading.
    if (network.current().link === 'down') this.actor.send({ type: 'NETWORK_DOWN' });
    this.scheduleSelfTest();
    await new Promise<void>((resolve) => {
      const check = () => {
        const op = this.operation();
        if (op === 'ready' || op === 'degraded' || op === 'locked') {
          sub.unsubscribe();
          resolve();
        }
      };
      const sub = this.actor.subscribe(check);
      check();
    });
  }

  stop(): void {
    this.selfTestTimer?.cancel();
    for (const unsubscribe of this.unsubscribers.splice(0)) unsubscribe();
    this.actor.stop();
  }

  private operation(): string {
    const value = this.actor.getSnapshot().value as { operation: string; connectivity: string };
    return value.operation;
  }

  status(): TerminalStatus {
    const snapshot = this.actor.getSnapshot();
    const value = snapshot.value as { operation: string; connectivity: string };
    const saf = this.deps.journal.safStats();
    return {
      state: value.operation,
      pendingReversals: this.deps.journal.pendingReversals().length,
      offlineQueue: {
        count: saf.count,
        total: saf.total,
        oldestAgeMs: saf.oldestAt === null ? null : this.deps.clock.now() - saf.oldestAt,
      },
      connectivity: value.connectivity,
      limitations: snapshot.context.limitations,
      lockReasons: snapshot.context.lockReasons,
      hostUp: snapshot.context.hostUp,
      hostDown: this.deps.hostAvailability?.isDown() ?? false,
      setAside: this.deps.journal.setAsideTotals(),
      ...(this.current
        ? { transaction: { txnRef: this.current.txnRef, kind: this.current.kind, state: this.current.state } }
        : {}),
    };
  }

  /** Resolves once boot or a self-test is over (at once when the terminal is already settled). */
  settled(): Promise<void> {
    const busy = () => ['booting', 'recovering', 'selfTesting', 'evaluating'].includes(this.operation());
    if (!busy()) return Promise.resolve();
    return new Promise((resolve) => {
      const sub = this.actor.subscribe(() => {
        if (!busy()) {
          sub.unsubscribe();
          resolve();
        }
      });
    });
  }

  /** The result goes to whoever asked for it, once per transaction, as soon as its outcome is known. */
  private deliver(finished: TransactionOutput): void {
    const resolve = this.waiting.get(finished.txnRef);
    if (!resolve) return;
    this.waiting.delete(finished.txnRef);
    // A sale cancelled while the host was deciding ends before its STAN reaches the machine; the journal has it.
    const stan = finished.stan ?? this.deps.journal.getTransaction(finished.txnRef)?.stan ?? undefined;
    const output = stan !== undefined && stan !== null ? { ...finished, stan } : finished;
    this.deps.risk?.finished(output, this.current?.originalTxnRef);
    // A card check that found card testing (or similar) locks the terminal once the transaction is over.
    if (output.lockRequested) this.lock(`suspected fraud: ${output.lockRequested}`);
    resolve(output);
    this.notify({ type: 'transaction', output });
  }

  /**
   * Start a transaction; the returned promise resolves with its result. A refusal (one is already running, the
   * terminal is locked or still starting) throws a TerminalError at once, before anything is journaled.
   */
  startTransaction(request: TransactionRequest, listener?: TransactionListener): Promise<TransactionOutput> {
    const op = this.operation();
    if (op === 'transacting' && this.current && REMOVAL_STATES.has(this.current.state)) {
      throw new TerminalError('busy', 'remove card: the card of the last transaction is still in the reader');
    }
    if (op === 'transacting') throw new TerminalError('busy', 'a transaction is already in progress');
    if (op === 'locked')
      throw new TerminalError('locked', `terminal locked: ${this.actor.getSnapshot().context.lockReasons.join('; ')}`);
    if (op !== 'ready' && op !== 'degraded') throw new TerminalError('not-ready', `terminal is ${op}`);

    const { journal } = this.deps;
    const txnRef = newTxnRef();
    let original: TransactionInput['original'];
    if (request.kind === 'void' && request.originalStan !== undefined) {
      const row = journal.findByStan(request.originalStan, 'sale');
      if (row && (row.outcome === 'approved' || row.outcome === 'offline-approved') && row.stan !== null) {
        original = {
          txnRef: row.txnRef,
          stan: row.stan,
          amount: row.amount,
          currency: row.currency,
          ...(row.maskedPan ? { maskedPan: row.maskedPan } : {}),
          ...(row.approvalCode ? { approvalCode: row.approvalCode } : {}),
          ...(row.rrn ? { rrn: row.rrn } : {}),
          ...(row.requestMti ? { requestMti: row.requestMti } : {}),
          ...(row.transmittedAt !== null ? { transmittedAt: row.transmittedAt } : {}),
        };
      }
    }
    const input: TransactionInput = {
      txnRef,
      kind: request.kind,
      amount: original?.amount ?? request.amount ?? 0,
      currency: original?.currency ?? request.currency ?? this.deps.defaultCurrency,
      limits: this.deps.limits,
      supervisor: request.supervisor ?? false,
      ...(request.supervisorNote ? { supervisorNote: request.supervisorNote } : {}),
      ...(original ? { original } : {}),
    };
    // The transaction exists in the journal before anything else happens to it. If the journal cannot take it (disk
    // full, read-only, I/O error) no sale may start: the terminal locks with the reason, and what is committed stays.
    try {
      journal.beginTransaction({
        txnRef,
        kind: input.kind,
        amount: input.amount,
        currency: input.currency,
        ...(request.ecrRequestId !== undefined ? { ecrRequestId: request.ecrRequestId } : {}),
        ...(request.originalStan !== undefined ? { originalStan: request.originalStan } : {}),
      });
    } catch (err) {
      if (!(err instanceof JournalError) || err.code !== 'storage-fault') throw err;
      const reason = `storage fault: ${err.message}`;
      this.deps.log.error({ err }, 'journal refused a new transaction');
      this.deps.anomalies.raise('storage-fault', { reason }, { show: false });
      this.lock(reason);
      throw new TerminalError('locked', `sales refused until the storage is fixed (${reason})`);
    }
    const result = new Promise<TransactionOutput>((resolve) => this.waiting.set(txnRef, resolve));
    const tracking: NonNullable<Terminal['current']> = {
      txnRef,
      kind: input.kind,
      amount: input.amount,
      currency: input.currency,
      state: 'checking',
      ...(original ? { originalTxnRef: original.txnRef } : {}),
    };
    tracking.listener = (event) => {
      if (event.type === 'state') tracking.state = event.state;
      listener?.(event);
    };
    this.current = tracking;
    this.actor.send({ type: 'START_TRANSACTION', input });
    return result;
  }

  /** Cancel the running transaction where the machine allows it. */
  cancel(by: 'operator' | 'ecr' = 'ecr'): void {
    if (this.operation() !== 'transacting') throw new TerminalError('no-transaction', 'no transaction in progress');
    this.actor.send({ type: 'CANCEL', by });
  }

  /** Confirm what the running transaction asks about (a suspected duplicate, a partial approval). */
  confirm(by: 'operator' | 'ecr' = 'ecr'): void {
    if (this.operation() !== 'transacting') throw new TerminalError('no-transaction', 'no transaction in progress');
    if (this.current?.state !== 'confirmingDuplicate' && this.current?.state !== 'confirmingPartial')
      throw new TerminalError('no-transaction', 'nothing is waiting for a confirmation');
    this.actor.send({ type: 'CONFIRM', by });
  }

  /** Run the self-test again (refused during a transaction). */
  async selfTest(): Promise<SelfTestReport> {
    const op = this.operation();
    if (op === 'transacting') throw new TerminalError('busy', 'a transaction is in progress');
    if (op === 'locked') return this.runSelfTest();
    this.actor.send({ type: 'SELF_TEST' });
    await new Promise<void>((resolve) => {
      const sub = this.actor.subscribe(() => {
        const now = this.operation();
        if (now !== 'selfTesting') {
          sub.unsubscribe();
          resolve();
        }
      });
    });
    return (
      this.lastSelfTest ?? { at: this.deps.clock.now(), durationMs: 0, results: [], limitations: [], lockReasons: [] }
    );
  }

  /** The periodic self-test: skipped while a transaction runs, tried again at the next interval. */
  private scheduleSelfTest(): void {
    const every = this.deps.selfTestIntervalMs;
    if (!every) return;
    this.selfTestTimer = this.deps.clock.setTimeout(() => {
      const op = this.operation();
      const run = op === 'ready' || op === 'degraded' ? this.selfTest() : Promise.resolve();
      void run
        .catch((err: unknown) => this.deps.log.error({ err }, 'periodic self-test failed'))
        .finally(() => this.scheduleSelfTest());
    }, every);
  }

  lock(reason: string): void {
    this.actor.send({ type: 'LOCK', reason });
  }

  /**
   * Clear a lock (the caller has checked supervisor rights); the self-test runs again before sales resume. A fault
   * (storage full or read-only, a crash) can leave a transaction unfinished with no restart to settle it: it is
   * settled here as boot recovery would (a request that may have left is reversed). A journal that still cannot
   * write keeps the terminal locked, with the reason in status.
   */
  unlock(): void {
    if (this.operation() !== 'locked') throw new TerminalError('not-ready', 'the terminal is not locked');
    const held = this.deps.heldLocks ?? [];
    if (held.length > 0) throw new TerminalError('locked', `cannot be unlocked here: ${held.join('; ')}`);
    try {
      settleUnfinished(this.deps, 'settled at unlock');
    } catch (err) {
      this.deps.log.error({ err }, 'unlock: unfinished transactions could not be settled');
      this.lock(`storage fault: unfinished transactions cannot be settled (${(err as Error).message})`);
      return;
    }
    this.deps.risk?.lockout.reset();
    this.actor.send({ type: 'UNLOCK' });
  }

  isLocked(): boolean {
    return this.operation() === 'locked';
  }

  /** Print the customer copy again: of the given STAN, or of the last transaction with an outcome. */
  async reprint(stan?: number): Promise<TransactionRow> {
    if (this.operation() === 'transacting') throw new TerminalError('busy', 'a transaction is in progress');
    const { journal } = this.deps;
    const row = stan !== undefined ? journal.findByStan(stan) : journal.lastReceiptCandidate();
    if (!row || row.outcome === null)
      throw new TerminalError(
        'not-found',
        stan !== undefined ? `no transaction with STAN ${stan}` : 'no transaction to reprint',
      );
    const doc = buildReceipt(
      {
        txnRef: row.txnRef,
        kind: row.kind,
        amount: row.amount,
        currency: row.currency,
        ...(row.maskedPan ? { cardSummary: { maskedPan: row.maskedPan, entryMode: row.entryMode ?? 'unknown' } } : {}),
        ...(row.stan !== null && row.responseCode
          ? {
              authorization: {
                stan: row.stan,
                responseCode: row.responseCode,
                responseText: '',
                approved: row.outcome === 'approved' || row.outcome === 'offline-approved',
                ...(row.approvalCode ? { approvalCode: row.approvalCode } : {}),
                ...(row.rrn ? { rrn: row.rrn } : {}),
              },
            }
          : {}),
      },
      'customer',
      this.deps.merchant,
      new Date(this.deps.clock.now()),
      true,
    );
    try {
      await this.deps.printer.print(doc);
    } catch (err) {
      const name = isDeviceFault(err) ? anomalyForDeviceFault(err).name : 'system-fault';
      this.deps.anomalies.raise(name, { txnRef: row.txnRef, reason: (err as Error).message });
      throw new TerminalError('printer-fault', `reprint failed: ${(err as Error).message}`);
    }
    return journal.recordState(row.txnRef, 'reprinted', { receiptStatus: 'printed' });
  }

  /** Print the slip of the latest anomaly (with that code, when given) for the cashier to hand to support. */
  async printAnomalySlip(code?: string): Promise<AnomalyRow> {
    if (this.operation() === 'transacting') throw new TerminalError('busy', 'a transaction is in progress');
    const row = this.deps.journal.listAnomalies({ ...(code ? { code } : {}), limit: 1 })[0];
    const definition = row ? anomalyByCode(row.code) : undefined;
    if (!row || !definition)
      throw new TerminalError('not-found', code ? `no anomaly ${code} in the journal` : 'no anomaly in the journal');
    try {
      await this.deps.printer.print(
        renderAnomalySlip(definition, { ...row, terminalId: this.deps.merchant.terminalId }),
      );
    } catch (err) {
      throw new TerminalError('printer-fault', `slip not printed: ${(err as Error).message}`);
    }
    return row;
  }

  /** Boot recovery (see durability/recovery): a journal or vault under question is left as found. */
  private async recover(): Promise<RecoverySummary> {
    this.lastRecovery = recoverAtBoot(this.deps, (this.deps.heldLocks?.length ?? 0) > 0);
    return { recovered: this.lastRecovery.recovered };
  }

  private async runSelfTest(): Promise<SelfTestReport> {
    const report = await this.deps.runSelfTest();
    this.lastSelfTest = report;
    this.notify({ type: 'self-test', report });
    // Problems are journaled as anomalies (without a screen: the terminal state shows the outcome).
    for (const result of report.results.filter((r) => r.status !== 'ok')) {
      this.deps.anomalies.raise(
        anomalyForSelfTest(result),
        {
          reason: `self-test ${result.component}: ${result.code}: ${result.detail}`,
          detail: { component: result.component, status: result.status, durationMs: result.durationMs },
        },
        { show: false },
      );
    }
    this.deps.log.info(
      { durationMs: report.durationMs, results: report.results.map((r) => `${r.component}:${r.status}`) },
      'self-test',
    );
    return report;
  }
}
