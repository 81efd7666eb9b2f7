/**
 * Transactions and their events: one row per transaction with what is known of it now, and every state change in
 * the order it was committed (the event says which facts became known when).
 */
import type Database from 'better-sqlite3';
import { assertNoCardData } from '../card-data-guard.js';
import {
  checkAmount,
  checkCurrency,
  checkPatch,
  checkStan,
  checkText,
  invalid,
  limitParam,
  parseJson,
  patchChanges,
  serializeDetail,
} from '../checks.js';
import {
  JournalError,
  PATCH_FIELDS,
  TRANSACTION_KINDS,
  type TransactionEventRow,
  type TransactionKind,
  type TransactionOutcome,
  type TransactionPatch,
  type TransactionRow,
} from '../schema.js';
import { Store, type Stmt } from './store.js';

export interface BeginTransactionInput {
  txnRef: string;
  kind: TransactionKind;
  amount: number;
  currency: string;
  ecrRequestId?: string;
  originalStan?: number;
  /** The part of `amount` that is a tip. */
  tipAmount?: number;
  /** Initial state; 'created' when absent. */
  state?: string;
}

export interface TransactionFilter {
  /** Inclusive, ms since the epoch, on createdAt. */
  from?: number;
  /** Exclusive, ms since the epoch, on createdAt. */
  to?: number;
  state?: string;
  outcome?: TransactionOutcome;
  /** The newest `limit` rows (still returned oldest first). */
  limit?: number;
}

const TXN_COLUMNS = `id, txn_ref AS txnRef, kind, state, outcome, amount, currency, stan, masked_pan AS maskedPan,
  entry_mode AS entryMode, response_code AS responseCode, approval_code AS approvalCode, rrn, anomaly_code AS anomalyCode,
  original_stan AS originalStan, receipt_status AS receiptStatus, ecr_request_id AS ecrRequestId,
  request_mti AS requestMti, transmitted_at AS transmittedAt, created_at AS createdAt, updated_at AS updatedAt,
  tip_amount AS tipAmount, batch_number AS batchNumber`;

type RawEvent = Omit<TransactionEventRow, 'detail' | 'changes'> & { detail: string | null; changes: string | null };

export class TransactionStore extends Store {
  private readonly stmt: Record<
    | 'insert'
    | 'insertEvent'
    | 'update'
    | 'request'
    | 'byRef'
    | 'byStan'
    | 'byEcr'
    | 'lastWithOutcome'
    | 'inFlight'
    | 'events'
    | 'list',
    Stmt
  >;
  private readonly tx: {
    begin: Database.Transaction<(t: BeginTransactionInput) => TransactionRow>;
    recordState: Database.Transaction<
      (
        ref: string,
        state: string,
        patch: TransactionPatch,
        detail: string | null,
        changes: string | null,
      ) => TransactionRow
    >;
  };

