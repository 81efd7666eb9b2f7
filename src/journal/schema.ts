/**
 * The journal's data contract: row types, the error type, and the SQLite schema as forward-only migrations keyed
 * by PRAGMA user_version. Later versions add tables by appending a migration; shipped migrations are never edited,
 * because terminals in the field have already run them.
 */
import type Database from 'better-sqlite3';
import type { ReceiptStatus, TransactionKind, TransactionOutcome } from '../vocabulary/index.js';

// The transaction words belong to the vocabulary; the journal's stores validate rows against them from here.
export {
  RECEIPT_STATUSES,
  TRANSACTION_KINDS,
  TRANSACTION_OUTCOMES,
  type ReceiptStatus,
  type TransactionKind,
  type TransactionOutcome,
} from '../vocabulary/index.js';

export interface TransactionRow {
  id: number;
  txnRef: string;
  kind: TransactionKind;
  state: string;
  outcome: TransactionOutcome | null;
  /** Integer minor units. */
  amount: number;
  /** ISO 4217 numeric code. */
  currency: string;
  stan: number | null;
  maskedPan: string | null;
  entryMode: string | null;
  responseCode: string | null;
  approvalCode: string | null;
  rrn: string | null;
  anomalyCode: string | null;
  originalStan: number | null;
  receiptStatus: ReceiptStatus;
  ecrRequestId: string | null;
  /** MTI of the request that carried it to the host (0200, or 0220 for an offline approval); what a void's field 90 names. */
  requestMti: string | null;
  /** Field 7 of that request, ms since the epoch: what a void's field 90 names. */
  transmittedAt: number | null;
  /** Milliseconds since the epoch (UTC). */
  createdAt: number;
  updatedAt: number;
}

/** `amount` changes only when the host approved less than asked (a partial approval the register accepted). */
export type TransactionPatch = Partial<
  Pick<
    TransactionRow,
    | 'amount'
    | 'stan'
    | 'maskedPan'
    | 'entryMode'
    | 'responseCode'
    | 'approvalCode'
    | 'rrn'
    | 'outcome'
    | 'anomalyCode'
    | 'receiptStatus'
  >
>;

export const PATCH_FIELDS = [
  'amount',
  'stan',
  'maskedPan',
  'entryMode',
  'responseCode',
  'approvalCode',
  'rrn',
  'outcome',
  'anomalyCode',
  'receiptStatus',
] as const;

export interface AnomalyRow {
  id: number;
  at: number;
  code: string;
  class: string;
  severity: string;
  message: string;
  txnRef: string | null;
  stan: number | null;
  amount: number | null;
  currency: string | null;
  maskedPan: string | null;
  detail: Record<string, unknown> | null;
}

export interface TransactionEventRow {
  id: number;
  txnRef: string;
  at: number;
  state: string;
  detail: Record<string, unknown> | null;
  /** The patch applied with this state change, if any: which facts became known when. */
  changes: TransactionPatch | null;
}

export type ReversalState = 'armed' | 'pending' | 'acknowledged' | 'cleared';
export const REVERSAL_STATES: readonly ReversalState[] = ['armed', 'pending', 'acknowledged', 'cleared'];

/**
 * A pre-stored reversal, committed before its authorization request leaves the terminal.
 * armed: the request may be on its way; pending: the host may hold it, so a reversal is owed;
 * acknowledged: the host answered the reversal; cleared: no reversal is needed (answered, or never sent).
 */
export interface ReversalRow {
  id: number;
  txnRef: string;
  stan: number;
  originalMti: string;
  processingCode: string;
  amount: number;
  currency: string;
  /** Milliseconds since the epoch of the original request (field 90 of the reversal). */
  transmittedAt: number;
  terminalId: string;
  merchantId: string;
  maskedPan: string | null;
  /** Field 22 of the original, repeated in the reversal; null on rows armed before it was kept. */
  posEntryMode: string | null;
  /** Fields 32/33 of the original (also in field 90); null when not configured. */
  acquiringInstitutionId: string | null;
  forwardingInstitutionId: string | null;
  /** PAN and expiry sealed by the card vault for fields 2/14; erased once the reversal settles. Never track data. */
  cardBlob: Buffer | null;
  /** Field 39 of the reversal: why it is sent (see REVERSAL_REASON); set when it becomes owed. */
  reasonCode: string | null;
  state: ReversalState;
  attempts: number;
  /** When the forwarder should try again; null means no attempt is scheduled (due now). */
  nextAttemptAt: number | null;
  reason: string | null;
  /**
   * Acknowledged or set aside: the host's answer to the reversal. Still armed or pending: the host's answer to the
   * original when it gave one the terminal could not take (an untrusted answer, a partial approval the register
   * declined); null when the original went unanswered.
   */
  responseCode: string | null;
  createdAt: number;
  updatedAt: number;
}

