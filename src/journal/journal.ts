/**
 * The durable journal: every transaction, each of its state changes, every anomaly, the STAN counter, pre-stored
 * reversals, the store-and-forward queue and the telemetry outbox, in one SQLite file. WAL with synchronous=FULL
 * means a write that returned survives a kill -9 or a power cut; every public write is a single SQLite transaction,
 * so a crash leaves either all of it or none of it.
 *
 * Each concern is a store on the one connection (journal.transactions, journal.reversals, ...); the writes that
 * must land in one commit across stores (the host's answer with its cleared reversal, an offline approval with its
 * queued advice) are here.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { checkAmount, checkPatch, checkText, invalid, patchChanges, serializeDetail } from './checks.js';
import { guarded, toJournalError } from './faults.js';
import { migrate } from './migrations/index.js';
import { JournalError, type SafRow, type TransactionPatch, type TransactionRow } from './schema.js';
import { AnomalyStore } from './stores/anomalies.js';
import { BatchStore } from './stores/batches.js';
import { RetentionStore } from './stores/retention.js';
import { CounterStore } from './stores/counters.js';
import { OutboxStore } from './stores/outbox.js';
import { PreauthStore } from './stores/preauths.js';
import { ReversalStore } from './stores/reversals.js';
import { SealedCardStore } from './stores/sealed-cards.js';
import { SetAsideStore } from './stores/set-aside.js';
import { TerminalKeyStore } from './stores/terminal-keys.js';
import { checkOfflineApprovalItem, type OfflineApprovalItem, SafStore } from './stores/store-and-forward.js';
import type { Stmt } from './stores/store.js';
import { TransactionStore } from './stores/transactions.js';

export interface JournalOpenOptions {
  /** Clock for created/updated/at columns, in ms since the epoch. */
  now?: () => number;
  /** Open an existing journal for reading only (reports, the CLI); every write fails with 'storage-fault'. */
  readonly?: boolean;
  /** How long a write waits for another connection's lock before failing; default 5000 ms. */
  busyTimeoutMs?: number;
}

export interface JournalCounts {
  transactions: number;
  anomalies: number;
  inFlight: number;
  pendingReversals: number;
  safQueued: number;
}

export interface JournalSettings {
  journalMode: string;
  synchronous: 'off' | 'normal' | 'full' | 'extra';
  foreignKeys: boolean;
  schemaVersion: number;
  readonly: boolean;
}

const SYNCHRONOUS = ['off', 'normal', 'full', 'extra'] as const;

type StateWrite = (
  ref: string,
  state: string,
  patch: TransactionPatch,
  detail: string | null,
  changes: string | null,
) => TransactionRow;

export class Journal {
  readonly path: string;
  readonly counters: CounterStore;
  readonly transactions: TransactionStore;
  readonly reversals: ReversalStore;
  readonly saf: SafStore;
  readonly anomalies: AnomalyStore;
  readonly outbox: OutboxStore;
  readonly sealedCards: SealedCardStore;
  readonly terminalKeys: TerminalKeyStore;
  readonly batches: BatchStore;
  readonly retention: RetentionStore;
  readonly preauths: PreauthStore;
  /** What the host refused for good, and support's resolutions of it. */
  readonly setAside: SetAsideStore;
  private readonly db: Database.Database;
  private readonly isReadonly: boolean;
  private readonly countsStmt: Stmt;
  private readonly tx: {
    recordAuthorization: Database.Transaction<StateWrite>;
    recordPartialApproval: Database.Transaction<
      (...args: [...Parameters<StateWrite>, approvedAmount: number]) => TransactionRow
    >;
    recordOfflineApproval: Database.Transaction<
      (...args: [...Parameters<StateWrite>, item: OfflineApprovalItem]) => { transaction: TransactionRow; saf: SafRow }
    >;
    recordPinAttempt: Database.Transaction<
      (ref: string, attemptRef: string, anomalyCode: string | null, state: string) => TransactionRow
    >;
    cancelAdviceForVoid: Database.Transaction<
      (
        voidTxnRef: string,
        safId: number,
        state: string,
        patch: TransactionPatch,
        changes: string | null,
      ) => TransactionRow
    >;
  };

