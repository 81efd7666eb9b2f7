/**
 * Settlement batches: the one batch not closed (open, settling, uploading) takes every transaction that begins; a
 * settlement closes it with the totals both sides agreed on and opens the next in the same commit. The upload
 * progress is committed per transaction the host acknowledged, so an upload resumes where it stopped.
 */
import type Database from 'better-sqlite3';
import { checkReason, invalid, parseJson } from '../checks.js';
import { JournalError, type TransactionKind } from '../schema.js';
import { Store, type Stmt } from './store.js';

export type BatchState = 'open' | 'settling' | 'uploading' | 'closed';
export const BATCH_STATES: readonly BatchState[] = ['open', 'settling', 'uploading', 'closed'];
export const BATCH_NUMBER_MAX = 999_999;

export interface BatchRow {
  number: number;
  state: BatchState;
  openedAt: number;
  closedAt: number | null;
  /** The totals the terminal sent (settlement/totals.ts shape), once computed. */
  terminalTotals: unknown;
  /** The host's last answer to a settlement request: its code and, when it gave them, its totals. */
  hostAnswer: unknown;
  /** The last transaction id the host acknowledged in the batch upload (0: none yet). */
  uploadAfterId: number;
  uploaded: number;
  attempts: number;
  reason: string | null;
  /** Once purged by retention: its anomalies by code, and when the purge finished. */
  anomalySummary: unknown;
  purgedAt: number | null;
  updatedAt: number;
}

/** One group of the transactions that count in a batch's totals. */
export interface BatchLine {
  currency: string;
  kind: TransactionKind;
  count: number;
  amount: number;
  /** The part of `amount` that is tips, and how many of the transactions carried one. */
  tips: number;
  tipped: number;
}

/** A transaction as the batch upload sends it: what the host needs to find it again, no card data. */
export interface UploadItem {
  id: number;
  txnRef: string;
  kind: TransactionKind;
  stan: number;
  amount: number;
  currency: string;
  approvalCode: string | null;
  rrn: string | null;
  requestMti: string | null;
  transmittedAt: number | null;
  originalStan: number | null;
  entryMode: string | null;
  createdAt: number;
}

const BATCH_COLUMNS = `number, state, opened_at AS openedAt, closed_at AS closedAt, terminal_totals AS terminalTotals,
  host_answer AS hostAnswer, upload_after_id AS uploadAfterId, uploaded, attempts, reason,
  anomaly_summary AS anomalySummary, purged_at AS purgedAt, updated_at AS updatedAt`;

type RawBatch = Omit<BatchRow, 'terminalTotals' | 'hostAnswer' | 'anomalySummary'> & {
  terminalTotals: string | null;
  hostAnswer: string | null;
  anomalySummary: string | null;
};

/**
 * What counts in a batch: approved (online or offline) transactions with a STAN, except an offline sale whose advice
 * a void cancelled before it left, and that void (neither reached the host), and an offline sale whose advice the
 * host refused (it is not in the host's books; support resolves it apart); holds move no money and are left out.
 * The amount column is named once here (a completion's and a sale's amount include their tip).
 */
const COUNTED = `t.batch_number = @number AND t.outcome IN ('approved', 'offline-approved') AND t.stan IS NOT NULL
  AND t.kind NOT IN ('preauth', 'preauth-increment', 'preauth-cancel')
  AND NOT EXISTS (SELECT 1 FROM saf_queue s WHERE s.txn_ref = t.txn_ref AND s.state IN ('cancelled', 'set-aside'))
  AND NOT (t.kind = 'void' AND EXISTS (SELECT 1 FROM saf_queue s JOIN transactions o ON o.txn_ref = s.txn_ref
    WHERE s.state = 'cancelled' AND o.stan = t.original_stan AND o.id < t.id))`;
export const COUNTED_AMOUNT_SQL = 't.amount';

