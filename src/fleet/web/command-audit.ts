/**
 * The audit trail of fleet commands sent from the dashboard: who, when, what, and the result, kept in a small SQLite
 * file of its own (one table) so it survives restarts. A command is written before it is sent and updated when its
 * result (or its failure) is known, so a crash in between still leaves the attempt on record.
 */
import Database from 'better-sqlite3';

export type AuditOutcome = 'sent' | 'ok' | 'failed' | 'timeout' | 'error';

export interface AuditEntry {
  id: number;
  commandId: string;
  at: number;
  by: string;
  fleet: string;
  terminalId: string;
  name: string;
  outcome: AuditOutcome;
  resultAt: number | null;
  /** The terminal's error and message, or why no result came. */
  detail: string;
}

interface AuditRow {
  id: number;
  command_id: string;
  at: number;
  by: string;
  fleet: string;
  terminal_id: string;
  name: string;
  outcome: AuditOutcome;
  result_at: number | null;
  detail: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS command_audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  command_id TEXT NOT NULL UNIQUE,
  at INTEGER NOT NULL,
  by TEXT NOT NULL,
  fleet TEXT NOT NULL,
  terminal_id TEXT NOT NULL,
  name TEXT NOT NULL,
  outcome TEXT NOT NULL,
  result_at INTEGER,
  detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS command_audit_terminal ON command_audit (fleet, terminal_id, id);
`;

function entryOf(r: AuditRow): AuditEntry {
  return {
    id: r.id,
    commandId: r.command_id,
    at: r.at,
    by: r.by,
    fleet: r.fleet,
    terminalId: r.terminal_id,
    name: r.name,
    outcome: r.outcome,
    resultAt: r.result_at,
    detail: r.detail,
  };
}

export interface AuditQuery {
  fleet?: string | undefined;
  terminalId?: string | undefined;
  limit: number;
}

export class CommandAudit {
  private readonly db: Database.Database;

  /** `file` is a path, or ':memory:' for tests that do not need it to persist. */
  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec(SCHEMA);
  }

  begin(e: { commandId: string; at: number; by: string; fleet: string; terminalId: string; name: string }): AuditEntry {
    const row = this.db
      .prepare<unknown[], AuditRow>(
        `INSERT INTO command_audit (command_id, at, by, fleet, terminal_id, name, outcome)
         VALUES (?, ?, ?, ?, ?, ?, 'sent') RETURNING *`,
      )
      .get(e.commandId, e.at, e.by, e.fleet, e.terminalId, e.name);
    if (!row) throw new Error('the command audit did not record the command');
    return entryOf(row);
  }

  finish(
    commandId: string,
    outcome: Exclude<AuditOutcome, 'sent'>,
    at: number,
    detail: string,
  ): AuditEntry | undefined {
    const row = this.db
      .prepare<unknown[], AuditRow>(
        'UPDATE command_audit SET outcome = ?, result_at = ?, detail = ? WHERE command_id = ? RETURNING *',
      )
      .get(outcome, at, detail, commandId);
    return row ? entryOf(row) : undefined;
  }

  /** Newest first. */
  list(q: AuditQuery): AuditEntry[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.fleet !== undefined) {
      where.push('fleet = ?');
      args.push(q.fleet);
    }
    if (q.terminalId !== undefined) {
      where.push('terminal_id = ?');
      args.push(q.terminalId);
    }
    const sql = `SELECT * FROM command_audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    return this.db
      .prepare<unknown[], AuditRow>(sql)
      .all(...args, q.limit)
      .map(entryOf);
  }

  close(): void {
    this.db.close();
  }
}
