/**
 * The store-and-forward queue: offline approvals waiting to reach the host as advices, in id order. queued ->
 * forwarded (the host has it) or set-aside (the host rejected it; the queue moves on) or cancelled (a void came
 * before it ever left). Card data, sealed by the card vault, is kept only while an advice is queued.
 */
import type Database from 'better-sqlite3';
import { assertMaskedPan, assertNoCardData } from '../card-data-guard.js';
import {
  type AttemptInput,
  type MessageFacts,
  checkAmount,
  checkAttempt,
  checkCardBlob,
  checkCurrency,
  checkDigits,
  checkMessageFacts,
  checkReason,
  checkResponseCode,
  checkStan,
  checkText,
  checkTime,
  invalid,
} from '../checks.js';
import { JournalError, type SafRow } from '../schema.js';
import { resolvedSql } from './set-aside.js';
import { Store, type Stmt } from './store.js';
import type { TransactionStore } from './transactions.js';

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

/** The advice MTI: an offline approval reaches the host (and a void names it) as a 0220. */
const ADVICE_MTI = '0220';

const SAF_COLUMNS = `id, txn_ref AS txnRef, stan, processing_code AS processingCode, amount, currency, approval_code AS approvalCode,
  entry_mode AS entryMode, masked_pan AS maskedPan, transmitted_at AS transmittedAt, terminal_id AS terminalId,
  merchant_id AS merchantId, pos_entry_mode AS posEntryMode, acquiring_institution_id AS acquiringInstitutionId,
  forwarding_institution_id AS forwardingInstitutionId, card_blob AS cardBlob, state, attempts, next_attempt_at AS nextAttemptAt,
  response_code AS responseCode, reason, created_at AS createdAt, updated_at AS updatedAt`;

export function checkOfflineApprovalItem(item: OfflineApprovalItem): void {
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
}

export class SafStore extends Store {
  private readonly stmt: Record<'insert' | 'byId' | 'queued' | 'stats' | 'attempt' | 'settle', Stmt>;
  private readonly tx: {
    attempt: Database.Transaction<(id: number, a: AttemptInput) => void>;
    settle: Database.Transaction<
      (id: number, to: 'forwarded' | 'set-aside', event: string, responseCode: string, reason: string | null) => SafRow
    >;
  };

  constructor(
    db: Database.Database,
    now: () => number,
    private readonly transactions: TransactionStore,
  ) {
    super(db, now);
    const p = (sql: string): Stmt => db.prepare(sql);
    this.stmt = {
      insert:
        p(`INSERT INTO saf_queue (txn_ref, stan, processing_code, amount, currency, approval_code, entry_mode, masked_pan,
          transmitted_at, terminal_id, merchant_id, pos_entry_mode, acquiring_institution_id, forwarding_institution_id, card_blob, state,
          created_at, updated_at)
        VALUES (@txnRef, @stan, @processingCode, @amount, @currency, @approvalCode, @entryMode, @maskedPan, @transmittedAt,
          @terminalId, @merchantId, @posEntryMode, @acquiringInstitutionId, @forwardingInstitutionId, @cardBlob, 'queued', @now, @now)
        RETURNING ${SAF_COLUMNS}`),
      byId: p(`SELECT ${SAF_COLUMNS} FROM saf_queue WHERE id = ?`),
      queued: p(`SELECT ${SAF_COLUMNS} FROM saf_queue WHERE state = 'queued' ORDER BY id LIMIT ?`),
      stats: p(`SELECT count(*) AS count, coalesce(sum(amount), 0) AS total, min(created_at) AS oldestAt
        FROM saf_queue WHERE state = 'queued'`),
      attempt:
        p(`UPDATE saf_queue SET attempts = @attempts, next_attempt_at = @nextAttemptAt, reason = @reason, updated_at = @now
        WHERE id = @id AND state = 'queued'`),
      // The card blob goes with the queued state: once the host has answered, card data has no reason to stay.
      settle: p(`UPDATE saf_queue SET state = @to, card_blob = NULL, response_code = @responseCode,
          reason = coalesce(@reason, reason), next_attempt_at = NULL, updated_at = @now
        WHERE id = @id AND state = 'queued'`),
    };
    this.tx = {
      attempt: db.transaction((id: number, a: AttemptInput) => {
        this.byId(id);
        this.stmt.attempt.run({
          id,
          attempts: a.attempts,
          nextAttemptAt: a.nextAttemptAt,
          reason: a.reason,
          now: this.now(),
        });
      }),
      settle: db.transaction(
        (id: number, to: 'forwarded' | 'set-aside', event: string, responseCode: string, reason: string | null) => {
          const before = this.byId(id);
          // A repeated answer for an item already settled the same way changes nothing.
          if (before.state === to) return before;
          if (before.state !== 'queued')
            throw new JournalError('invalid-record', `store-and-forward item ${id} is ${before.state}, not queued`);
          this.stmt.settle.run({ id, to, responseCode, reason, now: this.now() });
          this.transactions.addEvent(
            before.txnRef,
            event,
            reason === null ? { responseCode } : { responseCode, reason },
          );
          return this.byId(id);
        },
      ),
    };
  }

