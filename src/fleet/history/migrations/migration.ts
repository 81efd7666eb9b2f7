/** A history schema migration: the same change in each backend's SQL. Shipped versions are never edited. */
export interface HistoryMigration {
  /** Sorts in order of application: `NNNN-what`. */
  name: string;
  sqlite: readonly string[];
  postgres: readonly string[];
}
