/**
 * The durable journal: every transaction, each of its state changes, every anomaly, the STAN counter, pre-stored
 * reversals and the store-and-forward queue, in one SQLite file. WAL with synchronous=FULL means a write that
 * returned survives a kill -9 or a power cut; every public write is a single SQLite transaction, so a crash leaves
 * either all of it or none of it.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { assertMaskedPan, assertNoCardData } from './card-data-guard.js';
import {
  type AttemptInput,
  type MessageFacts,
  checkAmount,
  checkAttempt,
  checkCardBlob,
  checkCurrency,
  checkDigits,
  checkMessageFacts,
  checkPatch,
  checkResponseCode,
  checkStan,
  checkText,
  checkTime,
  invalid,
  serializeDetail,
} from './checks.js';
import { guarded, toJournalError } from './faults.js';
import {
  JournalError,
  type ReversalRow,
  type ReversalSetAsideRow,
  type SafRow,
  type TransactionPatch,
  type TransactionRow,
} from './schema.js';
import { AnomalyStore } from './stores/anomalies.js';
import { CounterStore } from './stores/counters.js';
import { SealedCardStore } from './stores/sealed-cards.js';
import { OutboxStore } from './stores/outbox.js';
import { TransactionStore } from './stores/transactions.js';
import { migrate } from './migrations/index.js';

export interface JournalOpenOptions {
  /** Clock for created/updated/at columns, in ms since the epoch. */
  now?: () => number;
  /** Open an existing journal for reading only (reports, the CLI); every write fails with 'storage-fault'. */
  readonly?: boolean;
  /** How long a write waits for another connection's lock before failing; default 5000 ms. */
  busyTimeoutMs?: number;
}

/**
 * What a reversal is armed with: the facts of the request it guards (see ReversalRow), and its PAN/expiry sealed by
 * the card vault (`cardBlob`, never the clear PAN) when a vault is configured.
 */
export type ArmReversalInput = Pick<
  ReversalRow,
  | 'txnRef'
  | 'stan'
  | 'originalMti'
  | 'processingCode'
  | 'amount'
  | 'currency'
  | 'transmittedAt'
  | 'terminalId'
  | 'merchantId'
> &
  MessageFacts & { maskedPan?: string; cardBlob?: Buffer };

/** What an offline approval queues: the advice's facts (see SafRow) with the card data sealed by the card vault. */
export type OfflineApprovalItem = Pick<
  SafRow,
  | 'stan'
  | 'processingCode'
  | 'amount'
  | 'currency'
  | 'approvalCode'
  | 'entryMode'
  | 'maskedPan'
  | 'transmittedAt'
  | 'terminalId'
  | 'merchantId'
> &
  MessageFacts & { cardBlob: Buffer };

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

const REVERSAL_COLUMNS = `id, txn_ref AS txnRef, stan, original_mti AS originalMti, processing_code AS processingCode, amount,
  currency, transmitted_at AS transmittedAt, terminal_id AS terminalId, merchant_id AS merchantId, masked_pan AS maskedPan,
  pos_entry_mode AS posEntryMode, acquiring_institution_id AS acquiringInstitutionId,
  forwarding_institution_id AS forwardingInstitutionId, card_blob AS cardBlob, reason_code AS reasonCode, state, attempts, next_attempt_at AS nextAttemptAt, reason, response_code AS responseCode, created_at AS createdAt,
  updated_at AS updatedAt`;

const SAF_COLUMNS = `id, txn_ref AS txnRef, stan, processing_code AS processingCode, amount, currency, approval_code AS approvalCode,
  entry_mode AS entryMode, masked_pan AS maskedPan, transmitted_at AS transmittedAt, terminal_id AS terminalId,
  merchant_id AS merchantId, pos_entry_mode AS posEntryMode, acquiring_institution_id AS acquiringInstitutionId,
  forwarding_institution_id AS forwardingInstitutionId, card_blob AS cardBlob, state, attempts, next_attempt_at AS nextAttemptAt,
  response_code AS responseCode, reason, created_at AS createdAt, updated_at AS updatedAt`;

