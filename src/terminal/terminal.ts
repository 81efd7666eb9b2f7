/**
 * The running terminal: the terminal machine plus the commands a cash register or a person can give it. It
 * refuses a second transaction while one is running, and every refusal is a typed TerminalError. A running
 * transaction's state is its machine's (a child of the terminal machine) and the journal's; none is copied here.
 */
import { createActor, fromPromise, type Actor, type ActorRefFrom, type StateValue } from 'xstate';
import { anomalyForSelfTest } from '../anomaly/index.js';
import type { AnomalyRow, TransactionRow } from '../journal/index.js';
import { JournalError } from '../journal/index.js';
import { recoverAtBoot, settleCrashed, settleUnfinished, type RecoveryReport } from '../durability/recovery.js';
import type { SelfTestReport } from '../selftest/selftest.js';
import type { TransactionContext, transactionMachine } from '../transaction/machine.js';
import type { TransactionOutput } from '../transaction/types.js';
import type { TimerHandle } from '../../hal/clock.js';
import { newTxnRef } from '../util/txn-ref.js';
import { DeviceHealthBook, watchDevices } from './device-health.js';
import { provideTransactionEffects, type TransactionListener } from './effects/index.js';
import { terminalMachine, type RecoverySummary, type SelfTestSummary } from './machine.js';
import { printAnomalySlip, reprintReceipt } from './printouts.js';
import { idleScreen } from './screens.js';
import { transactionInput } from './transaction-input.js';
import {
  TerminalError,
  type TerminalChange,
  type TerminalDeps,
  type TerminalStatus,
  type TransactionRequest,
} from './types.js';

export {
  TerminalError,
  type TerminalChange,
  type TerminalDeps,
  type TerminalErrorCode,
  type TerminalStatus,
  type TransactionRequest,
} from './types.js';

/** States a transaction records after its outcome, while its card is still in the reader. */
const REMOVAL_STATES = new Set(['removingCard', 'cardRemovalAlert']);

/**
 * The state a transaction last recorded (what the journal and the register were told), from its machine's value:
 * the same name, except inside removingCard, where the alert, once shown, is what was recorded last.
 */
function recordedState(value: StateValue): string {
  if (typeof value === 'string') return value;
  const [parent = '', child] = Object.entries(value)[0] ?? [];
  return parent === 'removingCard' && child !== 'waiting' ? 'cardRemovalAlert' : parent;
}

export class Terminal {
  private readonly actor: Actor<typeof terminalMachine>;
  /** Whoever started a transaction waits for its result, by txnRef. */
  private readonly waiting = new Map<string, (output: TransactionOutput) => void>();
  /** Whoever started a transaction hears its progress until it ends, by txnRef. */
  private readonly watchers = new Map<string, TransactionListener>();
  private readonly unsubscribers: Array<() => void> = [];
  private readonly changeListeners = new Set<(change: TerminalChange) => void>();
  /** Which reasons each device caused, so its next report or self-test replaces them. */
  private readonly health = new DeviceHealthBook();
  lastSelfTest: SelfTestReport | undefined;
  private selfTestTimer: TimerHandle | undefined;
  /** What boot recovery found and how long it took (the benchmark and status read it). */
  lastRecovery: RecoveryReport | undefined;

