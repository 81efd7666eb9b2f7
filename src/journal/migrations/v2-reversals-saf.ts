/** Version 2: pre-stored reversals and the store-and-forward queue. */
import type { Migration } from './migration.js';

// One reversal per transaction. Rows are kept after they settle: nothing is deleted before the host has it, and the
// history shows why a reversal was or was not sent.
const V2 = `
CREATE TABLE reversals (
  id              INTEGER PRIMARY KEY,
  txn_ref         TEXT NOT NULL UNIQUE REFERENCES transactions (txn_ref),
  stan            INTEGER NOT NULL CHECK (stan BETWEEN 1 AND 999999),
  original_mti    TEXT NOT NULL CHECK (length(original_mti) = 4 AND original_mti NOT GLOB '*[^0-9]*'),
  processing_code TEXT NOT NULL CHECK (length(processing_code) = 6 AND processing_code NOT GLOB '*[^0-9]*'),
  amount          INTEGER NOT NULL CHECK (amount >= 0),
  currency        TEXT NOT NULL,
  transmitted_at  INTEGER NOT NULL,
  terminal_id     TEXT NOT NULL,
  merchant_id     TEXT NOT NULL,
  masked_pan      TEXT,
  state           TEXT NOT NULL CHECK (state IN ('armed', 'pending', 'acknowledged', 'cleared')),
  attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at INTEGER,
  reason          TEXT,
  response_code   TEXT,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL
) STRICT;
-- Boot and the forwarder read only the open ones; partial indexes stay small however many have settled.
CREATE INDEX reversals_armed ON reversals (id) WHERE state = 'armed';
CREATE INDEX reversals_pending ON reversals (id) WHERE state = 'pending';

-- AUTOINCREMENT: ids are the forwarding order, so one must never be reused even if old rows are purged some day.
CREATE TABLE saf_queue (
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
  state           TEXT NOT NULL CHECK (state IN ('queued', 'forwarded', 'set-aside')),
  attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at INTEGER,
  response_code   TEXT,
  reason          TEXT,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL,
  -- Encrypted card data is kept only while the advice is owed to the host.
  CHECK (state = 'queued' OR card_blob IS NULL)
) STRICT;
CREATE INDEX saf_queue_queued ON saf_queue (id) WHERE state = 'queued';
`;

export const V2_REVERSALS_SAF: Migration = {
  version: 2,
  description: 'pre-stored reversals, store-and-forward queue',
  up: (db) => db.exec(V2),
};
