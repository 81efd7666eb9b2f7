/**
 * Schema migrations of the history store, run by umzug on either backend: the applied versions are rows of
 * fleet_history_migrations in the store itself. The backend runs this inside its own lock and transaction (SQLite
 * BEGIN IMMEDIATE, a PostgreSQL advisory lock), so consumers starting together migrate once.
 */
import { Umzug, type UmzugStorage } from 'umzug';
import { HISTORY_MIGRATIONS } from './migrations/index.js';
import type { HistoryBackend } from './store.js';

export interface MigrationTarget {
  dialect: HistoryBackend;
  exec(sql: string, params?: readonly unknown[]): Promise<void>;
  names(sql: string): Promise<string[]>;
}

/** A store whose schema is newer than this program knows, or otherwise unusable. */
export class HistoryStoreError extends Error {
  override readonly name = 'HistoryStoreError';
}

const LOG_TABLE = 'fleet_history_migrations';

/** Applies the pending migrations; returns their names. */
export async function migrateHistory(target: MigrationTarget, clock: () => number = Date.now): Promise<string[]> {
  await target.exec(`CREATE TABLE IF NOT EXISTS ${LOG_TABLE} (name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)`);
  const p = (n: number): string => (target.dialect === 'postgres' ? `$${n}` : '?');
  const storage: UmzugStorage = {
    logMigration: async ({ name }) =>
      target.exec(`INSERT INTO ${LOG_TABLE} (name, applied_at) VALUES (${p(1)}, ${p(2)})`, [name, clock()]),
    unlogMigration: async ({ name }) => target.exec(`DELETE FROM ${LOG_TABLE} WHERE name = ${p(1)}`, [name]),
    executed: async () => target.names(`SELECT name FROM ${LOG_TABLE} ORDER BY name`),
  };
  const known = new Set(HISTORY_MIGRATIONS.map((m) => m.name));
  const unknown = (await storage.executed({ context: {} })).filter((n) => !known.has(n));
  if (unknown.length > 0)
    throw new HistoryStoreError(
      `the history store has schema versions this pos-fleet does not know (${unknown.join(', ')}): it was migrated by a newer release`,
    );
  const umzug = new Umzug({
    migrations: HISTORY_MIGRATIONS.map((m) => ({
      name: m.name,
      up: async () => {
        for (const sql of m[target.dialect]) await target.exec(sql);
      },
    })),
    storage,
    logger: undefined,
  });
  return (await umzug.up()).map((m) => m.name);
}
