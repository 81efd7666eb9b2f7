/**
 * The pre-authorization migration rebuilds the transactions table (new kinds, a tip column): every row, its id, its
 * events, reversals and advices survive and still point at it; the old kinds stay refused outside the list.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { APPLICATION_ID, Journal, MIGRATIONS, SCHEMA_VERSION } from '../../src/journal/index.js';
import { PREAUTH_TIPS_VERSION } from '../../src/journal/migrations/v8-preauth-tips.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the pre-authorization migration', () => {
  it('keeps transactions, their events and reversals; takes the new kinds and tips', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pos-mig-preauth-'));
    dirs.push(dir);
    const path = join(dir, 'journal.sqlite');
    const raw = new Database(path);
    raw.pragma('journal_mode = WAL');
    raw.pragma('foreign_keys = ON');
    raw.exec('BEGIN');
    for (const m of MIGRATIONS.filter((m) => m.version < PREAUTH_TIPS_VERSION)) m.up(raw);
    raw.pragma(`application_id = ${APPLICATION_ID}`);
    raw.pragma(`user_version = ${PREAUTH_TIPS_VERSION - 1}`);
    raw.exec('COMMIT');
    const T0 = Date.UTC(2026, 0, 1);
    raw
      .prepare(`INSERT INTO transactions (id, txn_ref, kind, state, outcome, amount, currency, stan, created_at, updated_at,
        request_mti, transmitted_at) VALUES (41, 'old-sale', 'sale', 'done', 'approved', 1250, '978', 12, ?, ?, '0200', ?)`)
      .run(T0, T0, T0);
    raw.prepare(`INSERT INTO transaction_events (txn_id, at, state) VALUES (41, ?, 'approved')`).run(T0);
    raw
      .prepare(`INSERT INTO reversals (txn_ref, stan, original_mti, processing_code, amount, currency, transmitted_at,
        terminal_id, merchant_id, state, created_at, updated_at)
        VALUES ('old-sale', 12, '0200', '000000', 1250, '978', ?, 'T0000001', 'MERCHANT0000001', 'cleared', ?, ?)`)
      .run(T0, T0, T0);
    raw.close();

    const j = Journal.open(path, { now: () => T0 });
    expect(j.settings()).toMatchObject({ schemaVersion: SCHEMA_VERSION, foreignKeys: true });
    expect(j.integrityCheck()).toEqual(['ok']);
    expect(j.transactions.get('old-sale')).toMatchObject({
      id: 41,
      kind: 'sale',
      amount: 1250,
      tipAmount: 0,
      stan: 12,
    });
    expect(j.transactions.events('old-sale').map((e) => e.state)).toEqual(['approved']);
    expect(j.reversals.forTransaction('old-sale')?.state).toBe('cleared');
    // The new kinds and the tip column work; the foreign keys are on again.
    j.transactions.begin({ txnRef: 'hold', kind: 'preauth', amount: 9000, currency: '978' });
    j.transactions.begin({ txnRef: 'done', kind: 'completion', amount: 9900, currency: '978', tipAmount: 900 });
    expect(j.transactions.get('done')?.tipAmount).toBe(900);
    expect(() =>
      j.transactions.begin({ txnRef: 'x', kind: 'sale', amount: 10, currency: '978', tipAmount: 11 }),
    ).toThrow();
    j.preauths.open({ txnRef: 'hold', stan: 13, currency: '978', heldAmount: 9000, expiresAt: T0 + 1 });
    expect(j.preauths.get('hold')?.state).toBe('open');
    expect(() =>
      j.preauths.open({ txnRef: 'nobody', stan: 14, currency: '978', heldAmount: 1, expiresAt: T0 + 1 }),
    ).toThrow();
    j.preauths.close('hold', 'completed', 'done');
    expect(() => j.preauths.close('hold', 'completed', 'done')).toThrow(/not open/);
    j.close();
  });
});
