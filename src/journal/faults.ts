/** How storage failures reach callers: every one as a JournalError, whichever store or step raised it. */
import Database from 'better-sqlite3';
import { JournalError } from './schema.js';

/** Maps anything better-sqlite3 throws to a JournalError; a JournalError passes through unchanged. */
export function toJournalError(err: unknown, what: string): unknown {
  if (err instanceof JournalError) return err;
  if (err instanceof Database.SqliteError) {
    const code = err.code;
    if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
      return new JournalError('duplicate-reference', `${what}: ${err.message}`, { cause: err, sqliteCode: code });
    }
    if (code.startsWith('SQLITE_CONSTRAINT')) {
      return new JournalError('invalid-record', `${what}: ${err.message}`, { cause: err, sqliteCode: code });
    }
    return new JournalError('storage-fault', `${what}: ${code}: ${err.message}`, { cause: err, sqliteCode: code });
  }
  // Creating the data directory can fail too (read-only filesystem, no space): the same fault to callers.
  if (err instanceof Error && typeof (err as NodeJS.ErrnoException).syscall === 'string') {
    const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
    const text = err.message.startsWith(code) ? err.message : `${code}: ${err.message}`;
    return new JournalError('storage-fault', `${what}: ${text}`, { cause: err });
  }
  // better-sqlite3 reports a closed connection as a TypeError; to callers it is a storage that cannot be used.
  if (err instanceof TypeError && /database connection is not open/i.test(err.message)) {
    return new JournalError('storage-fault', `${what}: the journal is closed`, { cause: err });
  }
  return err;
}

/** Runs `fn`, turning SQLite failures into JournalError. */
export function guarded<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw toJournalError(err, what);
  }
}
