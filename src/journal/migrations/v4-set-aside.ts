/** Version 4: reversals set aside, and the queue's 'cancelled' state for advices a void overtook. */
import type Database from 'better-sqlite3';
import type { Migration } from './migration.js';

// A reversal the host refused for good stays pending (the money may still be owed) but is no longer sent: the row
// here says why, for the operator. The queue gets a 'cancelled' state (SQLite cannot alter a CHECK, so the table is
// rebuilt with its rows, ids and AUTOINCREMENT sequence kept).
const V4 = `
CREATE TABLE reversals_set_aside (
  reversal_id   INTEGER PRIMARY KEY REFERENCES reversals (id),
  response_code TEXT NOT NULL,
  reason        TEXT NOT NULL,
  at            INTEGER NOT NULL
) STRICT;

CREATE TABLE saf_queue_v4 (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  txn_ref         TEXT NOT NULL UNIQUE REFERENCES transactions (txn_ref),
  stan            INTEGER NOT NULL CHECK (stan BETWEEN 1 AND 999999),
  processing_code TEXT NOT NULL CHECK (length(processing_code) = 6 AND processing_code NOT GLOB '*[^0-9]*'),
  amount          INTEGER NOT NULL CHECK (amount >= 0),
  currency        TEXT NOT NULL,
  approval_code   TEXT NOT NULL,
  entry_mode      TEXT NOT NULL,
  masked_pan      TEXT NOT NULL,
  transmitted_at  INTEGER NOT NULL,
  terminal_id     TEXT NOT NULL,
  merchant_id     TEXT NOT NULL,
  card_blob       BLOB,
  state           TEXT NOT NULL CHECK (state IN ('queued', 'forwarded', 'set-aside', 'cancelled')),
  attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at INTEGER,
  response_code   TEXT,
  reason          TEXT,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  CHECK (state = 'queued' OR card_blob IS NULL)
) STRICT;
INSERT INTO saf_queue_v4 SELECT * FROM saf_queue;
DROP TABLE saf_queue;
ALTER TABLE saf_queue_v4 RENAME TO saf_queue;
CREATE INDEX saf_queue_queued ON saf_queue (id) WHERE state = 'queued';
`;

function migrateV4(db: Database.Database): void {
  const seq = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'saf_queue'").get() as
    | { seq: number }
    | undefined;
  db.exec(V4);
  if (seq) db.prepare("UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = 'saf_queue'").run(seq.seq);
}

export const V4_SET_ASIDE: Migration = {
  version: 4,
  description: 'reversals set aside, cancelled advices',
  up: migrateV4,
};
