import type Database from 'better-sqlite3';

/** One step of the schema. Shipped steps are never edited: terminals in the field have already run them. */
export interface Migration {
  version: number;
  description: string;
  up: (db: Database.Database) => void;
  /** Rebuilds a table others refer to: run with foreign keys off, checked before its commit. */
  rebuildsTables?: boolean;
}