const SYNCHRONOUS = ['off', 'normal', 'full', 'extra'] as const;

type Stmt = Database.Statement<unknown[], unknown>;

/** The advice MTI: an offline approval reaches the host (and a void names it) as a 0220. */
const ADVICE_MTI = '0220';

export class Journal {
  readonly path: string;
  readonly counters: CounterStore;
  readonly transactions: TransactionStore;
  readonly sealedCards: SealedCardStore;
  readonly anomalies: AnomalyStore;
  readonly outbox: OutboxStore;
  private readonly db: Database.Database;
  private readonly now: () => number;
  private readonly isReadonly: boolean;
  private readonly stmt: Record<
    | 'counts'
    | 'revInsert'
    | 'revByRef'
    | 'revById'
    | 'revArmed'
    | 'revPending'
    | 'revClear'
    | 'revPend'
    | 'revAttempt'
    | 'revAck'
    | 'safInsert'
    | 'safById'
    | 'safQueued'
    | 'safStats'
    | 'safAttempt'
    | 'safSettle',
    Stmt
  >;
  private readonly tx: {
    armReversal: Database.Transaction<(r: ArmReversalInput) => ReversalRow>;
    recordAuthorization: Database.Transaction<
      (
        ref: string,
        state: string,
        patch: TransactionPatch,
        detail: string | null,
        changes: string | null,
      ) => TransactionRow
    >;
    recordPartialApproval: Database.Transaction<
      (
        ref: string,
        state: string,
        patch: TransactionPatch,
        detail: string | null,
        changes: string | null,
        approvedAmount: number,
      ) => TransactionRow
    >;
    releaseReversal: Database.Transaction<(ref: string, reason: string) => void>;
    markReversalPending: Database.Transaction<
      (ref: string, reason: string, reasonCode: string | null, originalAnswer: string | null) => ReversalRow
    >;
    reversalAttempt: Database.Transaction<(id: number, a: AttemptInput) => void>;
    acknowledgeReversal: Database.Transaction<(id: number, responseCode: string) => ReversalRow>;
    recordOfflineApproval: Database.Transaction<
      (
        ref: string,
        state: string,
        patch: TransactionPatch,
        detail: string | null,
        changes: string | null,
        item: OfflineApprovalItem,
      ) => { transaction: TransactionRow; saf: SafRow }
    >;
    safAttempt: Database.Transaction<(id: number, a: AttemptInput) => void>;
    settleSaf: Database.Transaction<
      (id: number, to: 'forwarded' | 'set-aside', event: string, responseCode: string, reason: string | null) => SafRow
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
    this.now = now;
    this.isReadonly = readonly;
    this.counters = new CounterStore(db, now);
    this.transactions = new TransactionStore(db, now);
    this.sealedCards = new SealedCardStore(db, now);
    this.anomalies = new AnomalyStore(db, now);
    this.outbox = new OutboxStore(db, now);
    const p = (sql: string): Stmt => db.prepare(sql);
    this.stmt = {
      counts:
        p(`SELECT (SELECT count(*) FROM transactions) AS transactions, (SELECT count(*) FROM anomalies) AS anomalies,
        (SELECT count(*) FROM transactions WHERE outcome IS NULL) AS inFlight,
        (SELECT count(*) FROM reversals WHERE state = 'pending') AS pendingReversals,
        (SELECT count(*) FROM saf_queue WHERE state = 'queued') AS safQueued`),

      revInsert:
        p(`INSERT INTO reversals (txn_ref, stan, original_mti, processing_code, amount, currency, transmitted_at, terminal_id,
          merchant_id, masked_pan, pos_entry_mode, acquiring_institution_id, forwarding_institution_id, card_blob, state, created_at, updated_at)
        VALUES (@txnRef, @stan, @originalMti, @processingCode, @amount, @currency, @transmittedAt, @terminalId, @merchantId,
          @maskedPan, @posEntryMode, @acquiringInstitutionId, @forwardingInstitutionId, @cardBlob, 'armed', @now, @now) RETURNING ${REVERSAL_COLUMNS}`),
      revByRef: p(`SELECT ${REVERSAL_COLUMNS} FROM reversals WHERE txn_ref = ?`),
      revById: p(`SELECT ${REVERSAL_COLUMNS} FROM reversals WHERE id = ?`),
      revArmed: p(`SELECT ${REVERSAL_COLUMNS} FROM reversals WHERE state = 'armed' ORDER BY id`),
      // A reversal set aside stays pending (still owed) but is not sent again.
      revPending: p(`SELECT ${REVERSAL_COLUMNS} FROM reversals WHERE state = 'pending'
        AND id NOT IN (SELECT reversal_id FROM reversals_set_aside) ORDER BY id`),
      // Card data goes with the armed and pending states: a settled reversal keeps none.
      revClear:
        p(`UPDATE reversals SET state = 'cleared', reason = @reason, response_code = @responseCode, card_blob = NULL, updated_at = @now
        WHERE txn_ref = @txnRef AND state = 'armed'`),
      revPend:
        p(`UPDATE reversals SET state = 'pending', reason = @reason, reason_code = @reasonCode, next_attempt_at = NULL, updated_at = @now
        WHERE txn_ref = @txnRef AND state = 'armed'`),
      revAttempt:
        p(`UPDATE reversals SET attempts = @attempts, next_attempt_at = @nextAttemptAt, reason = @reason, updated_at = @now
        WHERE id = @id AND state = 'pending'`),
      revAck:
        p(`UPDATE reversals SET state = 'acknowledged', response_code = @responseCode, next_attempt_at = NULL, card_blob = NULL,
          updated_at = @now WHERE id = @id AND state = 'pending'`),

      safInsert:
        p(`INSERT INTO saf_queue (txn_ref, stan, processing_code, amount, currency, approval_code, entry_mode, masked_pan,
          transmitted_at, terminal_id, merchant_id, pos_entry_mode, acquiring_institution_id, forwarding_institution_id, card_blob, state,
          created_at, updated_at)
        VALUES (@txnRef, @stan, @processingCode, @amount, @currency, @approvalCode, @entryMode, @maskedPan, @transmittedAt,
          @terminalId, @merchantId, @posEntryMode, @acquiringInstitutionId, @forwardingInstitutionId, @cardBlob, 'queued', @now, @now)
        RETURNING ${SAF_COLUMNS}`),
      safById: p(`SELECT ${SAF_COLUMNS} FROM saf_queue WHERE id = ?`),
      safQueued: p(`SELECT ${SAF_COLUMNS} FROM saf_queue WHERE state = 'queued' ORDER BY id LIMIT ?`),
      safStats: p(`SELECT count(*) AS count, coalesce(sum(amount), 0) AS total, min(created_at) AS oldestAt
        FROM saf_queue WHERE state = 'queued'`),
      safAttempt:
        p(`UPDATE saf_queue SET attempts = @attempts, next_attempt_at = @nextAttemptAt, reason = @reason, updated_at = @now
        WHERE id = @id AND state = 'queued'`),
      // The card blob goes with the queued state: once the host has answered, card data has no reason to stay.
      safSettle: p(`UPDATE saf_queue SET state = @to, card_blob = NULL, response_code = @responseCode,
          reason = coalesce(@reason, reason), next_attempt_at = NULL, updated_at = @now
        WHERE id = @id AND state = 'queued'`),
    };

    const reversalById = (id: number): ReversalRow => {
      const row = this.stmt.revById.get(id) as ReversalRow | undefined;
      if (!row) throw new JournalError('unknown-transaction', `no reversal ${id}`);
      return row;
    };

    const safById = (id: number): SafRow => {
      const row = this.stmt.safById.get(id) as SafRow | undefined;
      if (!row) throw new JournalError('unknown-transaction', `no store-and-forward item ${id}`);
      return row;
    };

    this.tx = {
      armReversal: db.transaction((r: ArmReversalInput) => {
        if (!this.transactions.row(r.txnRef))
          throw new JournalError('unknown-transaction', `no transaction ${r.txnRef}`);
        if (this.stmt.revByRef.get(r.txnRef))
          throw new JournalError('duplicate-reference', `a reversal is already stored for ${r.txnRef}`);
        const row = this.stmt.revInsert.get({
          txnRef: r.txnRef,
          stan: r.stan,
          originalMti: r.originalMti,
          processingCode: r.processingCode,
          amount: r.amount,
          currency: r.currency,
          transmittedAt: r.transmittedAt,
          terminalId: r.terminalId,
          merchantId: r.merchantId,
          maskedPan: r.maskedPan ?? null,
          posEntryMode: r.posEntryMode ?? null,
          acquiringInstitutionId: r.acquiringInstitutionId ?? null,
          forwardingInstitutionId: r.forwardingInstitutionId ?? null,
          cardBlob: r.cardBlob ?? null,
          now: this.now(),
        }) as ReversalRow;
        this.transactions.noteRequest(r.txnRef, r.originalMti, r.transmittedAt);
        return row;
      }),
      recordAuthorization: db.transaction(
        (ref: string, state: string, patch: TransactionPatch, detail: string | null, changes: string | null) => {
          const row = this.transactions.apply(ref, state, patch, detail, changes);
          // Only an armed one: a pending reversal stays owed even if a late answer turns up.
          this.stmt.revClear.run({
            txnRef: ref,
            reason: 'host answered',
            responseCode: patch.responseCode ?? null,
            now: this.now(),
          });
          return row;
        },
      ),
      recordPartialApproval: db.transaction(
        (
          ref: string,
          state: string,
          patch: TransactionPatch,
          detail: string | null,
          changes: string | null,
          approvedAmount: number,
        ) => {
          const row = this.transactions.apply(ref, state, patch, detail, changes);
          // The armed reversal now undoes what the host approved, not what was asked, of an original the host answered.
          this.lazy(
            `UPDATE reversals SET amount = ?, response_code = ?, updated_at = ? WHERE txn_ref = ? AND state = 'armed'`,
          ).run(approvedAmount, patch.responseCode ?? null, this.now(), ref);
          return row;
        },
      ),
      releaseReversal: db.transaction((ref: string, reason: string) => {
        this.stmt.revClear.run({ txnRef: ref, reason, responseCode: null, now: this.now() });
      }),
      markReversalPending: db.transaction(
        (ref: string, reason: string, reasonCode: string | null, originalAnswer: string | null) => {
          const armed = this.stmt.revByRef.get(ref) as ReversalRow | undefined;
          this.stmt.revPend.run({ txnRef: ref, reason, reasonCode, now: this.now() });
          if (originalAnswer !== null && armed?.state === 'armed') {
            this.lazy(`UPDATE reversals SET response_code = ? WHERE txn_ref = ? AND state = 'pending'`).run(
              originalAnswer,
              ref,
            );
          }
          const row = this.stmt.revByRef.get(ref) as ReversalRow | undefined;
          if (!row) throw new JournalError('unknown-transaction', `no reversal stored for ${ref}`);
          return row;
        },
      ),
      reversalAttempt: db.transaction((id: number, a: AttemptInput) => {
        reversalById(id);
        this.stmt.revAttempt.run({
          id,
          attempts: a.attempts,
          nextAttemptAt: a.nextAttemptAt,
          reason: a.reason,
          now: this.now(),
        });
      }),
      acknowledgeReversal: db.transaction((id: number, responseCode: string) => {
        const before = reversalById(id);
        // A repeated acknowledgement (a duplicate answer) changes nothing.
        if (before.state === 'acknowledged') return before;
        if (before.state !== 'pending')
          throw new JournalError('invalid-record', `reversal ${id} is ${before.state}, not pending`);
        this.stmt.revAck.run({ id, responseCode, now: this.now() });
        this.transactions.addEvent(before.txnRef, 'reversed', { responseCode });
        return reversalById(id);
      }),

      recordOfflineApproval: db.transaction(
        (
          ref: string,
          state: string,
          patch: TransactionPatch,
          detail: string | null,
          changes: string | null,
          item: OfflineApprovalItem,
        ) => {
          const transaction = this.transactions.apply(ref, state, patch, detail, changes);
          const saf = this.stmt.safInsert.get({
            txnRef: ref,
            stan: item.stan,
            processingCode: item.processingCode,
            amount: item.amount,
            currency: item.currency,
            approvalCode: item.approvalCode,
            entryMode: item.entryMode,
            maskedPan: item.maskedPan,
            transmittedAt: item.transmittedAt,
            terminalId: item.terminalId,
            merchantId: item.merchantId,
            posEntryMode: item.posEntryMode ?? null,
            acquiringInstitutionId: item.acquiringInstitutionId ?? null,
            forwardingInstitutionId: item.forwardingInstitutionId ?? null,
            cardBlob: item.cardBlob,
            now: this.now(),
          }) as SafRow;
          this.transactions.noteRequest(ref, ADVICE_MTI, item.transmittedAt);
          return { transaction, saf };
        },
      ),
      safAttempt: db.transaction((id: number, a: AttemptInput) => {
        safById(id);
        this.stmt.safAttempt.run({
          id,
          attempts: a.attempts,
          nextAttemptAt: a.nextAttemptAt,
          reason: a.reason,
          now: this.now(),
        });
      }),
      settleSaf: db.transaction(
        (id: number, to: 'forwarded' | 'set-aside', event: string, responseCode: string, reason: string | null) => {
          const before = safById(id);
          // A repeated answer for an item already settled the same way changes nothing.
          if (before.state === to) return before;
          if (before.state !== 'queued')
            throw new JournalError('invalid-record', `store-and-forward item ${id} is ${before.state}, not queued`);
          this.stmt.safSettle.run({ id, to, responseCode, reason, now: this.now() });
          this.transactions.addEvent(
            before.txnRef,
            event,
            reason === null ? { responseCode } : { responseCode, reason },
          );
          return safById(id);
        },
      ),
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

  /** Copies the -wal file's commits into the database file (PASSIVE: never waits for readers). */
  checkpoint(): void {
    guarded('checkpoint', () => this.db.pragma('wal_checkpoint(PASSIVE)'));
  }

  /** SQLite checkpoints by itself once the -wal file holds this many pages (0: never). */
  setAutoCheckpoint(pages: number): void {
    guarded('set auto-checkpoint', () => this.db.pragma(`wal_autocheckpoint = ${Math.max(0, Math.floor(pages))}`));
  }

  /** SQLite's quick consistency check (no index cross-check); 'ok' alone when the file is sound. */
  quickCheck(): string[] {
    return guarded('quick check', () =>
      (this.db.pragma('quick_check') as { quick_check: string }[]).map((r) => r.quick_check),
    );
  }

  counts(): JournalCounts {
    return guarded('count', () => this.stmt.counts.get() as JournalCounts);
  }

  // ---- pre-stored reversals ----

  /** Commits an armed reversal; call it before the authorization request leaves the terminal. */
  armReversal(r: ArmReversalInput): ReversalRow {
    return guarded(`arm reversal for ${String(r?.txnRef)}`, () => {
      if (r === null || typeof r !== 'object') invalid('reversal must be an object');
      checkText(r.txnRef, 'txnRef', 100);
      checkStan(r.stan, 'stan');
      checkDigits(r.originalMti, 4, 'originalMti');
      checkDigits(r.processingCode, 6, 'processingCode');
      checkAmount(r.amount, 'amount');
      checkCurrency(r.currency, 'currency');
      checkTime(r.transmittedAt, 'transmittedAt');
      checkText(r.terminalId, 'terminalId', 100);
      checkText(r.merchantId, 'merchantId', 100);
      checkMessageFacts(r);
      if (r.cardBlob !== undefined) checkCardBlob(r.cardBlob);
      const input = { ...r, maskedPan: r.maskedPan === '' ? undefined : r.maskedPan };
      if (input.maskedPan !== undefined) {
        if (typeof input.maskedPan !== 'string') invalid('maskedPan must be a string');
        assertMaskedPan(input.maskedPan, 'maskedPan');
      }
      // The blob is ciphertext, so it is the one value the guard does not read.
      const { cardBlob: _sealed, ...clear } = input;
      assertNoCardData(clear, 'reversal');
      return this.tx.armReversal.immediate(input);
    });
  }

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
      const changes = Object.keys(clean).length > 0 ? JSON.stringify(clean) : null;
      return this.tx.recordAuthorization.immediate(txnRef, state, clean, detailJson, changes);
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
      const changes = Object.keys(clean).length > 0 ? JSON.stringify(clean) : null;
      return this.tx.recordPartialApproval.immediate(txnRef, state, clean, detailJson, changes, amounts.approvedAmount);
    });
  }

  /** The request never left the terminal: armed -> cleared, with the reason. No-op if not armed. */
  releaseReversal(txnRef: string, reason: string): void {
    guarded(`release reversal for ${txnRef}`, () => {
      checkText(reason, 'reason', 1000);
      assertNoCardData(reason, 'reason');
      this.tx.releaseReversal.immediate(txnRef, reason);
    });
  }

  /**
   * The host may have the request: armed -> pending (owed). `reasonCode` is the reversal's field 39 (two letters or
   * digits, see REVERSAL_REASON); absent, the forwarder sends its default. Returns the row (also when it was already
   * pending; in any other state it is returned unchanged, so the caller can see nothing is owed).
   */
  /**
   * Armed -> pending. `reasonCode`: field 39 of the 0400 (why it is reversed). `originalAnswer`: the host answered the
   * original with this code but the terminal could not take the answer (kept on the row: a reversal of an answered
   * original cannot be settled by "original not found").
   */
  markReversalPending(
    txnRef: string,
    reason: string,
    opts: { reasonCode?: string | undefined; originalAnswer?: string | undefined } = {},
  ): ReversalRow {
    return guarded(`mark reversal pending for ${txnRef}`, () => {
      checkText(reason, 'reason', 1000);
      assertNoCardData(reason, 'reason');
      const { reasonCode, originalAnswer } = opts;
      if (reasonCode !== undefined && (typeof reasonCode !== 'string' || !/^[0-9A-Z]{2}$/.test(reasonCode)))
        invalid('reasonCode must be 2 digits or capital letters');
      if (originalAnswer !== undefined) checkResponseCode(originalAnswer);
      return this.tx.markReversalPending.immediate(txnRef, reason, reasonCode ?? null, originalAnswer ?? null);
    });
  }

  reversalFor(txnRef: string): ReversalRow | undefined {
    return guarded('read reversal', () => this.stmt.revByRef.get(txnRef) as ReversalRow | undefined);
  }

  /** Crash recovery: requests that may or may not have left the terminal, oldest first. */
  armedReversals(): ReversalRow[] {
    return guarded('list armed reversals', () => this.stmt.revArmed.all() as ReversalRow[]);
  }

  /** Reversals owed to the host, in the order they must be sent. */
  pendingReversals(): ReversalRow[] {
    return guarded('list pending reversals', () => this.stmt.revPending.all() as ReversalRow[]);
  }

  /** Records a failed send of a pending reversal; ignored once it is no longer pending. */
  recordReversalAttempt(id: number, a: AttemptInput): void {
    guarded(`record attempt of reversal ${id}`, () => {
      checkAttempt(a);
      this.tx.reversalAttempt.immediate(id, a);
    });
  }

  /**
   * The host acknowledged the reversal (any response): pending -> acknowledged, plus a 'reversed' event (detail
   * {responseCode}) on its transaction. The transaction's own state is left to the transaction flow.
   */
  acknowledgeReversal(id: number, responseCode: string): ReversalRow {
    return guarded(`acknowledge reversal ${id}`, () => {
      checkResponseCode(responseCode);
      return this.tx.acknowledgeReversal.immediate(id, responseCode);
    });
  }

  // ---- store-and-forward ----

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
      const changes = Object.keys(clean).length > 0 ? JSON.stringify(clean) : null;
      if (item === null || typeof item !== 'object') invalid('store-and-forward item must be an object');
      checkStan(item.stan, 'stan');
      checkDigits(item.processingCode, 6, 'processingCode');
      checkAmount(item.amount, 'amount');
      checkCurrency(item.currency, 'currency');
      checkText(item.approvalCode, 'approvalCode', 20);
      checkText(item.entryMode, 'entryMode', 40);
      checkText(item.maskedPan, 'maskedPan', 19);
      assertMaskedPan(item.maskedPan, 'maskedPan');
      checkTime(item.transmittedAt, 'transmittedAt');
      checkText(item.terminalId, 'terminalId', 100);
      checkText(item.merchantId, 'merchantId', 100);
      checkMessageFacts(item);
      checkCardBlob(item.cardBlob);
      // The blob is ciphertext, so it is the one value the guard does not read.
      const { cardBlob: _sealed, ...clear } = item;
      assertNoCardData(clear, 'store-and-forward item');
      return this.tx.recordOfflineApproval.immediate(txnRef, state, clean, null, changes, item);
    });
  }

  /** Queued items in forwarding order (the first `limit` of them). */
  safQueue(limit: number = Number.MAX_SAFE_INTEGER): SafRow[] {
    return guarded('list store-and-forward queue', () => this.stmt.safQueued.all(limit) as SafRow[]);
  }

  /** Of queued items: how many, their total in minor units, and when the oldest was queued. */
  safStats(): { count: number; total: number; oldestAt: number | null } {
    return guarded(
      'store-and-forward stats',
      () => this.stmt.safStats.get() as { count: number; total: number; oldestAt: number | null },
    );
  }

  safItem(id: number): SafRow | undefined {
    return guarded('read store-and-forward item', () => this.stmt.safById.get(id) as SafRow | undefined);
  }

  /** Records a failed send of a queued advice; ignored once the item is no longer queued. */
  recordSafAttempt(id: number, a: AttemptInput): void {
    guarded(`record attempt of store-and-forward item ${id}`, () => {
      checkAttempt(a);
      this.tx.safAttempt.immediate(id, a);
    });
  }

  /** Host acknowledged the advice: queued -> forwarded, card blob dropped, 'forwarded' event on the transaction. */
  completeSafItem(id: number, responseCode: string): SafRow {
    return guarded(`complete store-and-forward item ${id}`, () => {
      checkResponseCode(responseCode);
      return this.tx.settleSaf.immediate(id, 'forwarded', 'forwarded', responseCode, null);
    });
  }

  /** Host rejected the advice: queued -> set-aside, card blob dropped, 'advice-rejected' event. The queue moves on. */
  setAsideSafItem(id: number, responseCode: string, reason: string): SafRow {
    return guarded(`set aside store-and-forward item ${id}`, () => {
      checkResponseCode(responseCode);
      checkText(reason, 'reason', 1000);
      assertNoCardData(reason, 'reason');
      return this.tx.settleSaf.immediate(id, 'set-aside', 'advice-rejected', responseCode, reason);
    });
  }

  /** Statements of the rarer settle paths, prepared on first use. */
  private readonly lazyStmts = new Map<string, Stmt>();

  private lazy(sql: string): Stmt {
    let stmt = this.lazyStmts.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.lazyStmts.set(sql, stmt);
    }
    return stmt;
  }

  /**
   * The host refused a pending reversal for good: it stays pending (the cardholder may still be owed the money) but
   * is no longer sent; a 'reversal-set-aside' event says why. No-op unless pending.
   */
  setAsideReversal(id: number, responseCode: string, reason: string): void {
    guarded(`set aside reversal ${id}`, () => {
      checkResponseCode(responseCode);
      checkText(reason, 'reason', 1000);
      assertNoCardData(reason, 'reason');
      this.db
        .transaction(() => {
          const row = this.stmt.revById.get(id) as ReversalRow | undefined;
          if (!row) throw new JournalError('unknown-transaction', `no reversal ${id}`);
          if (row.state !== 'pending') return;
          const now = this.now();
          const added =
            this.lazy(`INSERT INTO reversals_set_aside (reversal_id, response_code, reason, at) VALUES (?, ?, ?, ?)
          ON CONFLICT (reversal_id) DO NOTHING`).run(id, responseCode, reason, now).changes;
          if (added === 0) return;
          // Never sent again, so the sealed card goes: what remains names the money for the operator, not the card.
          this.lazy(
            `UPDATE reversals SET response_code = ?, reason = ?, next_attempt_at = NULL, card_blob = NULL, updated_at = ? WHERE id = ?`,
          ).run(responseCode, reason, now, id);
          this.transactions.addEvent(row.txnRef, 'reversal-set-aside', { responseCode, reason });
        })
        .immediate();
    });
  }

  /** Pending reversals the host refused for good, oldest first: money the operator must settle with the acquirer. */
  reversalsSetAside(): ReversalSetAsideRow[] {
    return guarded(
      'list reversals set aside',
      () =>
        this.lazy(`SELECT r.id AS reversalId, r.txn_ref AS txnRef, r.stan, r.amount, r.currency, r.masked_pan AS maskedPan,
          s.response_code AS responseCode, s.reason, s.at
        FROM reversals_set_aside s JOIN reversals r ON r.id = s.reversal_id WHERE r.state = 'pending' ORDER BY s.at, r.id`).all() as ReversalSetAsideRow[],
    );
  }

  /** What is owed but no longer sent: reversals set aside (still pending) and advices set aside, counts and totals. */
  setAsideTotals(): { reversals: { count: number; total: number }; advices: { count: number; total: number } } {
    return guarded('set-aside totals', () => {
      const r = this.lazy(`SELECT count(*) AS count, coalesce(sum(r.amount), 0) AS total FROM reversals_set_aside s
        JOIN reversals r ON r.id = s.reversal_id WHERE r.state = 'pending'`).get() as { count: number; total: number };
      const a = this.lazy(
        `SELECT count(*) AS count, coalesce(sum(amount), 0) AS total FROM saf_queue WHERE state = 'set-aside'`,
      ).get() as { count: number; total: number };
      return { reversals: r, advices: a };
    });
  }

  /** The advice of an offline sale, in whatever state (a void must not overtake one still queued). */
  adviceFor(txnRef: string): SafRow | undefined {
    return guarded(
      'read advice',
      () => this.lazy(`SELECT ${SAF_COLUMNS} FROM saf_queue WHERE txn_ref = ?`).get(txnRef) as SafRow | undefined,
    );
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
      const changes = Object.keys(clean).length > 0 ? JSON.stringify(clean) : null;
      return this.db
        .transaction(() => {
          const item = this.stmt.safById.get(safId) as SafRow | undefined;
          if (!item) throw new JournalError('unknown-transaction', `no store-and-forward item ${safId}`);
          if (item.state !== 'queued' || item.attempts !== 0) {
            throw new JournalError(
              'invalid-record',
              `store-and-forward item ${safId} is ${item.state} after ${item.attempts} attempts: it cannot be cancelled`,
            );
          }
          const reason = `cancelled by void ${voidTxnRef} before it was sent`;
          this.lazy(`UPDATE saf_queue SET state = 'cancelled', card_blob = NULL, reason = ?, next_attempt_at = NULL, updated_at = ?
          WHERE id = ? AND state = 'queued'`).run(reason, this.now(), safId);
          this.transactions.addEvent(item.txnRef, 'advice-cancelled', { reason, voidTxnRef });
          return this.tx.recordAuthorization(
            voidTxnRef,
            state,
            clean,
            JSON.stringify({ cancelledAdvice: item.txnRef }),
            changes,
          );
        })
        .immediate();
    });
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

  /** SQLite's own consistency check; 'ok' alone when the file is sound. */
  integrityCheck(): string[] {
    return guarded('integrity check', () =>
      (this.db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check),
    );
  }
}