  private byId(id: number): SafRow {
    const row = this.stmt.byId.get(id) as SafRow | undefined;
    if (!row) throw new JournalError('unknown-transaction', `no store-and-forward item ${id}`);
    return row;
  }

  /** Queued items in forwarding order (the first `limit` of them). */
  queue(limit: number = Number.MAX_SAFE_INTEGER): SafRow[] {
    return this.run('list store-and-forward queue', () => this.stmt.queued.all(limit) as SafRow[]);
  }

  /** Of queued items: how many, their total in minor units, and when the oldest was queued. */
  stats(): { count: number; total: number; oldestAt: number | null } {
    return this.run(
      'store-and-forward stats',
      () => this.stmt.stats.get() as { count: number; total: number; oldestAt: number | null },
    );
  }

  item(id: number): SafRow | undefined {
    return this.run('read store-and-forward item', () => this.stmt.byId.get(id) as SafRow | undefined);
  }

  /** The advice of an offline sale, in whatever state (a void must not overtake one still queued). */
  forTransaction(txnRef: string): SafRow | undefined {
    return this.run(
      'read advice',
      () => this.lazy(`SELECT ${SAF_COLUMNS} FROM saf_queue WHERE txn_ref = ?`).get(txnRef) as SafRow | undefined,
    );
  }

  /** Records a failed send of a queued advice; ignored once the item is no longer queued. */
  recordAttempt(id: number, a: AttemptInput): void {
    this.run(`record attempt of store-and-forward item ${id}`, () => {
      checkAttempt(a);
      this.tx.attempt.immediate(id, a);
    });
  }

  /** Host acknowledged the advice: queued -> forwarded, card blob dropped, 'forwarded' event on the transaction. */
  complete(id: number, responseCode: string): SafRow {
    return this.run(`complete store-and-forward item ${id}`, () => {
      checkResponseCode(responseCode);
      return this.tx.settle.immediate(id, 'forwarded', 'forwarded', responseCode, null);
    });
  }

  /** Host rejected the advice: queued -> set-aside, card blob dropped, 'advice-rejected' event. The queue moves on. */
  setAside(id: number, responseCode: string, reason: string): SafRow {
    return this.run(`set aside store-and-forward item ${id}`, () => {
      checkResponseCode(responseCode);
      checkReason(reason);
      return this.tx.settle.immediate(id, 'set-aside', 'advice-rejected', responseCode, reason);
    });
  }

  /** Advices the host rejected: how many, and their total in minor units. */
  setAsideTotal(): { count: number; total: number } {
    return this.run(
      'set-aside totals',
      () =>
        this.lazy(
          `SELECT count(*) AS count, coalesce(sum(q.amount), 0) AS total FROM saf_queue q
            WHERE q.state = 'set-aside' AND NOT ${resolvedSql('advice', 'q')}`,
        ).get() as { count: number; total: number },
    );
  }

  // ---- steps of a commit the journal opens: unchecked, no SQLite transaction of their own ----

  /** @internal Queues the advice of an offline approval (checked by checkOfflineApprovalItem). */
  enqueue(txnRef: string, item: OfflineApprovalItem): SafRow {
    const saf = this.stmt.insert.get({
      txnRef,
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
    this.transactions.noteRequest(txnRef, ADVICE_MTI, item.transmittedAt);
    return saf;
  }

  /**
   * @internal A void overtakes an advice that never left: queued -> cancelled, card data dropped, 'advice-cancelled'
   * on the sale. Refused unless the advice is queued and was never attempted. Returns the cancelled item as it was.
   */
  cancelForVoid(safId: number, voidTxnRef: string): SafRow {
    const item = this.stmt.byId.get(safId) as SafRow | undefined;
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
    return item;
  }
}
