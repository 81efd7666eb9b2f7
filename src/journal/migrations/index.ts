/**
 * The journal's SQLite schema as forward-only migrations keyed by PRAGMA user_version. Later versions add tables by
 * appending a migration; shipped migrations are never edited, because terminals in the field have already run them.
 */
import type Database from 'better-sqlite3';
import { JournalError } from '../schema.js';
import type { Migration } from './migration.js';
import { V1_TRANSACTIONS } from './v1-transactions.js';
import { V2_REVERSALS_SAF } from './v2-reversals-saf.js';
import { V3_TELEMETRY_OUTBOX } from './v3-telemetry-outbox.js';
import { V4_SET_ASIDE } from './v4-set-aside.js';
import { V5_ACQUIRER_FIELDS } from './v5-acquirer-fields.js';
import { V6_TERMINAL_KEYS } from './v6-terminal-keys.js';
import { V7_BATCHES } from './v7-batches.js';
import { V8_PREAUTH_TIPS } from './v8-preauth-tips.js';
import { V9_SET_ASIDE_RESOLUTIONS } from './v9-set-aside-resolutions.js';

export type { Migration } from './migration.js';

/** Marks the file as ours, so a wrong path (another app's database) is refused instead of migrated. 'POSJ'. */
export const APPLICATION_ID = 0x504f534a;

/** Append only. Each runs in its own SQLite transaction together with the user_version bump. */
export const MIGRATIONS: readonly Migration[] = [
  V1_TRANSACTIONS,
  V2_REVERSALS_SAF,
  V3_TELEMETRY_OUTBOX,
  V4_SET_ASIDE,
  V5_ACQUIRER_FIELDS,
  V6_TERMINAL_KEYS,
  V7_BATCHES,
  V8_PREAUTH_TIPS,
  V9_SET_ASIDE_RESOLUTIONS,
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
    // Foreign keys can only be switched outside a transaction; a rebuild is checked for dangling rows before it commits.
    const foreignKeys = db.pragma('foreign_keys', { simple: true }) === 1;
    if (m.rebuildsTables) db.pragma('foreign_keys = OFF');
    try {
      db.transaction(() => {
        m.up(db);
        if (m.rebuildsTables && (db.pragma('foreign_key_check') as unknown[]).length > 0)
          throw new JournalError('storage-fault', `migration ${m.version} left rows pointing nowhere`);
        db.pragma(`application_id = ${APPLICATION_ID}`);
        db.pragma(`user_version = ${m.version}`);
      })();
    } finally {
      if (m.rebuildsTables && foreignKeys) db.pragma('foreign_keys = ON');
    }
  }
  return SCHEMA_VERSION;
}
