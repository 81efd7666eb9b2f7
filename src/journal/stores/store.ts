/** What every store shares: the journal's one connection, its clock, and the way failures reach callers. */
import type Database from 'better-sqlite3';
import { guarded } from '../faults.js';

export type Stmt = Database.Statement<unknown[], unknown>;

export abstract class Store {
  /** Statements of the rarer paths, prepared on first use so opening the journal stays quick. */
  private readonly lazyStmts = new Map<string, Stmt>();

  protected constructor(
    protected readonly db: Database.Database,
    protected readonly now: () => number,
  ) {}

  /** Runs `fn`, turning SQLite failures into JournalError. */
  protected run<T>(what: string, fn: () => T): T {
    return guarded(what, fn);
  }

  protected lazy(sql: string): Stmt {
    let stmt = this.lazyStmts.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.lazyStmts.set(sql, stmt);
    }
    return stmt;
  }
}
