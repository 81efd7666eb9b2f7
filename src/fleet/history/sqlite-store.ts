/**
 * The embedded history backend: one SQLite file in WAL mode, so a reader (`pos-fleet history`, the web page) never
 * waits for the consumer writing. Several consumers on one machine may share the file (busy timeout, one writer at
 * a time). synchronous=NORMAL: a power cut may lose the last batch, never corrupt the file; the history is an
 * operator's record, not money.
 */
import Database from 'better-sqlite3';
import type { TimelineEntry, TimelineQuery } from '../ports.js';
import { migrateHistory } from './migrate.js';
import {
  COLUMNS,
  columnValues,
  type MessageRow,
  SELECT_COLUMNS,
  storedMessage,
  terminalDeltas,
  timelineEntry,
} from './rows.js';
import {
  type FleetHistoryStore,
  type HistoryRecord,
  type StoredMessage,
  type TerminalKey,
  type TerminalVersion,
  timelineLimit,
} from './store.js';

export interface SqliteHistoryOptions {
  /** Refuse to create the file: for readers, so a mistyped path is an error rather than an empty history. */
  mustExist?: boolean;
}

/**
 * Opens of one file within this process, one after the other: an open holds the write lock across umzug's awaits,
 * and a second connection waiting for it (busy timeout) would block the very event loop that must release it.
 * Other processes just wait their turn.
 */
const opening = new Map<string, Promise<unknown>>();

export class SqliteHistoryStore implements FleetHistoryStore {
  readonly backend = 'sqlite' as const;
  private readonly insertMessage;
  private readonly upsertTerminal;

  private constructor(private readonly db: Database.Database) {
    this.insertMessage = db.prepare(
      `INSERT INTO fleet_messages (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})`,
    );
    this.upsertTerminal = db.prepare(
      `INSERT INTO fleet_terminals (fleet, terminal_id, version, last_received_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (fleet, terminal_id) DO UPDATE SET version = fleet_terminals.version + excluded.version,
         last_received_at = max(fleet_terminals.last_received_at, excluded.last_received_at)`,
    );
  }

  /** Opens (or creates) the file and brings its schema up to date. */
  static async open(path: string, opts: SqliteHistoryOptions = {}): Promise<SqliteHistoryStore> {
    const before = opening.get(path) ?? Promise.resolve();
    const mine = before.catch(() => undefined).then(() => SqliteHistoryStore.openNow(path, opts));
    opening.set(path, mine);
    try {
      return await mine;
    } finally {
      if (opening.get(path) === mine) opening.delete(path);
    }
  }

  private static async openNow(path: string, opts: SqliteHistoryOptions): Promise<SqliteHistoryStore> {
    const db = new Database(path, { fileMustExist: opts.mustExist ?? false });
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 10000');
      db.exec('BEGIN IMMEDIATE');
      try {
        await migrateHistory({
          dialect: 'sqlite',
          exec: async (sql, params) => {
            if (params === undefined) db.exec(sql);
            else db.prepare(sql).run(...params);
          },
          names: async (sql) => (db.prepare(sql).all() as { name: string }[]).map((r) => r.name),
        });
        db.exec('COMMIT');
      } catch (err) {
        db.exec('ROLLBACK');
        throw err;
      }
      return new SqliteHistoryStore(db);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  async insert(records: readonly HistoryRecord[]): Promise<void> {
    if (records.length === 0) return;
    this.db
      .transaction(() => {
        for (const r of records) this.insertMessage.run(...columnValues(r, (b) => (b ? 1 : 0)));
        for (const d of terminalDeltas(records))
          this.upsertTerminal.run(d.fleet, d.terminalId, d.count, d.lastReceivedAt);
      })
      .immediate();
  }

  async timeline(fleet: string, terminalId: string, q: TimelineQuery): Promise<TimelineEntry[]> {
    const where = ['fleet = ?', 'terminal_id = ?'];
    const params: unknown[] = [fleet, terminalId];
    if (q.since !== undefined) {
      where.push('received_at >= ?');
      params.push(q.since);
    }
    if (q.before !== undefined) {
      where.push('received_at < ?');
      params.push(q.before);
    }
    if (q.kinds !== undefined) {
      if (q.kinds.length === 0) return [];
      where.push(`kind IN (${q.kinds.map(() => '?').join(', ')})`);
      params.push(...q.kinds);
    }
    params.push(timelineLimit(q.limit));
    const rows = this.db
      .prepare(
        `SELECT ${SELECT_COLUMNS} FROM fleet_messages WHERE ${where.join(' AND ')}
         ORDER BY received_at DESC, id DESC LIMIT ?`,
      )
      .all(...params) as MessageRow[];
    return rows.map((r) => timelineEntry(storedMessage(r)));
  }

  async purge(before: number, limit: number): Promise<number> {
    return this.db
      .prepare(
        'DELETE FROM fleet_messages WHERE id IN (SELECT id FROM fleet_messages WHERE received_at < ? ORDER BY received_at LIMIT ?)',
      )
      .run(before, Math.max(1, Math.floor(limit))).changes;
  }

  async terminalVersions(): Promise<TerminalVersion[]> {
    const rows = this.db
      .prepare('SELECT fleet, terminal_id, version, last_received_at FROM fleet_terminals ORDER BY fleet, terminal_id')
      .all() as { fleet: string; terminal_id: string; version: number; last_received_at: number }[];
    return rows.map((r) => ({
      fleet: r.fleet,
      terminalId: r.terminal_id,
      version: r.version,
      lastReceivedAt: r.last_received_at,
    }));
  }

  async messagesOf(terminals: readonly (TerminalKey & { since?: number })[]): Promise<StoredMessage[]> {
    const stmt = this.db.prepare(
      `SELECT ${SELECT_COLUMNS} FROM fleet_messages WHERE fleet = ? AND terminal_id = ? AND received_at >= ?
       ORDER BY received_at, id`,
    );
    const out: StoredMessage[] = [];
    // One read transaction, so the terminals are read as of one moment.
    this.db.transaction(() => {
      for (const t of terminals)
        for (const row of stmt.all(t.fleet, t.terminalId, t.since ?? Number.MIN_SAFE_INTEGER) as MessageRow[])
          out.push(storedMessage(row));
    })();
    return out;
  }

  async schemaVersions(): Promise<string[]> {
    return (this.db.prepare('SELECT name FROM fleet_history_migrations ORDER BY name').all() as { name: string }[]).map(
      (r) => r.name,
    );
  }

  async count(): Promise<number> {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM fleet_messages').get() as { n: number }).n;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