  /** Opens (creating it and its parent directory if needed) and migrates a journal. ':memory:' gives a scratch one. */
  static open(path: string, options: JournalOpenOptions = {}): Journal {
    const readonly = options.readonly ?? false;
    const inMemory = path === ':memory:' || path === '';
    let db: Database.Database | undefined;
    try {
      if (!inMemory && !readonly) mkdirSync(dirname(resolve(path)), { recursive: true });
      db = new Database(path, { readonly, fileMustExist: readonly });
      db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5_000))}`);
      if (!readonly) {
        // WAL is persistent in the file; a read-only connection just uses what the writer set.
        const mode = db.pragma('journal_mode = WAL', { simple: true });
        if (!inMemory && mode !== 'wal')
          throw new JournalError('storage-fault', `${path}: cannot enable WAL (journal_mode is ${String(mode)})`);
        // SQLite keeps the -wal file at its high-water mark; after a checkpoint it is cut back to this (bytes), so a
        // burst (a batch upload, a purge) does not hold megabytes of flash for good. Durability is not changed.
        db.pragma('journal_size_limit = 4194304');
      }
      // Per connection, and better-sqlite3 builds default to NORMAL under WAL: FULL makes each commit durable.
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      migrate(db, { readonly });
      return new Journal(db, path, options.now ?? Date.now, readonly);
    } catch (err) {
      db?.close();
      throw toJournalError(err, `open journal ${path}`);
    }
  }

  private constructor(db: Database.Database, path: string, now: () => number, readonly: boolean) {
    this.db = db;
    this.path = path;
    this.isReadonly = readonly;
    this.counters = new CounterStore(db, now);
    this.transactions = new TransactionStore(db, now);
    this.reversals = new ReversalStore(db, now, this.transactions);
    this.saf = new SafStore(db, now, this.transactions);
    this.anomalies = new AnomalyStore(db, now);
    this.outbox = new OutboxStore(db, now);
    this.sealedCards = new SealedCardStore(db, now);
    this.terminalKeys = new TerminalKeyStore(db, now);
    this.batches = new BatchStore(db, now);
    this.retention = new RetentionStore(db, now);
    this.preauths = new PreauthStore(db, now, this.transactions);
    this.setAside = new SetAsideStore(db, now, this.transactions);
    this.countsStmt =
      db.prepare(`SELECT (SELECT count(*) FROM transactions) AS transactions, (SELECT count(*) FROM anomalies) AS anomalies,
        (SELECT count(*) FROM transactions WHERE outcome IS NULL) AS inFlight,
        (SELECT count(*) FROM reversals WHERE state = 'pending') AS pendingReversals,
        (SELECT count(*) FROM saf_queue WHERE state = 'queued') AS safQueued`);

    const { transactions, reversals, saf } = this;
    const recordAuthorization = db.transaction<StateWrite>((ref, state, patch, detail, changes) => {
      const row = transactions.apply(ref, state, patch, detail, changes);
      // Only an armed one: a pending reversal stays owed even if a late answer turns up.
      reversals.clearArmed(ref, 'host answered', patch.responseCode ?? null);
      return row;
    });
    this.tx = {
      recordAuthorization,
      recordPartialApproval: db.transaction((ref, state, patch, detail, changes, approvedAmount: number) => {
        const row = transactions.apply(ref, state, patch, detail, changes);
        // The armed reversal now undoes what the host approved, not what was asked, of an original the host answered.
        reversals.setArmedAmount(ref, approvedAmount, patch.responseCode ?? null);
        return row;
      }),
      recordOfflineApproval: db.transaction((ref, state, patch, detail, changes, item: OfflineApprovalItem) => {
        const transaction = transactions.apply(ref, state, patch, detail, changes);
        return { transaction, saf: saf.enqueue(ref, item) };
      }),
      recordPinAttempt: db.transaction((ref, attemptRef, anomalyCode, state) => {
        const row = transactions.splitAttempt(ref, attemptRef, anomalyCode, state);
        reversals.moveSettled(ref, attemptRef);
        return row;
      }),
      cancelAdviceForVoid: db.transaction((voidTxnRef, safId, state, patch, changes) => {
        const item = saf.cancelForVoid(safId, voidTxnRef);
        return recordAuthorization(voidTxnRef, state, patch, JSON.stringify({ cancelledAdvice: item.txnRef }), changes);
      }),
    };
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  get isOpen(): boolean {
    return this.db.open;
  }

  /**
   * Several journal writes as one commit (one fsync): used where the order of effects allows it, e.g. the
   * forwarder committing a run of host acknowledgements together. All or nothing.
   */
  batch<T>(what: string, fn: () => T): T {
    return guarded(what, () => this.db.transaction(fn).immediate());
  }

  // ---- writes that span stores, each one commit ----

  /**
   * The host answered: write the transaction state/patch AND clear its armed reversal (armed -> cleared)
   * atomically. A reversal already pending stays pending (a late answer does not cancel what is owed).
   */
  recordAuthorization(
    txnRef: string,
    state: string,
    patch: TransactionPatch,
    detail?: Record<string, unknown>,
  ): TransactionRow {
    return guarded(`record authorization ${state} of ${txnRef}`, () => {
      checkText(state, 'state', 100);
      const clean = checkPatch(patch);
      const detailJson = serializeDetail(detail, 'detail');
      return this.tx.recordAuthorization.immediate(txnRef, state, clean, detailJson, patchChanges(clean));
    });
  }

  /**
   * The host approved part of the amount (10): write the state and, in the same commit, set the armed reversal's
   * amount to the approved one, so a cancel, a timeout or a crash before the register decides reverses exactly what
   * the host approved. The reversal stays armed until the register accepts.
   */
  recordPartialApproval(
    txnRef: string,
    state: string,
    patch: TransactionPatch,
    amounts: { requestedAmount: number; approvedAmount: number },
  ): TransactionRow {
    return guarded(`record partial approval of ${txnRef}`, () => {
      checkText(state, 'state', 100);
      checkAmount(amounts.approvedAmount, 'approvedAmount');
      if (amounts.approvedAmount > amounts.requestedAmount) invalid('approvedAmount must not exceed requestedAmount');
      const clean = checkPatch(patch);
      const detailJson = serializeDetail({ ...amounts }, 'detail');
      const changes = patchChanges(clean);
      return this.tx.recordPartialApproval.immediate(txnRef, state, clean, detailJson, changes, amounts.approvedAmount);
    });
  }

  /** An offline approval: the transaction state/patch AND the queued SAF item, atomically. */
  recordOfflineApproval(
    txnRef: string,
    state: string,
    patch: TransactionPatch,
    item: OfflineApprovalItem,
  ): { transaction: TransactionRow; saf: SafRow } {
    return guarded(`record offline approval ${state} of ${txnRef}`, () => {
      checkText(state, 'state', 100);
      const clean = checkPatch(patch);
      const changes = patchChanges(clean);
      checkOfflineApprovalItem(item);
      return this.tx.recordOfflineApproval.immediate(txnRef, state, clean, null, changes, item);
    });
  }

  /**
   * A void of an offline sale whose advice never left: in one commit the advice is cancelled (card data dropped,
   * 'advice-cancelled' on the sale) and the void gets its local outcome (state/patch as recordAuthorization).
   * Refused unless the advice is queued and was never attempted: one that may have left must reach the host first.
   */
  cancelAdviceForVoid(voidTxnRef: string, safId: number, state: string, patch: TransactionPatch): TransactionRow {
    return guarded(`cancel advice ${safId} for void ${voidTxnRef}`, () => {
      checkText(state, 'state', 100);
      const clean = checkPatch(patch);
      return this.tx.cancelAdviceForVoid.immediate(voidTxnRef, safId, state, clean, patchChanges(clean));
    });
  }

  /**
   * A wrong online PIN answered 55, with tries left: in one commit the attempt becomes its own declined row
   * (`attemptRef`, with its STAN, answer and settled reversal), so every STAN the host saw keeps one row, and the
   * transaction (state `state`, no STAN) goes on to ask for the PIN again.
   */
  recordPinAttempt(txnRef: string, attemptRef: string, anomalyCode: string | null, state: string): TransactionRow {
    return guarded(`record PIN attempt of ${txnRef}`, () => {
      checkText(attemptRef, 'attemptRef', 100);
      checkText(state, 'state', 100);
      return this.tx.recordPinAttempt.immediate(txnRef, attemptRef, anomalyCode, state);
    });
  }

  // ---- reads across stores ----

  counts(): JournalCounts {
    return guarded('count', () => this.countsStmt.get() as JournalCounts);
  }

  /** What is owed but no longer sent: reversals set aside (still pending) and advices set aside, counts and totals. */
  setAsideTotals(): { reversals: { count: number; total: number }; advices: { count: number; total: number } } {
    return guarded('set-aside totals', () => ({
      reversals: this.reversals.setAsideTotal(),
      advices: this.saf.setAsideTotal(),
    }));
  }

  // ---- the connection ----

  /** Copies the -wal file's commits into the database file (PASSIVE: never waits for readers). */
  checkpoint(): void {
    guarded('checkpoint', () => this.db.pragma('wal_checkpoint(PASSIVE)'));
  }

  /** SQLite checkpoints by itself once the -wal file holds this many pages (0: never). */
  setAutoCheckpoint(pages: number): void {
    guarded('set auto-checkpoint', () => this.db.pragma(`wal_autocheckpoint = ${Math.max(0, Math.floor(pages))}`));
  }

  /** The connection's durability settings as SQLite reports them (self-test and tests read them back). */
  settings(): JournalSettings {
    return guarded('read settings', () => ({
      journalMode: String(this.db.pragma('journal_mode', { simple: true })),
      synchronous: SYNCHRONOUS[this.db.pragma('synchronous', { simple: true }) as number] ?? 'off',
      foreignKeys: this.db.pragma('foreign_keys', { simple: true }) === 1,
      schemaVersion: this.db.pragma('user_version', { simple: true }) as number,
      readonly: this.isReadonly,
    }));
  }

  /** SQLite's quick consistency check (no index cross-check); 'ok' alone when the file is sound. */
  quickCheck(): string[] {
    return guarded('quick check', () =>
      (this.db.pragma('quick_check') as { quick_check: string }[]).map((r) => r.quick_check),
    );
  }

  /** SQLite's own consistency check; 'ok' alone when the file is sound. */
  integrityCheck(): string[] {
    return guarded('integrity check', () =>
      (this.db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check),
    );
  }
}
