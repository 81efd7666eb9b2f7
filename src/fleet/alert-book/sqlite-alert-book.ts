/**
 * The alert book on SQLite: every raise and clear of the alert engine and of anomaly detection is kept (one row per
 * alert, one per change), an operator acknowledges an alert (who, when, a note; the first acknowledgement stands),
 * and the list is read back newest first. One file, WAL, so it survives a restart and a reader never waits.
 */
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import type { Clock } from '../../../hal/clock.js';
import type { Alert } from '../alerts.js';
import type { AlertBook, AlertListQuery, AlertRecord, AlertRecordState } from '../ports.js';

/** An alert change as the book takes it: the engine's Alert, or one from anomaly detection (type `anomaly-detection`). */
export type BookAlert = Omit<Alert, 'type'> & { type: string };

/** The most one list query returns, whatever it asks for. */
export const MAX_LIST = 1_000;

const SCHEMA_VERSION = 1;

interface AlertRow {
  id: string;
  rule: string;
  type: string;
  fleet: string;
  terminal_id: string;
  state: AlertRecordState;
  raised_at: number;
  cleared_at: number | null;
  ack_at: number | null;
  ack_by: string | null;
  ack_note: string | null;
  value: number;
  message: string;
  evidence: string | null;
}

export interface SqliteAlertBookOptions {
  file: string;
  clock: Clock;
}

export class SqliteAlertBook implements AlertBook {
  private readonly db: Database.Database;
  private readonly clock: Clock;
  private readonly stmt: Record<
    'openOf' | 'insert' | 'update' | 'change' | 'byId' | 'ack' | 'changes',
    Database.Statement
  >;
  private readonly recordTx: Database.Transaction<(alert: BookAlert, evidence: string | null) => AlertRow>;

