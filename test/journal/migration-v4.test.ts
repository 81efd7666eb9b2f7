/**
 * Migration 4 rebuilds the store-and-forward queue (a 'cancelled' state) and adds the reversals set aside: queued
 * advices keep their rows, ids (the forwarding order) and the AUTOINCREMENT sequence, so no id is ever reused.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { APPLICATION_ID, Journal, MIGRATIONS } from '../../src/journal/index.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('migration 4', () => {
  it('keeps queued advices, their ids and the id sequence; the new states work on the old rows', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pos-mig4-'));
    dirs.push(dir);
    const path = join(dir, 'journal.sqlite');
    mkdirSync(dirname(path), { recursive: true });
    const raw = new Database(path);
    raw.pragma('journal_mode = WAL');
    raw.exec('BEGIN');
    for (const m of MIGRATIONS.filter((m) => m.version <= 3)) m.up(raw);
    raw.pragma(`application_id = ${APPLICATION_ID}`);
    raw.pragma('user_version = 3');
    raw.exec('COMMIT');
    const T0 = Date.UTC(2026, 0, 1);
    for (const [ref, stan] of [
      ['old-a', 5],
      ['old-b', 6],
    ] as const) {
      raw
        .prepare(`INSERT INTO transactions (txn_ref, kind, state, outcome, amount, currency, stan, created_at, updated_at)
        VALUES (?, 'sale', 'offline-approved', 'offline-approved', 700, '978', ?, ?, ?)`)
        .run(ref, stan, T0, T0);
    }
    const insertSaf =
      raw.prepare(`INSERT INTO saf_queue (id, txn_ref, stan, processing_code, amount, currency, approval_code, entry_mode,
      masked_pan, transmitted_at, terminal_id, merchant_id, card_blob, state, created_at, updated_at)
      VALUES (?, ?, ?, '000000', 700, '978', 'Y10005', 'chip', '476173******0010', ?, 'T0000001', 'MERCHANT0000001', ?, 'queued', ?, ?)`);
    insertSaf.run(3, 'old-a', 5, T0, Buffer.from([1, 2, 3]), T0, T0);
    insertSaf.run(7, 'old-b', 6, T0, Buffer.from([4, 5, 6]), T0, T0);
    // Ids up to 9 were handed out once (rows purged some day): they must never come back.
    raw.prepare("UPDATE sqlite_sequence SET seq = 9 WHERE name = 'saf_queue'").run();
    raw.close();

    const j = Journal.open(path, { now: () => T0 });
    expect(j.settings().schemaVersion).toBe(9);
    expect(j.integrityCheck()).toEqual(['ok']);
    expect(j.saf.queue().map((i) => [i.id, i.txnRef, i.state])).toEqual([
      [3, 'old-a', 'queued'],
      [7, 'old-b', 'queued'],
    ]);
    expect(j.saf.item(3)!.cardBlob).toEqual(Buffer.from([1, 2, 3]));

    j.transactions.begin({ txnRef: 'new-c', kind: 'sale', amount: 800, currency: '978' });
    const { saf } = j.recordOfflineApproval(
      'new-c',
      'offline-approved',
      { stan: 7, responseCode: 'Y1' },
      {
        stan: 7,
        processingCode: '000000',
        amount: 800,
        currency: '978',
        approvalCode: 'Y10007',
        entryMode: 'chip',
        maskedPan: '476173******0010',
        transmittedAt: T0,
        terminalId: 'T0000001',
        merchantId: 'MERCHANT0000001',
        cardBlob: Buffer.from([7, 8, 9]),
      },
    );
    expect(saf.id).toBe(10);

    j.transactions.begin({ txnRef: 'void-a', kind: 'void', amount: 700, currency: '978' });
    j.cancelAdviceForVoid('void-a', 3, 'authorized', { responseCode: 'Y1' });
    expect(j.saf.item(3)).toMatchObject({ state: 'cancelled', cardBlob: null });
    expect(j.saf.queue().map((i) => i.id)).toEqual([7, 10]);
    j.close();
  });

  it('refuses to cancel an advice that may have left', () => {
    const j = Journal.open(':memory:');
    j.transactions.begin({ txnRef: 'sale-1', kind: 'sale', amount: 700, currency: '978' });
    const { saf } = j.recordOfflineApproval(
      'sale-1',
      'offline-approved',
      { stan: 1, responseCode: 'Y1' },
      {
        stan: 1,
        processingCode: '000000',
        amount: 700,
        currency: '978',
        approvalCode: 'Y10001',
        entryMode: 'chip',
        maskedPan: '476173******0010',
        transmittedAt: 1,
        terminalId: 'T0000001',
        merchantId: 'MERCHANT0000001',
        cardBlob: Buffer.from([1]),
      },
    );
    j.saf.recordAttempt(saf.id, { attempts: 1, nextAttemptAt: null, reason: 'sent' });
    j.transactions.begin({ txnRef: 'void-1', kind: 'void', amount: 700, currency: '978' });
    expect(() => j.cancelAdviceForVoid('void-1', saf.id, 'authorized', { responseCode: 'Y1' })).toThrow(
      /cannot be cancelled/,
    );
    // Nothing of the void was written either: one commit or none.
    expect(j.transactions.get('void-1')!.state).toBe('created');
    expect(j.saf.item(saf.id)!.state).toBe('queued');
    j.close();
  });
});
