/**
 * The history backend for fleets beyond one machine: PostgreSQL (node-postgres pool). Consumers on several machines
 * write one database; each batch is one transaction, and the terminal rows it touches are upserted in key order so
 * two writers never deadlock. Migrations run under an advisory lock, so consumers starting together migrate once.
 */
import pg from 'pg';
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

/** pg_advisory_lock key held while the history schema migrates (any fixed bigint, the same in every pos-fleet). */
const MIGRATION_LOCK = 5_063_895_270_457_652n;
/** Rows per INSERT statement: 11 parameters each stays far below PostgreSQL's 65,535. */
const ROWS_PER_STATEMENT = 1_000;

export interface PostgresHistoryOptions {
  /** postgres://user@host:5432/db (a password in it, or PGPASSWORD in the environment). */
  url: string;
  poolSize?: number;
}

function placeholders(rows: number, width: number, from = 1): string {
  const out: string[] = [];
  for (let r = 0; r < rows; r++) {
    const cells: string[] = [];
    for (let c = 0; c < width; c++) cells.push(`$${from + r * width + c}`);
    out.push(`(${cells.join(', ')})`);
  }
  return out.join(', ');
}

export class PostgresHistoryStore implements FleetHistoryStore {
  readonly backend = 'postgres' as const;

  private constructor(private readonly pool: pg.Pool) {}

  static async open(opts: PostgresHistoryOptions): Promise<PostgresHistoryStore> {
    const pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.poolSize ?? 4,
      application_name: 'pos-fleet',
    });
    // An idle client losing its server must not end the process; the next query reports it.
    pool.on('error', () => undefined);
    try {
      const client = await pool.connect();
      try {
        await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK.toString()]);
        await client.query('BEGIN');
        try {
          await migrateHistory({
            dialect: 'postgres',
            exec: async (sql, params) => {
              await client.query(sql, params === undefined ? undefined : [...params]);
            },
            names: async (sql) => (await client.query<{ name: string }>(sql)).rows.map((r) => r.name),
          });
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK');
          throw err;
        } finally {
          await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK.toString()]);
        }
      } finally {
        client.release();
      }
      return new PostgresHistoryStore(pool);
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw err;
    }
  }

  async insert(records: readonly HistoryRecord[]): Promise<void> {
    if (records.length === 0) return;
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      for (let i = 0; i < records.length; i += ROWS_PER_STATEMENT) {
        const chunk = records.slice(i, i + ROWS_PER_STATEMENT);
        await client.query(
          `INSERT INTO fleet_messages (${COLUMNS.join(', ')}) VALUES ${placeholders(chunk.length, COLUMNS.length)}`,
          chunk.flatMap((r) => columnValues(r, (b) => b)),
        );
      }
      const deltas = terminalDeltas(records);
      for (let i = 0; i < deltas.length; i += ROWS_PER_STATEMENT) {
        const chunk = deltas.slice(i, i + ROWS_PER_STATEMENT);
        await client.query(
          `INSERT INTO fleet_terminals (fleet, terminal_id, version, last_received_at) VALUES ${placeholders(chunk.length, 4)}
           ON CONFLICT (fleet, terminal_id) DO UPDATE SET version = fleet_terminals.version + excluded.version,
             last_received_at = GREATEST(fleet_terminals.last_received_at, excluded.last_received_at)`,
          chunk.flatMap((d) => [d.fleet, d.terminalId, d.count, d.lastReceivedAt]),
        );
      }
      await client.query('COMMIT');
      client.release();
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      // A connection that failed mid-batch (server gone) is discarded, not handed back to the pool.
      client.release(err instanceof Error ? err : true);
      throw err;
    }
  }

  async timeline(fleet: string, terminalId: string, q: TimelineQuery): Promise<TimelineEntry[]> {
    const where = ['fleet = $1', 'terminal_id = $2'];
    const params: unknown[] = [fleet, terminalId];
    const add = (clause: (p: string) => string, value: unknown): void => {
      params.push(value);
      where.push(clause(`$${params.length}`));
    };
    if (q.since !== undefined) add((p) => `received_at >= ${p}`, q.since);
    if (q.before !== undefined) add((p) => `received_at < ${p}`, q.before);
    if (q.kinds !== undefined) {
      if (q.kinds.length === 0) return [];
      add((p) => `kind = ANY(${p}::text[])`, [...q.kinds]);
    }
    params.push(timelineLimit(q.limit));
    const { rows } = await this.pool.query<MessageRow>(
      `SELECT ${SELECT_COLUMNS} FROM fleet_messages WHERE ${where.join(' AND ')}
       ORDER BY received_at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map((r) => timelineEntry(storedMessage(r)));
  }

  async purge(before: number, limit: number): Promise<number> {
    const { rowCount } = await this.pool.query(
      `DELETE FROM fleet_messages WHERE id IN
         (SELECT id FROM fleet_messages WHERE received_at < $1 ORDER BY received_at LIMIT $2)`,
      [before, Math.max(1, Math.floor(limit))],
    );
    return rowCount ?? 0;
  }

  async terminalVersions(): Promise<TerminalVersion[]> {
    const { rows } = await this.pool.query<{
      fleet: string;
      terminal_id: string;
      version: string;
      last_received_at: string;
    }>('SELECT fleet, terminal_id, version, last_received_at FROM fleet_terminals ORDER BY fleet, terminal_id');
    return rows.map((r) => ({
      fleet: r.fleet,
      terminalId: r.terminal_id,
      version: Number(r.version),
      lastReceivedAt: Number(r.last_received_at),
    }));
  }

  async messagesOf(terminals: readonly (TerminalKey & { since?: number })[]): Promise<StoredMessage[]> {
    if (terminals.length === 0) return [];
    const { rows } = await this.pool.query<MessageRow>(
      `SELECT ${SELECT_COLUMNS.split(', ')
        .map((c) => `m.${c}`)
        .join(', ')}
       FROM fleet_messages m
       JOIN unnest($1::text[], $2::text[], $3::bigint[]) AS t(fleet, terminal_id, since)
         ON m.fleet = t.fleet AND m.terminal_id = t.terminal_id AND m.received_at >= t.since
       ORDER BY m.fleet, m.terminal_id, m.received_at, m.id`,
      [
        terminals.map((t) => t.fleet),
        terminals.map((t) => t.terminalId),
        terminals.map((t) => t.since ?? Number.MIN_SAFE_INTEGER),
      ],
    );
    return rows.map(storedMessage);
  }

  async schemaVersions(): Promise<string[]> {
    const { rows } = await this.pool.query<{ name: string }>('SELECT name FROM fleet_history_migrations ORDER BY name');
    return rows.map((r) => r.name);
  }

  async count(): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>('SELECT COUNT(*) AS n FROM fleet_messages');
    return Number(rows[0]?.n ?? 0);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