  constructor(opts: SqliteAlertBookOptions) {
    this.clock = opts.clock;
    this.db = new Database(opts.file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    migrate(this.db);
    this.stmt = {
      openOf: this.db.prepare(
        "SELECT * FROM alerts WHERE rule = ? AND fleet = ? AND terminal_id = ? AND state <> 'cleared' ORDER BY raised_at DESC LIMIT 1",
      ),
      insert: this.db.prepare(
        `INSERT INTO alerts (id, rule, type, fleet, terminal_id, state, raised_at, cleared_at, value, message, evidence)
         VALUES (@id, @rule, @type, @fleet, @terminal_id, @state, @raised_at, @cleared_at, @value, @message, @evidence)`,
      ),
      update: this.db.prepare(
        'UPDATE alerts SET state = @state, cleared_at = @cleared_at, value = @value, message = @message, evidence = coalesce(@evidence, evidence) WHERE id = @id',
      ),
      change: this.db.prepare(
        'INSERT INTO alert_changes (alert_id, at, state, value, message, evidence) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      byId: this.db.prepare('SELECT * FROM alerts WHERE id = ?'),
      ack: this.db.prepare(
        "UPDATE alerts SET ack_at = ?, ack_by = ?, ack_note = ?, state = CASE state WHEN 'open' THEN 'acknowledged' ELSE state END WHERE id = ? AND ack_at IS NULL",
      ),
      changes: this.db.prepare(
        'SELECT at, state, value, message, evidence FROM alert_changes WHERE alert_id = ? ORDER BY seq',
      ),
    };
    this.recordTx = this.db.transaction((alert: BookAlert, evidence: string | null) => this.recordNow(alert, evidence));
  }

  async record(alert: BookAlert, evidence?: Record<string, unknown>): Promise<AlertRecord> {
    return toRecord(this.recordTx.immediate(alert, evidence === undefined ? null : JSON.stringify(evidence)));
  }

  async list(query: AlertListQuery): Promise<AlertRecord[]> {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (query.states && query.states.length > 0) {
      where.push(`state IN (${query.states.map(() => '?').join(', ')})`);
      args.push(...query.states);
    }
    if (query.fleet !== undefined) {
      where.push('fleet = ?');
      args.push(query.fleet);
    }
    if (query.terminalId !== undefined) {
      where.push('terminal_id = ?');
      args.push(query.terminalId);
    }
    const limit = Math.max(0, Math.min(MAX_LIST, Math.floor(query.limit)));
    const offset = Math.max(0, Math.floor(query.offset ?? 0));
    const sql = `SELECT * FROM alerts ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY raised_at DESC, rowid DESC LIMIT ? OFFSET ?`;
    return (this.db.prepare(sql).all(...args, limit, offset) as AlertRow[]).map(toRecord);
  }

  async acknowledge(id: string, by: string, note?: string): Promise<AlertRecord | undefined> {
    this.stmt.ack.run(this.clock.now(), by, note ?? null, id);
    const row = this.stmt.byId.get(id) as AlertRow | undefined;
    return row ? toRecord(row) : undefined;
  }

  async byId(id: string): Promise<AlertRecord | undefined> {
    const row = this.stmt.byId.get(id) as AlertRow | undefined;
    return row ? toRecord(row) : undefined;
  }

  /** Every raise and clear recorded for one alert, oldest first. */
  changes(id: string): { at: number; state: 'raised' | 'cleared'; value: number; message: string }[] {
    return this.stmt.changes.all(id) as { at: number; state: 'raised' | 'cleared'; value: number; message: string }[];
  }

  close(): void {
    this.db.close();
  }

  private recordNow(alert: BookAlert, evidence: string | null): AlertRow {
    const open = this.stmt.openOf.get(alert.rule, alert.fleet, alert.terminalId) as AlertRow | undefined;
    let id: string;
    if (alert.state === 'raised' && open) {
      // Raised again while still open (the engine restarted and saw the condition again): the same alert.
      id = open.id;
      this.stmt.update.run({
        id,
        state: open.state,
        cleared_at: null,
        value: alert.value,
        message: alert.message,
        evidence,
      });
    } else if (alert.state === 'cleared' && open) {
      id = open.id;
      this.stmt.update.run({
        id,
        state: 'cleared',
        cleared_at: alert.at,
        value: alert.value,
        message: alert.message,
        evidence,
      });
    } else {
      // A new raise, or a clear of an alert raised before this book existed (kept so the clear is not lost).
      id = randomUUID();
      this.stmt.insert.run({
        id,
        rule: alert.rule,
        type: alert.type,
        fleet: alert.fleet,
        terminal_id: alert.terminalId,
        state: alert.state === 'raised' ? 'open' : 'cleared',
        raised_at: alert.at,
        cleared_at: alert.state === 'cleared' ? alert.at : null,
        value: alert.value,
        message: alert.message,
        evidence,
      });
    }
    this.stmt.change.run(id, alert.at, alert.state, alert.value, alert.message, evidence);
    return this.stmt.byId.get(id) as AlertRow;
  }
}

function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION)
    throw new Error(
      `the alert book was written by a newer pos-fleet (schema ${version}, this one knows ${SCHEMA_VERSION})`,
    );
  if (version === SCHEMA_VERSION) return;
  db.transaction(() =>
    db.exec(`
    CREATE TABLE alerts (
      id TEXT PRIMARY KEY,
      rule TEXT NOT NULL,
      type TEXT NOT NULL,
      fleet TEXT NOT NULL,
      terminal_id TEXT NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('open', 'acknowledged', 'cleared')),
      raised_at INTEGER NOT NULL,
      cleared_at INTEGER,
      ack_at INTEGER,
      ack_by TEXT,
      ack_note TEXT,
      value REAL NOT NULL,
      message TEXT NOT NULL,
      evidence TEXT
    );
    CREATE INDEX alerts_by_time ON alerts (raised_at DESC);
    CREATE INDEX alerts_by_terminal ON alerts (fleet, terminal_id, raised_at DESC);
    CREATE INDEX alerts_open ON alerts (rule, fleet, terminal_id) WHERE state <> 'cleared';
    CREATE TABLE alert_changes (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      alert_id TEXT NOT NULL REFERENCES alerts (id),
      at INTEGER NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('raised', 'cleared')),
      value REAL NOT NULL,
      message TEXT NOT NULL,
      evidence TEXT
    );
    CREATE INDEX alert_changes_by_alert ON alert_changes (alert_id, seq);
    PRAGMA user_version = ${SCHEMA_VERSION};
  `),
  )();
}

function toRecord(row: AlertRow): AlertRecord {
  return {
    id: row.id,
    rule: row.rule,
    type: row.type,
    fleet: row.fleet,
    terminalId: row.terminal_id,
    state: row.state,
    raisedAt: row.raised_at,
    clearedAt: row.cleared_at,
    acknowledgedAt: row.ack_at,
    acknowledgedBy: row.ack_by,
    acknowledgeNote: row.ack_note,
    value: row.value,
    message: row.message,
    evidence: row.evidence === null ? null : (JSON.parse(row.evidence) as Record<string, unknown>),
  };
}