function toRow(raw: RawBatch | undefined): BatchRow | undefined {
  if (!raw) return undefined;
  return {
    ...raw,
    terminalTotals: parseJson(raw.terminalTotals),
    hostAnswer: parseJson(raw.hostAnswer),
    anomalySummary: parseJson(raw.anomalySummary),
  };
}

export class BatchStore extends Store {
  private readonly stmt: Record<'current' | 'byNumber' | 'setState' | 'uploaded' | 'lines' | 'upload', Stmt>;
  private readonly tx: {
    close: Database.Transaction<(number: number, totals: string, answer: string) => BatchRow>;
  };

  constructor(db: Database.Database, now: () => number) {
    super(db, now);
    const p = (sql: string): Stmt => db.prepare(sql);
    this.stmt = {
      current: p(`SELECT ${BATCH_COLUMNS} FROM batches WHERE state != 'closed'`),
      byNumber: p(`SELECT ${BATCH_COLUMNS} FROM batches WHERE number = ?`),
      setState: p(`UPDATE batches SET state = @state, reason = @reason, updated_at = @now,
          attempts = attempts + @attempt,
          terminal_totals = coalesce(@totals, terminal_totals), host_answer = coalesce(@answer, host_answer)
        WHERE number = @number AND state != 'closed'`),
      uploaded: p(`UPDATE batches SET upload_after_id = @id, uploaded = uploaded + 1, updated_at = @now
        WHERE number = @number AND state = 'uploading' AND upload_after_id < @id`),
      lines: p(`SELECT t.currency AS currency, t.kind AS kind, count(*) AS count,
          coalesce(sum(${COUNTED_AMOUNT_SQL}), 0) AS amount, coalesce(sum(t.tip_amount), 0) AS tips,
          coalesce(sum(t.tip_amount > 0), 0) AS tipped
        FROM transactions t WHERE ${COUNTED} GROUP BY t.currency, t.kind ORDER BY t.currency, t.kind`),
      upload: p(`SELECT t.id, t.txn_ref AS txnRef, t.kind, t.stan, ${COUNTED_AMOUNT_SQL} AS amount, t.currency,
          t.approval_code AS approvalCode, t.rrn, t.request_mti AS requestMti, t.transmitted_at AS transmittedAt,
          t.original_stan AS originalStan, t.entry_mode AS entryMode, t.created_at AS createdAt
        FROM transactions t WHERE ${COUNTED} AND t.id > @after ORDER BY t.id LIMIT @limit`),
    };
    this.tx = {
      close: db.transaction((number: number, totals: string, answer: string) => {
        const now = this.now();
        const changed = this.lazy(`UPDATE batches SET state = 'closed', closed_at = ?, terminal_totals = ?,
            host_answer = ?, reason = NULL, updated_at = ? WHERE number = ? AND state != 'closed'`).run(
          now,
          totals,
          answer,
          now,
          number,
        ).changes;
        if (changed === 0) throw new JournalError('invalid-record', `batch ${number} is not open`);
        const next = number >= BATCH_NUMBER_MAX ? 1 : number + 1;
        // A wrapped number's old batch is a million settlements old: its row gives way to the new one.
        this.lazy("DELETE FROM batches WHERE number = ? AND state = 'closed'").run(next);
        this.lazy(`INSERT INTO batches (number, state, opened_at, updated_at) VALUES (?, 'open', ?, ?)`).run(
          next,
          now,
          now,
        );
        return this.byNumber(number)!;
      }),
    };
  }

  private byNumber(number: number): BatchRow | undefined {
    return toRow(this.stmt.byNumber.get(number) as RawBatch | undefined);
  }

  /** The batch transactions join now (open, or being settled or uploaded). */
  current(): BatchRow {
    return this.run('read current batch', () => {
      const row = toRow(this.stmt.current.get() as RawBatch | undefined);
      if (!row) throw new JournalError('invalid-record', 'no open batch');
      return row;
    });
  }

