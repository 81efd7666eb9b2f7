/**
 * Retention: a closed batch older than the retention period is purged to what its row keeps (its totals, the host's
 * answer, a summary of its anomalies by code). One step is one commit of a bounded size: first the anomaly summary,
 * then up to `limit` transactions with everything that hangs off them (events, reversals, advices, anomalies), then
 * the mark that the batch is purged. A kill at any instant leaves whole steps, and the next step goes on from what
 * the journal holds; a sale waits at most for one small commit.
 */
import type Database from 'better-sqlite3';
import { Store } from './store.js';

export type PurgeStep =
  | { kind: 'idle' }
  | { kind: 'summarized'; batch: number; anomalies: number }
  | { kind: 'deleted'; batch: number; transactions: number }
  | { kind: 'purged'; batch: number };

export class RetentionStore extends Store {
  private readonly step: Database.Transaction<(closedBefore: number, limit: number) => PurgeStep>;

  constructor(db: Database.Database, now: () => number) {
    super(db, now);
    this.step = db.transaction((closedBefore: number, limit: number): PurgeStep => {
      const batch = this.lazy(`SELECT number, anomaly_summary AS summary FROM batches
          WHERE state = 'closed' AND purged_at IS NULL AND closed_at < ? ORDER BY closed_at, number LIMIT 1`).get(
        closedBefore,
      ) as { number: number; summary: string | null } | undefined;
      if (!batch) return { kind: 'idle' };
      const n = batch.number;
      if (batch.summary === null) {
        const rows = this.lazy(`SELECT a.code AS code, count(*) AS count FROM anomalies a
            JOIN transactions t ON t.txn_ref = a.txn_ref WHERE t.batch_number = ? GROUP BY a.code ORDER BY a.code`).all(
          n,
        ) as Array<{ code: string; count: number }>;
        const summary = Object.fromEntries(rows.map((r) => [r.code, r.count]));
        this.lazy('UPDATE batches SET anomaly_summary = ?, updated_at = ? WHERE number = ?').run(
          JSON.stringify(summary),
          this.now(),
          n,
        );
        return { kind: 'summarized', batch: n, anomalies: rows.reduce((sum, r) => sum + r.count, 0) };
      }
      const chunk = `(SELECT id FROM transactions WHERE batch_number = ${Number(n)} ORDER BY id LIMIT ${Math.max(1, Math.floor(limit))})`;
      this.db.exec(`CREATE TEMP TABLE IF NOT EXISTS purge_ids (id INTEGER PRIMARY KEY, ref TEXT NOT NULL);
        DELETE FROM purge_ids;
        INSERT INTO purge_ids SELECT id, txn_ref FROM transactions WHERE id IN ${chunk};`);
      const count = (this.lazy('SELECT count(*) AS n FROM temp.purge_ids').get() as { n: number }).n;
      if (count === 0) {
        this.lazy('UPDATE batches SET purged_at = ?, updated_at = ? WHERE number = ?').run(this.now(), this.now(), n);
        return { kind: 'purged', batch: n };
      }
      this.db.exec(`
        DELETE FROM set_aside_resolutions WHERE txn_ref IN (SELECT ref FROM temp.purge_ids);
        DELETE FROM reversals_set_aside WHERE reversal_id IN
          (SELECT id FROM reversals WHERE txn_ref IN (SELECT ref FROM temp.purge_ids));
        DELETE FROM reversals WHERE txn_ref IN (SELECT ref FROM temp.purge_ids);
        DELETE FROM saf_queue WHERE txn_ref IN (SELECT ref FROM temp.purge_ids);
        DELETE FROM anomalies WHERE txn_ref IN (SELECT ref FROM temp.purge_ids);
        DELETE FROM preauths WHERE txn_ref IN (SELECT ref FROM temp.purge_ids) AND state != 'open';
        DELETE FROM transaction_events WHERE txn_id IN (SELECT id FROM temp.purge_ids);
        DELETE FROM transactions WHERE id IN (SELECT id FROM temp.purge_ids);
        DELETE FROM purge_ids;`);
      return { kind: 'deleted', batch: n, transactions: count };
    });
  }

  /** One purge step of the oldest closed batch closed before `closedBefore` (ms since the epoch). */
  purgeStep(closedBefore: number, limit = 200): PurgeStep {
    return this.run('retention purge step', () => this.step.immediate(closedBefore, limit));
  }
}
