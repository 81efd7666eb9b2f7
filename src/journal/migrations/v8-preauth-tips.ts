/**
 * Pre-authorizations and tips: the transactions table takes the hospitality kinds and a tip column, and a table keeps
 * each pre-authorization's hold (open until completed, cancelled or expired).
 *
 * SQLite cannot alter a CHECK, so the transactions table is rebuilt (the procedure of SQLite's ALTER TABLE page, with
 * foreign keys off for the migration: the events, reversals and advices keep pointing at it by name).
 */
import type { Migration } from './migration.js';

/** This migration's place in the sequence, named once (it may be renumbered when other migrations land first). */
export const PREAUTH_TIPS_VERSION = 8;

const REBUILD = `
CREATE TABLE transactions_rebuilt (
  id             INTEGER PRIMARY KEY,
  txn_ref        TEXT NOT NULL UNIQUE,
  kind           TEXT NOT NULL CHECK (kind IN ('sale', 'refund', 'void', 'preauth', 'preauth-increment', 'completion',
                   'preauth-cancel', 'tip-adjust')),
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
  updated_at     INTEGER NOT NULL,
  request_mti    TEXT CHECK (request_mti IS NULL OR (length(request_mti) = 4 AND request_mti NOT GLOB '*[^0-9]*')),
  transmitted_at INTEGER,
  batch_number   INTEGER CHECK (batch_number IS NULL OR batch_number BETWEEN 1 AND 999999),
  -- The part of amount that is a tip (amount is what the card pays, tip included), so totals carry tips apart.
  tip_amount     INTEGER NOT NULL DEFAULT 0 CHECK (tip_amount >= 0 AND tip_amount <= amount)
) STRICT;
INSERT INTO transactions_rebuilt (id, txn_ref, kind, state, outcome, amount, currency, stan, masked_pan, entry_mode,
  response_code, approval_code, rrn, anomaly_code, original_stan, receipt_status, ecr_request_id, created_at, updated_at,
  request_mti, transmitted_at, batch_number)
SELECT id, txn_ref, kind, state, outcome, amount, currency, stan, masked_pan, entry_mode, response_code, approval_code,
  rrn, anomaly_code, original_stan, receipt_status, ecr_request_id, created_at, updated_at, request_mti, transmitted_at,
  batch_number
FROM transactions;
DROP TABLE transactions;
ALTER TABLE transactions_rebuilt RENAME TO transactions;
CREATE INDEX transactions_stan ON transactions (stan);
CREATE INDEX transactions_ecr_request ON transactions (ecr_request_id) WHERE ecr_request_id IS NOT NULL;
CREATE INDEX transactions_created ON transactions (created_at);
CREATE INDEX transactions_in_flight ON transactions (id) WHERE outcome IS NULL;
CREATE INDEX transactions_batch ON transactions (batch_number, id);

-- A hold: what the host approved (the pre-authorization and its approved increments), open until one completion,
-- a cancel or the expiry closes it. closed_by names the transaction that closed it.
CREATE TABLE preauths (
  txn_ref      TEXT PRIMARY KEY REFERENCES transactions (txn_ref),
  stan         INTEGER NOT NULL CHECK (stan BETWEEN 1 AND 999999),
  currency     TEXT NOT NULL,
  held_amount  INTEGER NOT NULL CHECK (held_amount > 0),
  state        TEXT NOT NULL CHECK (state IN ('open', 'completed', 'cancelled', 'expired')),
  expires_at   INTEGER NOT NULL,
  closed_by    TEXT,
  closed_at    INTEGER,
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL,
  CHECK (state = 'open' OR closed_at IS NOT NULL)
) STRICT;
CREATE INDEX preauths_open ON preauths (expires_at) WHERE state = 'open';
`;

export const V8_PREAUTH_TIPS: Migration = {
  version: PREAUTH_TIPS_VERSION,
  description: 'pre-authorizations and tips: hospitality kinds, a tip column, the holds',
  rebuildsTables: true,
  up: (db) => {
    db.pragma('legacy_alter_table = ON');
    db.exec(REBUILD);
    db.pragma('legacy_alter_table = OFF');
  },
};
