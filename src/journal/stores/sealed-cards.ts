/**
 * What the card vault left in the journal: rows holding sealed card data, and the check value of the key that sealed
 * them, so a boot with the wrong key is caught before an advice or a reversal is sent with unreadable card data.
 */
import type Database from 'better-sqlite3';
import { invalid } from '../checks.js';
import { Store, type Stmt } from './store.js';

/** A card sealed by the card vault, as the journal holds it: the blob and what it is bound to (its txnRef). */
export interface SealedCard {
  txnRef: string;
  blob: Buffer;
}

export class SealedCardStore extends Store {
  private readonly stmt: Record<'safCount' | 'safOldest' | 'keyCheck' | 'setKeyCheck', Stmt>;

  constructor(db: Database.Database, now: () => number) {
    super(db, now);
    this.stmt = {
      keyCheck: db.prepare("SELECT value FROM counters WHERE name = 'vault_kcv'"),
      setKeyCheck: db.prepare(
        "INSERT INTO counters (name, value) VALUES ('vault_kcv', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
      ),
      safCount: db.prepare('SELECT count(*) AS n FROM saf_queue WHERE card_blob IS NOT NULL'),
      safOldest: db.prepare(
        'SELECT txn_ref AS txnRef, card_blob AS blob FROM saf_queue WHERE card_blob IS NOT NULL ORDER BY id LIMIT 1',
      ),
    };
  }

  /** Rows holding card data sealed by the card vault: queued offline sales, and reversals if they carry a blob. */
  count(): number {
    return this.run('count sealed card data', () => {
      let n = (this.stmt.safCount.get() as { n: number }).n;
      // Reversals may carry a sealed card too (a BLOB column); counted whatever its name.
      const blobs = this.db
        .prepare("SELECT name FROM pragma_table_info('reversals') WHERE upper(type) = 'BLOB'")
        .all() as { name: string }[];
      for (const { name } of blobs) {
        n += (
          this.db
            .prepare(`SELECT count(*) AS n FROM reversals WHERE "${name.replace(/"/g, '""')}" IS NOT NULL`)
            .get() as { n: number }
        ).n;
      }
      return n;
    });
  }

  /** The oldest queued offline sale's sealed card: what the boot check opens to prove the key is the right one. */
  oldest(): SealedCard | undefined {
    return this.run('read oldest sealed card', () => this.stmt.safOldest.get() as SealedCard | undefined);
  }

  /** The card vault's key check value for the key the sealed rows were sealed with (see CardVault.keyCheckValue). */
  keyCheck(): number | undefined {
    return this.run('read vault key check', () => (this.stmt.keyCheck.get() as { value: number } | undefined)?.value);
  }

  setKeyCheck(value: number): void {
    if (!Number.isSafeInteger(value) || value < 0) invalid('vault key check must be a non-negative integer');
    this.run('write vault key check', () => this.stmt.setKeyCheck.run(value));
  }
}