/** cancelled: a void of the offline sale came before its advice ever left, so neither goes to the host. */
export type SafState = 'queued' | 'forwarded' | 'set-aside' | 'cancelled';
export const SAF_STATES: readonly SafState[] = ['queued', 'forwarded', 'set-aside', 'cancelled'];

/** A pending reversal the host refused for good (see durability/answer-policy.ts): still owed, no longer sent. */
export interface ReversalSetAsideRow {
  reversalId: number;
  txnRef: string;
  stan: number;
  amount: number;
  currency: string;
  maskedPan: string | null;
  responseCode: string;
  reason: string;
  at: number;
}

/** An offline approval waiting to be sent to the host as an advice; `id` is the forwarding order. */
export interface SafRow {
  id: number;
  txnRef: string;
  stan: number;
  processingCode: string;
  amount: number;
  currency: string;
  approvalCode: string;
  entryMode: string;
  maskedPan: string;
  transmittedAt: number;
  terminalId: string;
  merchantId: string;
  /** Field 22 as decided at the sale (PIN capability included); null on rows queued before it was kept. */
  posEntryMode: string | null;
  acquiringInstitutionId: string | null;
  forwardingInstitutionId: string | null;
  /** Card data sealed by the card vault; null once the host has the advice (or rejected it). */
  cardBlob: Buffer | null;
  state: SafState;
  attempts: number;
  nextAttemptAt: number | null;
  responseCode: string | null;
  reason: string | null;
  createdAt: number;
  updatedAt: number;
}

export type OutboxKind = 'birth' | 'state' | 'health' | 'event' | 'cmd-result';
export const OUTBOX_KINDS: readonly OutboxKind[] = ['birth', 'state', 'health', 'event', 'cmd-result'];

/** A telemetry message waiting for the broker; `id` is the sending order. */
export interface OutboxRow {
  id: number;
  kind: OutboxKind;
  topic: string;
  payload: Buffer;
  retain: boolean;
  bootId: string;
  seq: number;
  createdAt: number;
}

export type JournalErrorCode =
  | 'unknown-transaction'
  | 'card-data-refused'
  | 'storage-fault'
  | 'duplicate-reference'
  /** A value the schema cannot hold (negative amount, unknown kind, STAN out of range...). */
  | 'invalid-record';

export class JournalError extends Error {
  override readonly name = 'JournalError';
  /** SQLite extended result code (SQLITE_FULL, SQLITE_READONLY, SQLITE_IOERR_...) for storage faults. */
  readonly sqliteCode: string | undefined;