  constructor(db: Database.Database, now: () => number) {
    super(db, now);
    const p = (sql: string): Stmt => db.prepare(sql);
    this.stmt = {
      insert:
        p(`INSERT INTO transactions (txn_ref, kind, state, amount, currency, original_stan, ecr_request_id, tip_amount, created_at, updated_at, batch_number)
        VALUES (@txnRef, @kind, @state, @amount, @currency, @originalStan, @ecrRequestId, @tipAmount, @now, @now,
          (SELECT number FROM batches WHERE state != 'closed')) RETURNING id`),
      insertEvent: p('INSERT INTO transaction_events (txn_id, at, state, detail, changes) VALUES (?, ?, ?, ?, ?)'),
      // One statement for any patch: each column keeps its value unless its set_ flag is 1.
      update: p(`UPDATE transactions SET state = @state, updated_at = @now,
        amount = CASE WHEN @set_amount THEN @amount ELSE amount END,
        stan = CASE WHEN @set_stan THEN @stan ELSE stan END,
        masked_pan = CASE WHEN @set_maskedPan THEN @maskedPan ELSE masked_pan END,
        entry_mode = CASE WHEN @set_entryMode THEN @entryMode ELSE entry_mode END,
        response_code = CASE WHEN @set_responseCode THEN @responseCode ELSE response_code END,
        approval_code = CASE WHEN @set_approvalCode THEN @approvalCode ELSE approval_code END,
        rrn = CASE WHEN @set_rrn THEN @rrn ELSE rrn END,
        outcome = CASE WHEN @set_outcome THEN @outcome ELSE outcome END,
        anomaly_code = CASE WHEN @set_anomalyCode THEN @anomalyCode ELSE anomaly_code END,
        receipt_status = CASE WHEN @set_receiptStatus THEN @receiptStatus ELSE receipt_status END,
        tip_amount = CASE WHEN @set_tipAmount THEN @tipAmount ELSE tip_amount END
        WHERE id = @id`),
      // What a void of this transaction will name in its field 90.
      request: p(
        'UPDATE transactions SET request_mti = @requestMti, transmitted_at = @transmittedAt WHERE txn_ref = @txnRef',
      ),
      byRef: p(`SELECT ${TXN_COLUMNS} FROM transactions WHERE txn_ref = ?`),
      byStan: p(
        `SELECT ${TXN_COLUMNS} FROM transactions WHERE stan = @stan AND (@kind IS NULL OR kind = @kind) ORDER BY id DESC LIMIT 1`,
      ),
      byEcr: p(`SELECT ${TXN_COLUMNS} FROM transactions WHERE ecr_request_id = ? ORDER BY id DESC LIMIT 1`),
      lastWithOutcome: p(`SELECT ${TXN_COLUMNS} FROM transactions WHERE outcome IS NOT NULL ORDER BY id DESC LIMIT 1`),
      inFlight: p(`SELECT ${TXN_COLUMNS} FROM transactions WHERE outcome IS NULL ORDER BY id`),
      events: p(`SELECT e.id, t.txn_ref AS txnRef, e.at, e.state, e.detail, e.changes
        FROM transaction_events e JOIN transactions t ON t.id = e.txn_id WHERE t.txn_ref = ? ORDER BY e.id`),
      list: p(`SELECT * FROM (SELECT ${TXN_COLUMNS} FROM transactions
        WHERE (@from IS NULL OR created_at >= @from) AND (@to IS NULL OR created_at < @to)
          AND (@state IS NULL OR state = @state) AND (@outcome IS NULL OR outcome = @outcome)
        ORDER BY id DESC LIMIT @limit) ORDER BY id`),
    };
    this.tx = {
      begin: db.transaction((t: BeginTransactionInput) => {
        const now = this.now();
        const state = t.state ?? 'created';
        const { id } = this.stmt.insert.get({
          txnRef: t.txnRef,
          kind: t.kind,
          state,
          amount: t.amount,
          currency: t.currency,
          originalStan: t.originalStan ?? null,
          ecrRequestId: t.ecrRequestId ?? null,
          tipAmount: t.tipAmount ?? 0,
          now,
        }) as { id: number };
        this.stmt.insertEvent.run(id, now, state, null, null);
        return this.stmt.byRef.get(t.txnRef) as TransactionRow;
      }),
      recordState: db.transaction(
        (ref: string, state: string, patch: TransactionPatch, detail: string | null, changes: string | null) =>
          this.apply(ref, state, patch, detail, changes),
      ),
    };
  }

  begin(t: BeginTransactionInput): TransactionRow {
    return this.run(`begin transaction ${String(t.txnRef)}`, () => {
      checkText(t.txnRef, 'txnRef', 100);
      if (!TRANSACTION_KINDS.includes(t.kind)) invalid(`kind must be one of ${TRANSACTION_KINDS.join(', ')}`);
      checkAmount(t.amount, 'amount');
      checkCurrency(t.currency, 'currency');
      if (t.originalStan !== undefined) checkStan(t.originalStan, 'originalStan');
      if (t.tipAmount !== undefined) {
        checkAmount(t.tipAmount, 'tipAmount');
        if (t.tipAmount > t.amount) invalid('tipAmount must not exceed amount');
      }
      if (t.ecrRequestId !== undefined) checkText(t.ecrRequestId, 'ecrRequestId');
      if (t.state !== undefined) checkText(t.state, 'state', 100);
      assertNoCardData(t, 'transaction');
      return this.tx.begin.immediate(t);
    });
  }

  /**
   * Moves a transaction to `state`, applies `patch` (undefined fields are left alone, null clears) and appends the
   * state change with `detail` to its events, all in one SQLite transaction.
   */
  recordState(
    txnRef: string,
    state: string,
    patch: TransactionPatch = {},
    detail?: Record<string, unknown>,
  ): TransactionRow {
    return this.run(`record state ${state} of ${txnRef}`, () => {
      checkText(state, 'state', 100);
      const clean = checkPatch(patch);
      const detailJson = serializeDetail(detail, 'detail');
      return this.tx.recordState.immediate(txnRef, state, clean, detailJson, patchChanges(clean));
    });
  }

  get(txnRef: string): TransactionRow | undefined {
    return this.run('read transaction', () => this.row(txnRef));
  }

  /** The newest transaction that used `stan` (optionally of one kind): STANs wrap, so older ones may share it. */
  findByStan(stan: number, kind?: TransactionKind): TransactionRow | undefined {
    return this.run(
      'find by STAN',
      () => this.stmt.byStan.get({ stan, kind: kind ?? null }) as TransactionRow | undefined,
    );
  }

  /** The newest transaction started by this ECR request id (registers may reuse ids, so it is not unique). */
  findByEcrRequestId(id: string): TransactionRow | undefined {
    return this.run('find by ECR request id', () => this.stmt.byEcr.get(id) as TransactionRow | undefined);
  }

