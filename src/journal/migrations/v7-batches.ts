/** Version 7: settlement batches. Every transaction belongs to the batch open when it began. */
import type { Migration } from './migration.js';

// One batch is not closed at any time (open, being settled or being uploaded); closing it opens the next in the same
// commit. Totals are kept as JSON (per currency, per side: see settlement/totals.ts) so a new kind or a tip column
// changes the computation, not this table. upload_after_id: the last transaction (by id) the host acknowledged in
// the batch upload, committed per transaction, so an upload resumes after a crash without sending one twice.
const V7 = `
CREATE TABLE batches (
  number          INTEGER PRIMARY KEY CHECK (number BETWEEN 1 AND 999999),
  state           TEXT NOT NULL CHECK (state IN ('open', 'settling', 'uploading', 'closed')),
  opened_at       INTEGER NOT NULL,
  closed_at       INTEGER,
  terminal_totals TEXT,
  host_answer     TEXT,
  upload_after_id INTEGER NOT NULL DEFAULT 0,
  uploaded        INTEGER NOT NULL DEFAULT 0,
  attempts        INTEGER NOT NULL DEFAULT 0,
  reason          TEXT,
  -- Retention: the anomalies of its transactions by code, kept once they are purged, and when the purge finished.
  anomaly_summary TEXT,
  purged_at       INTEGER,
  updated_at      INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX batches_one_not_closed ON batches ((1)) WHERE state != 'closed';
ALTER TABLE transactions ADD COLUMN batch_number INTEGER CHECK (batch_number IS NULL OR batch_number BETWEEN 1 AND 999999);
CREATE INDEX transactions_batch ON transactions (batch_number, id);
-- Transactions from before batches existed belong to the first batch, the one settled first.
INSERT INTO batches (number, state, opened_at, updated_at)
  VALUES (1, 'open', coalesce((SELECT min(created_at) FROM transactions), 0), coalesce((SELECT min(created_at) FROM transactions), 0));
UPDATE transactions SET batch_number = 1;
`;

export const V7_BATCHES: Migration = {
  version: 7,
  description: 'settlement batches: the batch of each transaction, totals, the host answer and upload progress',
  up: (db) => db.exec(V7),
};
