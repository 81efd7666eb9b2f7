/**
 * The history backends every store test runs against: SQLite in a temp file, and PostgreSQL on a real server
 * started from Debian's package for the test file (test/support/postgres.ts), a fresh database per test. Without
 * the server binaries the PostgreSQL cases are skipped, saying why.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll } from 'vitest';
import type { HistoryConfig } from '../../../src/fleet/config-history.js';
import { HISTORY_DEFAULTS } from '../../../src/fleet/config-history.js';
import { openHistoryStore } from '../../../src/fleet/history/open.js';
import type { FleetHistoryStore } from '../../../src/fleet/history/store.js';
import { postgresMissing, startPostgres, type Postgres } from '../../support/postgres.js';

export interface FreshStore {
  config: HistoryConfig;
  /** A new connection to the same store (another consumer). */
  open(): Promise<FleetHistoryStore>;
  /** Raw SQL on the store, outside the code under test. */
  exec(sql: string): Promise<void>;
}

export interface BackendCase {
  name: 'sqlite' | 'postgres';
  /** Why this backend cannot be tested here; undefined when it can. */
  skip: string | undefined;
  fresh(): Promise<FreshStore>;
}

function config(patch: Partial<HistoryConfig>): HistoryConfig {
  return { ...(structuredClone(HISTORY_DEFAULTS) as HistoryConfig), ...patch };
}

/** Call at the top of a test file; the server and temp files go away after the file's tests. */
export function historyBackends(): BackendCase[] {
  let server: Promise<Postgres> | undefined;
  let databases = 0;
  const dirs: string[] = [];
  afterAll(async () => {
    if (server) await (await server).stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const missing = postgresMissing();
  if (missing !== undefined) console.warn(`history store tests on PostgreSQL skipped: ${missing}`);
  return [
    {
      name: 'sqlite',
      skip: undefined,
      async fresh() {
        const dir = mkdtempSync(join(tmpdir(), 'fleet-history-'));
        dirs.push(dir);
        const c = config({ backend: 'sqlite', sqlite: { path: join(dir, 'history.sqlite') } });
        return {
          config: c,
          open: () => openHistoryStore(c),
          async exec(sql) {
            const db = new Database(c.sqlite.path);
            try {
              db.exec(sql);
            } finally {
              db.close();
            }
          },
        };
      },
    },
    {
      name: 'postgres',
      skip: missing,
      async fresh() {
        server ??= startPostgres();
        const url = await (await server).createDatabase(`history_${++databases}`);
        const c = config({ backend: 'postgres', postgres: { url, poolSize: 4 } });
        return {
          config: c,
          open: () => openHistoryStore(c),
          async exec(sql) {
            const client = new pg.Client({ connectionString: url });
            await client.connect();
            try {
              await client.query(sql);
            } finally {
              await client.end();
            }
          },
        };
      },
    },
  ];
}