  /** The newest transaction with an outcome: what "reprint last receipt" prints. */
  lastReceiptCandidate(): TransactionRow | undefined {
    return this.run('find last receipt', () => this.stmt.lastWithOutcome.get() as TransactionRow | undefined);
  }

  /** Transactions without an outcome, oldest first. After a crash these are the ones recovery must settle. */
  inFlight(): TransactionRow[] {
    return this.run('list in-flight', () => this.stmt.inFlight.all() as TransactionRow[]);
  }

  /** State changes of one transaction in the order they were committed. */
  events(txnRef: string): TransactionEventRow[] {
    return this.run('list events', () =>
      (this.stmt.events.all(txnRef) as RawEvent[]).map((e) => ({
        ...e,
        detail: parseJson<Record<string, unknown>>(e.detail),
        changes: parseJson<TransactionPatch>(e.changes),
      })),
    );
  }

  list(filter: TransactionFilter = {}): TransactionRow[] {
    return this.run(
      'list transactions',
      () =>
        this.stmt.list.all({
          from: filter.from ?? null,
          to: filter.to ?? null,
          state: filter.state ?? null,
          outcome: filter.outcome ?? null,
          limit: limitParam(filter.limit),
        }) as TransactionRow[],
    );
  }

  // ---- steps of a commit opened by the journal or another store: unchecked, no SQLite transaction of their own ----

  /** @internal The row as it is now, or undefined. */
  row(txnRef: string): TransactionRow | undefined {
    return this.stmt.byRef.get(txnRef) as TransactionRow | undefined;
  }

  /** @internal Moves a transaction to `state` with a checked patch, and appends the event. */
  apply(
    ref: string,
    state: string,
    patch: TransactionPatch,
    detail: string | null,
    changes: string | null,
  ): TransactionRow {
    const row = this.row(ref);
    if (!row) throw new JournalError('unknown-transaction', `no transaction ${ref}`);
    const now = this.now();
    const params: Record<string, unknown> = { id: row.id, state, now };
    for (const field of PATCH_FIELDS) {
      const set = patch[field] !== undefined;
      params[`set_${field}`] = set ? 1 : 0;
      params[field] = set ? patch[field] : null;
    }
    this.stmt.update.run(params);
    this.stmt.insertEvent.run(row.id, now, state, detail, changes);
    return this.stmt.byRef.get(ref) as TransactionRow;
  }

  /** @internal An event that records what happened to a transaction without changing its state. */
  addEvent(ref: string, state: string, detail: Record<string, unknown>): void {
    const row = this.row(ref);
    if (!row) throw new JournalError('unknown-transaction', `no transaction ${ref}`);
    this.stmt.insertEvent.run(row.id, this.now(), state, JSON.stringify(detail), null);
  }

  /**
   * @internal A declined online-PIN attempt (55) becomes its own row, `attemptRef`, with the STAN and answer it was
   * sent and answered under; the transaction itself loses them and goes on to its next attempt under a new STAN.
   */
  splitAttempt(ref: string, attemptRef: string, anomalyCode: string | null, state: string): TransactionRow {
    const row = this.row(ref);
    if (!row) throw new JournalError('unknown-transaction', `no transaction ${ref}`);
    if (row.stan === null || row.outcome !== null)
      throw new JournalError('invalid-record', `${ref} has no attempt sent and answered to set apart`);
    const now = this.now();
    this.lazy(`INSERT INTO transactions (txn_ref, kind, state, outcome, amount, currency, stan, masked_pan, entry_mode,
        response_code, anomaly_code, receipt_status, request_mti, transmitted_at, batch_number, tip_amount, created_at,
        updated_at)
      SELECT @attemptRef, kind, 'declined', 'declined', amount, currency, stan, masked_pan, entry_mode, response_code,
        @anomalyCode, 'none', request_mti, transmitted_at, batch_number, tip_amount, created_at, @now
      FROM transactions WHERE id = @id`).run({
      attemptRef,
      anomalyCode,
      now,
      id: row.id,
    });
    this.lazy(`UPDATE transactions SET state = @state, stan = NULL, response_code = NULL, approval_code = NULL,
        rrn = NULL, anomaly_code = NULL, request_mti = NULL, transmitted_at = NULL, updated_at = @now WHERE id = @id`).run(
      { state, now, id: row.id },
    );
    const detail = JSON.stringify({ attempt: attemptRef, stan: row.stan, responseCode: row.responseCode });
    this.stmt.insertEvent.run(row.id, now, state, detail, null);
    return this.stmt.byRef.get(ref) as TransactionRow;
  }

  /** @internal The request that carried the transaction to the host (MTI and field 7): what a void names. */
  noteRequest(txnRef: string, requestMti: string, transmittedAt: number): void {
    this.stmt.request.run({ txnRef, requestMti, transmittedAt });
  }
}
