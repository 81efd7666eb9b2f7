/**
 * Pre-authorization holds: open (the host holds money on the card, none has moved) until one completion captures it,
 * a cancel or the expiry releases it. A hold is closed once: the close is conditional on the row being open, so a
 * second completion finds it closed and is refused. Card-not-present advices (a completion, a tip adjust) are queued
 * here in the store-and-forward queue without card data: they name their original instead (field 90, 37, 38).
 */
import type Database from 'better-sqlite3';
import { assertNoCardData } from '../card-data-guard.js';
import {
  type MessageFacts,
  checkAmount,
  checkCurrency,
  checkDigits,
  checkMessageFacts,
  checkStan,
  checkText,
  checkTime,
  invalid,
} from '../checks.js';
import { JournalError, type TransactionRow } from '../schema.js';
import { Store } from './store.js';
import type { TransactionStore } from './transactions.js';

export const PREAUTH_STATES = ['open', 'completed', 'cancelled', 'expired'] as const;
export type PreauthState = (typeof PREAUTH_STATES)[number];

export interface PreauthRow {
  /** The pre-authorization's transaction, which is also the id the register completes it by. */
  txnRef: string;
  stan: number;
  currency: string;
  /** What the host holds: the pre-authorization and its approved increments, minor units. */
  heldAmount: number;
  state: PreauthState;
  expiresAt: number;
  closedBy: string | null;
  closedAt: number | null;
  createdAt: number;
  updatedAt: number;
}

/** A card-not-present advice: the facts of its 0220 (no card data; the original is named by the transaction). */
export type ReferenceAdviceItem = {
  stan: number;
  processingCode: string;
  amount: number;
  currency: string;
  approvalCode: string;
  maskedPan: string;
  transmittedAt: number;
  terminalId: string;
  merchantId: string;
} & MessageFacts;

/** What a card-not-present advice names: its original's request and answer, and the tip it carries. */
export interface AdviceReference {
  original: { mti: string; stan: number; transmittedAt?: number; rrn?: string; approvalCode?: string };
  tipAmount: number;
}

const COLUMNS = `txn_ref AS txnRef, stan, currency, held_amount AS heldAmount, state, expires_at AS expiresAt,
  closed_by AS closedBy, closed_at AS closedAt, created_at AS createdAt, updated_at AS updatedAt`;

/** The advice MTI a completion or tip adjust reaches the host with. */
const ADVICE_MTI = '0220';

export class PreauthStore extends Store {
  constructor(
    db: Database.Database,
    now: () => number,
    private readonly transactions: TransactionStore,
  ) {
    super(db, now);
  }

  /** The hold of this pre-authorization (its txnRef), in whatever state. */
  get(txnRef: string): PreauthRow | undefined {
    return this.run('read pre-authorization', () => this.row(txnRef));
  }

  /** Open holds whose expiry has come, oldest first. */
  dueForExpiry(now: number, limit = 50): PreauthRow[] {
    return this.run(
      'list expired pre-authorizations',
      () =>
        this.lazy(
          `SELECT ${COLUMNS} FROM preauths WHERE state = 'open' AND expires_at <= ? ORDER BY expires_at LIMIT ?`,
        ).all(now, limit) as PreauthRow[],
    );
  }

  /** Open holds, oldest first. */
  listOpen(): PreauthRow[] {
    return this.run(
      'list open pre-authorizations',
      () => this.lazy(`SELECT ${COLUMNS} FROM preauths WHERE state = 'open' ORDER BY created_at`).all() as PreauthRow[],
    );
  }

  /**
   * What a card-not-present advice of this transaction names (a completion its pre-authorization, a tip adjust its
   * sale); undefined for any other transaction.
   */
  referenceOf(txnRef: string): AdviceReference | undefined {
    return this.run('read advice reference', () => {
      const row = this.transactions.row(txnRef);
      if (!row || (row.kind !== 'completion' && row.kind !== 'tip-adjust') || row.originalStan === null)
        return undefined;
      const original = this.lazy(
        `SELECT stan, request_mti AS requestMti, transmitted_at AS transmittedAt, rrn, approval_code AS approvalCode
         FROM transactions WHERE stan = ? AND kind = ? ORDER BY id DESC LIMIT 1`,
      ).get(row.originalStan, row.kind === 'completion' ? 'preauth' : 'sale') as
        | Pick<TransactionRow, 'stan' | 'requestMti' | 'transmittedAt' | 'rrn' | 'approvalCode'>
        | undefined;
      if (!original) return undefined;
      return {
        original: {
          mti: original.requestMti ?? (row.kind === 'completion' ? '0100' : '0200'),
          stan: row.originalStan,
          ...(original.transmittedAt !== null ? { transmittedAt: original.transmittedAt } : {}),
          ...(original.rrn !== null ? { rrn: original.rrn } : {}),
          ...(original.approvalCode !== null ? { approvalCode: original.approvalCode } : {}),
        },
        tipAmount: row.tipAmount,
      };
    });
  }