  get(number: number): BatchRow | undefined {
    return this.run('read batch', () => this.byNumber(number));
  }

  /** The newest `limit` batches, newest first. */
  list(limit = 100): BatchRow[] {
    return this.run('list batches', () =>
      (
        this.lazy(`SELECT ${BATCH_COLUMNS} FROM batches ORDER BY opened_at DESC, number DESC LIMIT ?`).all(
          Math.max(1, Math.min(limit, 1_000_000)),
        ) as RawBatch[]
      ).map((r) => toRow(r)!),
    );
  }

  /**
   * Moves the batch not closed to `state` ('open' again after a settlement that could not finish), with the reason
   * and, when given, the totals sent and the host's answer. `attempt` counts one more settlement request.
   */
  setState(
    number: number,
    state: Exclude<BatchState, 'closed'>,
    opts: { reason?: string; totals?: unknown; hostAnswer?: unknown; attempt?: boolean } = {},
  ): BatchRow {
    return this.run(`batch ${number} ${state}`, () => {
      if (!BATCH_STATES.includes(state) || (state as BatchState) === 'closed')
        invalid('state must be open, settling or uploading');
      if (opts.reason !== undefined) checkReason(opts.reason);
      const changed = this.stmt.setState.run({
        number,
        state,
        reason: opts.reason ?? null,
        now: this.now(),
        attempt: opts.attempt ? 1 : 0,
        totals: opts.totals === undefined ? null : JSON.stringify(opts.totals),
        answer: opts.hostAnswer === undefined ? null : JSON.stringify(opts.hostAnswer),
      }).changes;
      if (changed === 0) throw new JournalError('invalid-record', `batch ${number} is not open`);
      return this.byNumber(number)!;
    });
  }

  /** The host agreed: the batch is closed with both sides' totals and the next one opens, in one commit. */
  close(number: number, totals: unknown, hostAnswer: unknown): BatchRow {
    return this.run(`close batch ${number}`, () =>
      this.tx.close.immediate(number, JSON.stringify(totals), JSON.stringify(hostAnswer)),
    );
  }

  /** The groups (currency, kind) of what counts in the batch's totals. */
  lines(number: number): BatchLine[] {
    return this.run('batch totals', () => this.stmt.lines.all({ number }) as BatchLine[]);
  }

  /** Reversals the host acknowledged for transactions of the batch, per currency: they net out of the totals. */
  reversalLines(number: number): Array<{ currency: string; count: number; amount: number }> {
    return this.run(
      'batch reversals',
      () =>
        this.lazy(`SELECT t.currency AS currency, count(*) AS count, coalesce(sum(r.amount), 0) AS amount
          FROM reversals r JOIN transactions t ON t.txn_ref = r.txn_ref
          WHERE t.batch_number = ? AND r.state = 'acknowledged' GROUP BY t.currency ORDER BY t.currency`).all(
          number,
        ) as Array<{ currency: string; count: number; amount: number }>,
    );
  }

  /** The next transactions to upload, after the last one the host acknowledged. */
  uploadItems(number: number, afterId: number, limit = 500): UploadItem[] {
    return this.run(
      'batch upload items',
      () => this.stmt.upload.all({ number, after: afterId, limit }) as UploadItem[],
    );
  }

  /** The host acknowledged the upload of transaction `id`: committed before the next one leaves. */
  recordUploaded(number: number, id: number): void {
    this.run(`batch ${number} uploaded ${id}`, () => {
      this.stmt.uploaded.run({ number, id, now: this.now() });
    });
  }

  /** Transactions of a batch (for the merchant's export), oldest first. */
  transactionRefs(number: number): string[] {
    return this.run('batch transactions', () =>
      (
        this.lazy('SELECT txn_ref AS txnRef FROM transactions WHERE batch_number = ? ORDER BY id').all(number) as {
          txnRef: string;
        }[]
      ).map((r) => r.txnRef),
    );
  }
}