  constructor(
    readonly code: JournalErrorCode,
    message: string,
    options: { cause?: unknown; sqliteCode?: string } = {},
  ) {
    super(message, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.sqliteCode = options.sqliteCode;
  }
}

/** Marks the file as ours, so a wrong path (another app's database) is refused instead of migrated. 'POSJ'. */
export const APPLICATION_ID = 0x504f534a;

export interface Migration {
  version: number;
  description: string;
  up: (db: Database.Database) => void;
}

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

// Telemetry waiting for the MQTT broker, sent in id order and deleted once the broker acknowledged it. Payloads are
// encoded protobuf (header, seq and all), so what is sent after an outage is exactly what was made at the time.
const V3 = `
CREATE TABLE telemetry_outbox (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  kind       TEXT NOT NULL CHECK (kind IN ('birth', 'state', 'health', 'event', 'cmd-result')),
  topic      TEXT NOT NULL,
  payload    BLOB NOT NULL,
  retain     INTEGER NOT NULL DEFAULT 0 CHECK (retain IN (0, 1)),
  boot_id    TEXT NOT NULL,
  seq        INTEGER NOT NULL CHECK (seq >= 0),
  created_at INTEGER NOT NULL
) STRICT;
-- The bound drops old health first: finding it must not scan the events.
CREATE INDEX telemetry_outbox_health ON telemetry_outbox (id) WHERE kind = 'health';
`;

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

// What a real acquirer needs that earlier rows lacked: field 22 and the institution ids of the original, the sealed
// PAN/expiry of a reversal (kept only while it is owed) and its reason; the request MTI and time a void names.
const V5 = `
ALTER TABLE transactions ADD COLUMN request_mti TEXT CHECK (request_mti IS NULL OR (length(request_mti) = 4 AND request_mti NOT GLOB '*[^0-9]*'));
ALTER TABLE transactions ADD COLUMN transmitted_at INTEGER;
ALTER TABLE reversals ADD COLUMN pos_entry_mode TEXT CHECK (pos_entry_mode IS NULL OR (length(pos_entry_mode) = 3 AND pos_entry_mode NOT GLOB '*[^0-9]*'));
ALTER TABLE reversals ADD COLUMN acquiring_institution_id TEXT;
ALTER TABLE reversals ADD COLUMN forwarding_institution_id TEXT;
ALTER TABLE reversals ADD COLUMN card_blob BLOB;
ALTER TABLE reversals ADD COLUMN reason_code TEXT;
ALTER TABLE saf_queue ADD COLUMN pos_entry_mode TEXT CHECK (pos_entry_mode IS NULL OR (length(pos_entry_mode) = 3 AND pos_entry_mode NOT GLOB '*[^0-9]*'));
ALTER TABLE saf_queue ADD COLUMN acquiring_institution_id TEXT;
ALTER TABLE saf_queue ADD COLUMN forwarding_institution_id TEXT;
-- A reversal that settled keeps no card data (the sealed blob goes with the armed and pending states).
UPDATE reversals SET card_blob = NULL WHERE state IN ('acknowledged', 'cleared');
`;

/** Append only. Each runs in its own SQLite transaction together with the user_version bump. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, description: 'transactions, their events, anomalies, counters', up: (db) => db.exec(V1) },
  { version: 2, description: 'pre-stored reversals, store-and-forward queue', up: (db) => db.exec(V2) },
  { version: 3, description: 'telemetry outbox', up: (db) => db.exec(V3) },
  { version: 4, description: 'reversals set aside, cancelled advices', up: migrateV4 },
  {
    version: 5,
    description:
      'message fields a real acquirer needs: field 22, institution ids, sealed reversal card, void references',
    up: (db) => db.exec(V5),
  },
];

export const SCHEMA_VERSION = MIGRATIONS.reduce((v, m) => Math.max(v, m.version), 0);

/**
 * Brings the database to SCHEMA_VERSION. Read-only connections are only checked. Refuses files written by a newer
 * version (their data would be misread) and files that are not a journal.
 */
export function migrate(db: Database.Database, options: { readonly?: boolean } = {}): number {
  const appId = db.pragma('application_id', { simple: true }) as number;
  const current = db.pragma('user_version', { simple: true }) as number;
  if (appId !== 0 && appId !== APPLICATION_ID) {
    throw new JournalError('storage-fault', `${db.name} is not a journal (application_id ${appId})`);
  }
  if (appId === 0 && current === 0) {
    const tables = db.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'").get() as {
      n: number;
    };
    if (tables.n > 0)
      throw new JournalError('storage-fault', `${db.name} is not a journal (it already holds other tables)`);
  }
  if (current > SCHEMA_VERSION) {
    throw new JournalError(
      'storage-fault',
      `${db.name} has journal schema version ${current}, newer than this software (${SCHEMA_VERSION})`,
    );
  }
  if (current === SCHEMA_VERSION) return current;
  if (options.readonly) {
    throw new JournalError(
      'storage-fault',
      `${db.name} has journal schema version ${current}; open it read-write once to migrate to ${SCHEMA_VERSION}`,
    );
  }
  for (const m of [...MIGRATIONS].sort((a, b) => a.version - b.version)) {
    if (m.version <= current) continue;
    db.transaction(() => {
      m.up(db);
      db.pragma(`application_id = ${APPLICATION_ID}`);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
  return SCHEMA_VERSION;
}
