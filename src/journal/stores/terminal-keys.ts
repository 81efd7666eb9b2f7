/**
 * The terminal's keys as the journal holds them: sealed blobs (the card vault seals and opens them; the journal never
 * sees a key in clear), with each key's check value and where it came from.
 */
import type Database from 'better-sqlite3';
import { invalid } from '../checks.js';
import { Store, type Stmt } from './store.js';

/** 'tmk': the terminal master key; 'mac': the session MAC key of the last sign-on. */
export type TerminalKeyName = 'tmk' | 'mac';
/** 'loaded' by the key-loading command, 'test' generated for the embedded simulator, 'sign-on' from the host. */
export type TerminalKeyOrigin = 'loaded' | 'test' | 'sign-on';

export interface SealedTerminalKey {
  name: TerminalKeyName;
  sealed: Buffer;
  checkValue: string;
  origin: TerminalKeyOrigin;
  updatedAt: number;
}

export class TerminalKeyStore extends Store {
  private readonly stmt: Record<'get' | 'put' | 'remove', Stmt>;

  constructor(db: Database.Database, now: () => number) {
    super(db, now);
    this.stmt = {
      get: db.prepare(
        'SELECT name, sealed, check_value AS checkValue, origin, updated_at AS updatedAt FROM terminal_keys WHERE name = ?',
      ),
      put: db.prepare(
        `INSERT INTO terminal_keys (name, sealed, check_value, origin, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET sealed = excluded.sealed, check_value = excluded.check_value,
         origin = excluded.origin, updated_at = excluded.updated_at`,
      ),
      remove: db.prepare('DELETE FROM terminal_keys WHERE name = ?'),
    };
  }

  get(name: TerminalKeyName): SealedTerminalKey | undefined {
    return this.run(`read ${name} key`, () => this.stmt.get.get(name) as SealedTerminalKey | undefined);
  }

  put(key: Omit<SealedTerminalKey, 'updatedAt'>): void {
    if (!Buffer.isBuffer(key.sealed) || key.sealed.length < 16) invalid('a sealed key is a blob from the card vault');
    if (!/^[0-9A-F]{6}$/.test(key.checkValue)) invalid('a key check value is 6 upper-case hex digits');
    this.run(`write ${key.name} key`, () =>
      this.stmt.put.run(key.name, key.sealed, key.checkValue, key.origin, this.now()),
    );
  }

  remove(name: TerminalKeyName): void {
    this.run(`remove ${name} key`, () => this.stmt.remove.run(name));
  }
}
