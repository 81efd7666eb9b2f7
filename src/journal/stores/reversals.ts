/**
 * Pre-stored reversals: one per transaction, committed before its request leaves the terminal. armed (the request
 * may be on its way) -> cleared (answered, or never sent) or pending (owed to the host) -> acknowledged. A pending
 * reversal the host refuses for good is set aside: still owed, no longer sent, shown to the operator.
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
import { JournalError, type ReversalRow, type ReversalSetAsideRow } from '../schema.js';
import { resolvedSql } from './set-aside.js';
import { Store, type Stmt } from './store.js';
import type { TransactionStore } from './transactions.js';

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

const REVERSAL_COLUMNS = `id, txn_ref AS txnRef, stan, original_mti AS originalMti, processing_code AS processingCode, amount,
  currency, transmitted_at AS transmittedAt, terminal_id AS terminalId, merchant_id AS merchantId, masked_pan AS maskedPan,
  pos_entry_mode AS posEntryMode, acquiring_institution_id AS acquiringInstitutionId,
  forwarding_institution_id AS forwardingInstitutionId, card_blob AS cardBlob, reason_code AS reasonCode, state, attempts, next_attempt_at AS nextAttemptAt, reason, response_code AS responseCode, created_at AS createdAt,
  updated_at AS updatedAt`;

export class ReversalStore extends Store {
  private readonly stmt: Record<
    'insert' | 'byRef' | 'byId' | 'armed' | 'pending' | 'clear' | 'pend' | 'attempt' | 'ack',
    Stmt
  >;
  private readonly tx: {
    arm: Database.Transaction<(r: ArmReversalInput) => ReversalRow>;
    release: Database.Transaction<(ref: string, reason: string) => void>;
    markPending: Database.Transaction<
      (ref: string, reason: string, reasonCode: string | null, originalAnswer: string | null) => ReversalRow
    >;
    attempt: Database.Transaction<(id: number, a: AttemptInput) => void>;
    acknowledge: Database.Transaction<(id: number, responseCode: string) => ReversalRow>;
    setAside: Database.Transaction<(id: number, responseCode: string, reason: string) => void>;
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
        p(`INSERT INTO reversals (txn_ref, stan, original_mti, processing_code, amount, currency, transmitted_at, terminal_id,
          merchant_id, masked_pan, pos_entry_mode, acquiring_institution_id, forwarding_institution_id, card_blob, state, created_at, updated_at)
        VALUES (@txnRef, @stan, @originalMti, @processingCode, @amount, @currency, @transmittedAt, @terminalId, @merchantId,
          @maskedPan, @posEntryMode, @acquiringInstitutionId, @forwardingInstitutionId, @cardBlob, 'armed', @now, @now) RETURNING ${REVERSAL_COLUMNS}`),
      byRef: p(`SELECT ${REVERSAL_COLUMNS} FROM reversals WHERE txn_ref = ?`),
      byId: p(`SELECT ${REVERSAL_COLUMNS} FROM reversals WHERE id = ?`),
      armed: p(`SELECT ${REVERSAL_COLUMNS} FROM reversals WHERE state = 'armed' ORDER BY id`),
      // A reversal set aside stays pending (still owed) but is not sent again.
      pending: p(`SELECT ${REVERSAL_COLUMNS} FROM reversals WHERE state = 'pending'
        AND id NOT IN (SELECT reversal_id FROM reversals_set_aside) ORDER BY id`),
      // Card data goes with the armed and pending states: a settled reversal keeps none.
      clear:
        p(`UPDATE reversals SET state = 'cleared', reason = @reason, response_code = @responseCode, card_blob = NULL, updated_at = @now
        WHERE txn_ref = @txnRef AND state = 'armed'`),
      pend: p(`UPDATE reversals SET state = 'pending', reason = @reason, reason_code = @reasonCode, next_attempt_at = NULL, updated_at = @now
        WHERE txn_ref = @txnRef AND state = 'armed'`),
      attempt:
        p(`UPDATE reversals SET attempts = @attempts, next_attempt_at = @nextAttemptAt, reason = @reason, updated_at = @now
        WHERE id = @id AND state = 'pending'`),
      ack: p(`UPDATE reversals SET state = 'acknowledged', response_code = @responseCode, next_attempt_at = NULL, card_blob = NULL,
          updated_at = @now WHERE id = @id AND state = 'pending'`),
    };

    this.tx = {
      arm: db.transaction((r: ArmReversalInput) => {
        if (!this.transactions.row(r.txnRef))
          throw new JournalError('unknown-transaction', `no transaction ${r.txnRef}`);
        if (this.stmt.byRef.get(r.txnRef))
          throw new JournalError('duplicate-reference', `a reversal is already stored for ${r.txnRef}`);
        const row = this.stmt.insert.get({
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
      release: db.transaction((ref: string, reason: string) => this.clearArmed(ref, reason, null)),
      markPending: db.transaction(
        (ref: string, reason: string, reasonCode: string | null, originalAnswer: string | null) => {
          const armed = this.stmt.byRef.get(ref) as ReversalRow | undefined;
          this.stmt.pend.run({ txnRef: ref, reason, reasonCode, now: this.now() });
          if (originalAnswer !== null && armed?.state === 'armed') {
            this.lazy(`UPDATE reversals SET response_code = ? WHERE txn_ref = ? AND state = 'pending'`).run(
              originalAnswer,
              ref,
            );
          }
          const row = this.stmt.byRef.get(ref) as ReversalRow | undefined;
          if (!row) throw new JournalError('unknown-transaction', `no reversal stored for ${ref}`);
          return row;
        },
      ),
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
      acknowledge: db.transaction((id: number, responseCode: string) => {
        const before = this.byId(id);
        // A repeated acknowledgement (a duplicate answer) changes nothing.
        if (before.state === 'acknowledged') return before;
        if (before.state !== 'pending')
          throw new JournalError('invalid-record', `reversal ${id} is ${before.state}, not pending`);
        this.stmt.ack.run({ id, responseCode, now: this.now() });
        this.transactions.addEvent(before.txnRef, 'reversed', { responseCode });
        return this.byId(id);
      }),
      setAside: db.transaction((id: number, responseCode: string, reason: string) => {
        const row = this.stmt.byId.get(id) as ReversalRow | undefined;
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
      }),
    };
  }

  private byId(id: number): ReversalRow {
    const row = this.stmt.byId.get(id) as ReversalRow | undefined;
    if (!row) throw new JournalError('unknown-transaction', `no reversal ${id}`);
    return row;
  }

  /** Commits an armed reversal; call it before the authorization request leaves the terminal. */
  arm(r: ArmReversalInput): ReversalRow {
    return this.run(`arm reversal for ${String(r?.txnRef)}`, () => {
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
      return this.tx.arm.immediate(input);
    });
  }

  /** The request never left the terminal: armed -> cleared, with the reason. No-op if not armed. */
  release(txnRef: string, reason: string): void {
    this.run(`release reversal for ${txnRef}`, () => {
      checkReason(reason);
      this.tx.release.immediate(txnRef, reason);
    });
  }

  /**
   * The host may have the request: armed -> pending (owed). `reasonCode` is the reversal's field 39 (two letters or
   * digits, see REVERSAL_REASON); absent, the forwarder sends its default. `originalAnswer`: the host answered the
   * original with this code but the terminal could not take the answer (kept on the row: a reversal of an answered
   * original cannot be settled by "original not found"). Returns the row (also when it was already pending; in any
   * other state it is returned unchanged, so the caller can see nothing is owed).
   */
  markPending(
    txnRef: string,
    reason: string,
    opts: { reasonCode?: string | undefined; originalAnswer?: string | undefined } = {},
  ): ReversalRow {
    return this.run(`mark reversal pending for ${txnRef}`, () => {
      checkReason(reason);
      const { reasonCode, originalAnswer } = opts;
      if (reasonCode !== undefined && (typeof reasonCode !== 'string' || !/^[0-9A-Z]{2}$/.test(reasonCode)))
        invalid('reasonCode must be 2 digits or capital letters');
      if (originalAnswer !== undefined) checkResponseCode(originalAnswer);
      return this.tx.markPending.immediate(txnRef, reason, reasonCode ?? null, originalAnswer ?? null);
    });
  }

  forTransaction(txnRef: string): ReversalRow | undefined {
    return this.run('read reversal', () => this.stmt.byRef.get(txnRef) as ReversalRow | undefined);
  }

  /** Crash recovery: requests that may or may not have left the terminal, oldest first. */
  armed(): ReversalRow[] {
    return this.run('list armed reversals', () => this.stmt.armed.all() as ReversalRow[]);
  }

  /** Reversals owed to the host, in the order they must be sent. */
  pending(): ReversalRow[] {
    return this.run('list pending reversals', () => this.stmt.pending.all() as ReversalRow[]);
  }

  /** Records a failed send of a pending reversal; ignored once it is no longer pending. */
  recordAttempt(id: number, a: AttemptInput): void {
    this.run(`record attempt of reversal ${id}`, () => {
      checkAttempt(a);
      this.tx.attempt.immediate(id, a);
    });
  }

  /**
   * The host acknowledged the reversal (any response): pending -> acknowledged, plus a 'reversed' event (detail
   * {responseCode}) on its transaction. The transaction's own state is left to the transaction flow.
   */
  acknowledge(id: number, responseCode: string): ReversalRow {
    return this.run(`acknowledge reversal ${id}`, () => {
      checkResponseCode(responseCode);
      return this.tx.acknowledge.immediate(id, responseCode);
    });
  }

  /**
   * The host refused a pending reversal for good: it stays pending (the cardholder may still be owed the money) but
   * is no longer sent; a 'reversal-set-aside' event says why. No-op unless pending.
   */
  setAside(id: number, responseCode: string, reason: string): void {
    this.run(`set aside reversal ${id}`, () => {
      checkResponseCode(responseCode);
      checkReason(reason);
      this.tx.setAside.immediate(id, responseCode, reason);
    });
  }

  /** Pending reversals the host refused for good, oldest first: money the operator must settle with the acquirer. */
  listSetAside(): ReversalSetAsideRow[] {
    return this.run(
      'list reversals set aside',
      () =>
        this.lazy(`SELECT r.id AS reversalId, r.txn_ref AS txnRef, r.stan, r.amount, r.currency, r.masked_pan AS maskedPan,
          s.response_code AS responseCode, s.reason, s.at
        FROM reversals_set_aside s JOIN reversals r ON r.id = s.reversal_id
        WHERE r.state = 'pending' AND NOT ${resolvedSql('reversal', 'r')} ORDER BY s.at, r.id`).all() as ReversalSetAsideRow[],
    );
  }

  /** Reversals set aside and still pending: how many, and their total in minor units. */
  setAsideTotal(): { count: number; total: number } {
    return this.run(
      'set-aside totals',
      () =>
        this.lazy(`SELECT count(*) AS count, coalesce(sum(r.amount), 0) AS total FROM reversals_set_aside s
        JOIN reversals r ON r.id = s.reversal_id WHERE r.state = 'pending' AND NOT ${resolvedSql('reversal', 'r')}`).get() as {
          count: number;
          total: number;
        },
    );
  }

  // ---- steps of a commit the journal opens: unchecked, no SQLite transaction of their own ----

  /** @internal The host answered (or the request never left): armed -> cleared. A pending one stays owed. */
  /** @internal The settled reversal of a declined attempt follows it to the attempt's own row. */
  moveSettled(txnRef: string, attemptRef: string): void {
    const row = this.stmt.byRef.get(txnRef) as ReversalRow | undefined;
    if (row && (row.state === 'armed' || row.state === 'pending'))
      throw new JournalError('invalid-record', `the reversal of ${txnRef} is still ${row.state}`);
    this.lazy('UPDATE reversals SET txn_ref = ? WHERE txn_ref = ?').run(attemptRef, txnRef);
  }

  clearArmed(txnRef: string, reason: string, responseCode: string | null): void {
    this.stmt.clear.run({ txnRef, reason, responseCode, now: this.now() });
  }

  /** @internal A partial approval: the armed reversal now undoes what the host approved, not what was asked. */
  setArmedAmount(txnRef: string, amount: number, responseCode: string | null): void {
    this.lazy(
      `UPDATE reversals SET amount = ?, response_code = ?, updated_at = ? WHERE txn_ref = ? AND state = 'armed'`,
    ).run(amount, responseCode, this.now(), txnRef);
  }
}
