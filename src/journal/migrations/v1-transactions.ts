/** Version 1: transactions, their events, anomalies and the counters (STAN, identity). */
import type { Migration } from './migration.js';

const V1 = `
CREATE TABLE counters (
  name  TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) STRICT;

CREATE TABLE transactions (
  id             INTEGER PRIMARY KEY,
  txn_ref        TEXT NOT NULL UNIQUE,
  kind           TEXT NOT NULL CHECK (kind IN ('sale', 'refund', 'void')),
  state          TEXT NOT NULL,
  outcome        TEXT CHECK (outcome IN ('approved', 'declined', 'cancelled', 'failed', 'offline-approved')),
  amount         INTEGER NOT NULL CHECK (amount >= 0),
  currency       TEXT NOT NULL,
  stan           INTEGER CHECK (stan BETWEEN 1 AND 999999),
  masked_pan     TEXT,
  entry_mode     TEXT,
  response_code  TEXT,
  approval_code  TEXT,
  rrn            TEXT,
  anomaly_code   TEXT,
  original_stan  INTEGER CHECK (original_stan BETWEEN 1 AND 999999),
  receipt_status TEXT NOT NULL DEFAULT 'none' CHECK (receipt_status IN ('none', 'printed', 'pending')),
  ecr_request_id TEXT,
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL
) STRICT;
CREATE INDEX transactions_stan ON transactions (stan);
CREATE INDEX transactions_ecr_request ON transactions (ecr_request_id) WHERE ecr_request_id IS NOT NULL;
CREATE INDEX transactions_created ON transactions (created_at);
-- Crash recovery reads this at every boot; the partial index keeps it small however long the journal grows.
CREATE INDEX transactions_in_flight ON transactions (id) WHERE outcome IS NULL;

CREATE TABLE transaction_events (
  id      INTEGER PRIMARY KEY,
  txn_id  INTEGER NOT NULL REFERENCES transactions (id),
  at      INTEGER NOT NULL,
  state   TEXT NOT NULL,
  detail  TEXT,
  changes TEXT
) STRICT;
CREATE INDEX transaction_events_txn ON transaction_events (txn_id, id);

-- No foreign key to transactions: an anomaly may concern a transaction that never started (bad amount) or an
-- unknown one (late response), and recording it must not fail for that.
CREATE TABLE anomalies (
  id         INTEGER PRIMARY KEY,
  at         INTEGER NOT NULL,
  code       TEXT NOT NULL,
  class      TEXT NOT NULL,
  severity   TEXT NOT NULL,
  message    TEXT NOT NULL,
  txn_ref    TEXT,
  stan       INTEGER,
  amount     INTEGER,
  currency   TEXT,
  masked_pan TEXT,
  detail     TEXT
) STRICT;
CREATE INDEX anomalies_at ON anomalies (at);
CREATE INDEX anomalies_code ON anomalies (code);
`;

export const V1_TRANSACTIONS: Migration = {
  version: 1,
  description: 'transactions, their events, anomalies, counters',
  up: (db) => db.exec(V1),
};