  constructor(private readonly deps: TerminalDeps) {
    const transaction = provideTransactionEffects({
      ...deps,
      listener: (txnRef) => this.watchers.get(txnRef),
      onOutcome: (output) => this.deliver(output),
    });
    const machine = terminalMachine.provide({
      actors: {
        transaction,
        recover: fromPromise<RecoverySummary>(async () => this.recover()),
        selfTest: fromPromise<SelfTestSummary>(async () => this.health.afterSelfTest(await this.runSelfTest())),
      },
      actions: {
        enteredState: ({ context }, { state }) => {
          deps.log.info(
            { state, limitations: context.limitations, lockReasons: context.lockReasons },
            'terminal state',
          );
          const screen = idleScreen(state, context.limitations, context.lockReasons, deps.merchant.language);
          if (screen)
            deps.display.show(screen).catch((err: unknown) => deps.log.error({ err }, 'screen could not be shown'));
        },
        transactionFinished: (_, { output: finished }) => {
          // Told already when the outcome was known and the card was still in; otherwise now.
          this.deliver(finished);
          this.watchers.delete(finished.txnRef);
        },
        terminalFault: (_, { name, reason }) => {
          const crashed = this.running();
          if (!crashed) {
            deps.anomalies.raise(name, { reason });
            return;
          }
          // A crashed transaction must still answer whoever waits for it, with the fate recovery would give it.
          const { txnRef, kind, amount, currency } = crashed.context;
          this.watchers.delete(txnRef);
          const settled = settleCrashed(
            deps,
            { txnRef, kind, amount, currency, state: crashed.state },
            { name, reason },
          );
          // No sale may start on a journal that cannot record it (the lockout policy locks too; this names the cause).
          if (settled.storageFault) this.lock(settled.storageFault);
          const resolve = this.waiting.get(txnRef);
          this.waiting.delete(txnRef);
          resolve?.(settled.output);
          this.notify({ type: 'transaction', output: settled.output });
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
      // Devices that go away and come back, and tamper, act on the terminal at once (device-health.ts).
      ...watchDevices(this.health, {
        ...this.deps,
        printer: this.deps.printer,
        apply: (change) => this.actor.send(change),
        lock: (reason) => this.lock(reason),
      }),
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
      this.deps.reader.on('swipe-discarded', ({ ageMs }) => {
        const running = this.running();
        this.deps.anomalies.raise(
          'stale-swipe',
          {
            ...(running ? { txnRef: running.context.txnRef } : {}),
            reason: `swipe made ${ageMs} ms before the card wait, discarded unread`,
          },
          { show: false },
        );
      }),
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

  /**
   * The running transaction as its machine holds it: its context and the state it last recorded. Read inside the
   * terminal machine's own actions, the snapshot is the one before the transition, so a transaction that just ended
   * or crashed is still there.
   */
  private running(): { context: TransactionContext; state: string } | undefined {
    const child = this.actor.getSnapshot().children['transaction'] as
      | ActorRefFrom<typeof transactionMachine>
      | undefined;
    if (!child) return undefined;
    const snapshot = child.getSnapshot();
    return { context: snapshot.context, state: recordedState(snapshot.value) };
  }

  status(): TerminalStatus {
    const snapshot = this.actor.getSnapshot();
    const value = snapshot.value as { operation: string; connectivity: string };
    const saf = this.deps.journal.saf.stats();
    const running = this.running();
    return {
      state: value.operation,
      pendingReversals: this.deps.journal.reversals.pending().length,
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
      ...(running
        ? { transaction: { txnRef: running.context.txnRef, kind: running.context.kind, state: running.state } }
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
    const stan = finished.stan ?? this.deps.journal.transactions.get(finished.txnRef)?.stan ?? undefined;
    const output = stan !== undefined && stan !== null ? { ...finished, stan } : finished;
    this.deps.risk?.finished(output, this.running()?.context.original?.txnRef);
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
    if (op === 'transacting' && REMOVAL_STATES.has(this.running()?.state ?? '')) {
      throw new TerminalError('busy', 'remove card: the card of the last transaction is still in the reader');
    }
    if (op === 'transacting') throw new TerminalError('busy', 'a transaction is already in progress');
    if (op === 'locked')
      throw new TerminalError('locked', `terminal locked: ${this.actor.getSnapshot().context.lockReasons.join('; ')}`);
    if (op !== 'ready' && op !== 'degraded') throw new TerminalError('not-ready', `terminal is ${op}`);

    const { journal } = this.deps;
    const txnRef = newTxnRef();
    const input = transactionInput(request, txnRef, journal, this.deps);
    // The transaction exists in the journal before anything else happens to it. If the journal cannot take it (disk
    // full, read-only, I/O error) no sale may start: the terminal locks with the reason, and what is committed stays.
    try {
      journal.transactions.begin({
        txnRef,
        kind: input.kind,
        amount: input.amount,
        currency: input.currency,
        ...(request.ecrRequestId !== undefined ? { ecrRequestId: request.ecrRequestId } : {}),
        ...(request.kind === 'void' || request.kind === 'tip-adjust' ? { originalStan: request.originalStan } : {}),
        ...(input.original && input.kind !== 'void' ? { originalStan: input.original.stan } : {}),
        ...(input.tip ? { tipAmount: input.tip } : {}),
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
    if (listener) this.watchers.set(txnRef, listener);
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
    const state = this.running()?.state;
    if (state !== 'confirmingDuplicate' && state !== 'confirmingPartial')
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
    return reprintReceipt(this.deps, stan);
  }

  /** Print the slip of the latest anomaly (with that code, when given) for the cashier to hand to support. */
  async printAnomalySlip(code?: string): Promise<AnomalyRow> {
    if (this.operation() === 'transacting') throw new TerminalError('busy', 'a transaction is in progress');
    return printAnomalySlip(this.deps, code);
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
