/**
 * What the host refused for good, in one list, and support's way to resolve it. A reversal the host will not take
 * and an advice it rejected stay owed (the end of day waits for them) until someone who has settled the money with
 * the acquirer records how: one commit adds the resolution and a 'set-aside-resolved' event on the transaction.
 * The item keeps its row and state, so the journal still shows what happened.
 */
import type Database from 'better-sqlite3';
import { assertNoCardData } from '../card-data-guard.js';
import { checkText, invalid } from '../checks.js';
import { Store } from './store.js';
import type { TransactionStore } from './transactions.js';

export type SetAsideItem = 'reversal' | 'advice';

export interface SetAsideRow {
  item: SetAsideItem;
  /** The reversal's or the queued advice's id: what `resolve` names. */
  id: number;
  txnRef: string;
  stan: number;
  amount: number;
  currency: string;
  maskedPan: string | null;
  responseCode: string | null;
  reason: string | null;
  /** When the host refused it (ms since the epoch). */
  at: number;
}

/** SQL: the resolution of an item, if any (the alias of the item's table is the argument). */
export const resolvedSql = (item: SetAsideItem, alias: string) =>
  `EXISTS (SELECT 1 FROM set_aside_resolutions x WHERE x.item = '${item}' AND x.item_id = ${alias}.id)`;

const LIST = `
  SELECT 'reversal' AS item, r.id, r.txn_ref AS txnRef, r.stan, r.amount, r.currency, r.masked_pan AS maskedPan,
    s.response_code AS responseCode, s.reason, s.at
  FROM reversals_set_aside s JOIN reversals r ON r.id = s.reversal_id
  WHERE r.state = 'pending' AND NOT ${resolvedSql('reversal', 'r')}
  UNION ALL
  SELECT 'advice' AS item, q.id, q.txn_ref AS txnRef, q.stan, q.amount, q.currency, q.masked_pan AS maskedPan,
    q.response_code AS responseCode, q.reason, q.updated_at AS at
  FROM saf_queue q WHERE q.state = 'set-aside' AND NOT ${resolvedSql('advice', 'q')}
  ORDER BY at, item, id`;

export class SetAsideStore extends Store {
  private readonly resolveTx: Database.Transaction<(item: SetAsideItem, id: number, note: string) => SetAsideRow>;

  constructor(
    db: Database.Database,
    now: () => number,
    private readonly transactions: TransactionStore,
  ) {
    super(db, now);
    this.resolveTx = db.transaction((item: SetAsideItem, id: number, note: string) => {
      const row = this.list().find((r) => r.item === item && r.id === id);
      if (!row) invalid(`no ${item} ${id} is set aside and unresolved`);
      this.lazy(`INSERT INTO set_aside_resolutions (item, item_id, txn_ref, note, resolved_at)
          VALUES (?, ?, ?, ?, ?)`).run(item, id, row.txnRef, note, this.now());
      this.transactions.addEvent(row.txnRef, 'set-aside-resolved', { item, id, note });
      return row;
    });
  }

  /** Everything set aside and not yet resolved, oldest refusal first. */
  list(): SetAsideRow[] {
    return this.run('list set-aside items', () => this.lazy(LIST).all() as SetAsideRow[]);
  }

  /**
   * Support settled `item` `id` with the acquirer (a refund made by hand, a loss written off): it is no longer owed.
   * `note` says how (1–500 characters, no card data: it is journaled as given). Refused when there is no such
   * unresolved item.
   */
  resolve(item: SetAsideItem, id: number, note: string): SetAsideRow {
    return this.run(`resolve ${item} ${id}`, () => {
      if (item !== 'reversal' && item !== 'advice') invalid('item must be reversal or advice');
      if (!Number.isSafeInteger(id) || id < 1) invalid('id must be a positive integer');
      checkText(note, 'note', 500);
      if (note.trim() === '') invalid('note must say how it was resolved');
      assertNoCardData(note, 'note');
      return this.resolveTx.immediate(item, id, note);
    });
  }
}