  // ---- steps of a commit the caller opens (Journal.batch): checked, no SQLite transaction of their own ----

  /** The host approved a pre-authorization: its hold opens. */
  open(input: { txnRef: string; stan: number; currency: string; heldAmount: number; expiresAt: number }): PreauthRow {
    return this.run(`open pre-authorization ${input.txnRef}`, () => {
      checkText(input.txnRef, 'txnRef', 100);
      checkStan(input.stan, 'stan');
      checkCurrency(input.currency, 'currency');
      checkAmount(input.heldAmount, 'heldAmount');
      checkTime(input.expiresAt, 'expiresAt');
      const now = this.now();
      this.lazy(`INSERT INTO preauths (txn_ref, stan, currency, held_amount, state, expires_at, created_at, updated_at)
        VALUES (?, ?, ?, ?, 'open', ?, ?, ?)`).run(
        input.txnRef,
        input.stan,
        input.currency,
        input.heldAmount,
        input.expiresAt,
        now,
        now,
      );
      this.transactions.addEvent(input.txnRef, 'hold-opened', { heldAmount: input.heldAmount });
      return this.row(input.txnRef)!;
    });
  }

  /** An approved increment adds to an open hold. */
  addToHold(txnRef: string, amount: number, by: string): PreauthRow {
    return this.run(`add to pre-authorization ${txnRef}`, () => {
      checkAmount(amount, 'amount');
      const changed = this.lazy(
        `UPDATE preauths SET held_amount = held_amount + ?, updated_at = ? WHERE txn_ref = ? AND state = 'open'`,
      ).run(amount, this.now(), txnRef).changes;
      if (changed === 0) throw new JournalError('invalid-record', `pre-authorization ${txnRef} is not open`);
      const row = this.row(txnRef)!;
      this.transactions.addEvent(txnRef, 'hold-increased', { amount, heldAmount: row.heldAmount, by });
      return row;
    });
  }

  /** Closes an open hold (completed, cancelled, expired) by the transaction `by`; refused unless it is open. */
  close(txnRef: string, state: Exclude<PreauthState, 'open'>, by: string): PreauthRow {
    return this.run(`close pre-authorization ${txnRef}`, () => {
      if (!PREAUTH_STATES.includes(state) || (state as string) === 'open')
        invalid('state must be completed, cancelled or expired');
      checkText(by, 'by', 100);
      const now = this.now();
      const changed = this.lazy(
        `UPDATE preauths SET state = ?, closed_by = ?, closed_at = ?, updated_at = ? WHERE txn_ref = ? AND state = 'open'`,
      ).run(state, by, now, now, txnRef).changes;
      if (changed === 0) throw new JournalError('invalid-record', `pre-authorization ${txnRef} is not open`);
      this.transactions.addEvent(txnRef, `hold-${state}`, { by });
      return this.row(txnRef)!;
    });
  }

  /** Queues a card-not-present advice (no card data) for the forwarder, in the store-and-forward queue's order. */
  enqueueAdvice(txnRef: string, item: ReferenceAdviceItem): void {
    this.run(`queue advice of ${txnRef}`, () => {
      checkStan(item.stan, 'stan');
      checkDigits(item.processingCode, 6, 'processingCode');
      checkAmount(item.amount, 'amount');
      checkCurrency(item.currency, 'currency');
      checkText(item.approvalCode, 'approvalCode', 20);
      checkText(item.maskedPan, 'maskedPan', 19);
      checkTime(item.transmittedAt, 'transmittedAt');
      checkMessageFacts(item);
      assertNoCardData(item, 'advice');
      const now = this.now();
      this.lazy(`INSERT INTO saf_queue (txn_ref, stan, processing_code, amount, currency, approval_code, entry_mode,
          masked_pan, transmitted_at, terminal_id, merchant_id, pos_entry_mode, acquiring_institution_id,
          forwarding_institution_id, card_blob, state, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, 'card-not-present', ?, ?, ?, ?, ?, ?, ?, NULL, 'queued', ?, ?)`).run(
        txnRef,
        item.stan,
        item.processingCode,
        item.amount,
        item.currency,
        item.approvalCode,
        item.maskedPan,
        item.transmittedAt,
        item.terminalId,
        item.merchantId,
        item.posEntryMode ?? null,
        item.acquiringInstitutionId ?? null,
        item.forwardingInstitutionId ?? null,
        now,
        now,
      );
      this.transactions.noteRequest(txnRef, ADVICE_MTI, item.transmittedAt);
    });
  }

  private row(txnRef: string): PreauthRow | undefined {
    return this.lazy(`SELECT ${COLUMNS} FROM preauths WHERE txn_ref = ?`).get(txnRef) as PreauthRow | undefined;
  }
}
