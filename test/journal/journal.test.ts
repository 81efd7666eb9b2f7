import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  APPLICATION_ID,
  Journal,
  JournalError,
  SCHEMA_VERSION,
  type JournalErrorCode,
} from '../../src/journal/index.js';
import { AMEX, databaseBytes, MASTERCARD, steppingClock, tempDir, VISA } from './helpers.js';

let tmp: ReturnType<typeof tempDir>;
let path: string;
const open: Journal[] = [];

function openJournal(options: Parameters<typeof Journal.open>[1] = {}, at = path): Journal {
  const j = Journal.open(at, options);
  open.push(j);
  return j;
}

function journalError(fn: () => unknown, code: JournalErrorCode): JournalError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(JournalError);
    expect((err as JournalError).code, (err as Error).message).toBe(code);
    return err as JournalError;
  }
  throw new Error(`expected JournalError ${code}`);
}

beforeEach(() => {
  tmp = tempDir();
  path = join(tmp.dir, 'data', 'journal.sqlite');
});

afterEach(() => {
  for (const j of open.splice(0)) j.close();
  tmp.cleanup();
});

describe('opening', () => {
  it('creates the parent directory and sets WAL, synchronous FULL and foreign keys', () => {
    const j = openJournal();
    expect(existsSync(path)).toBe(true);
    expect(j.path).toBe(path);
    expect(j.settings()).toEqual({
      journalMode: 'wal',
      synchronous: 'full',
      foreignKeys: true,
      schemaVersion: SCHEMA_VERSION,
      readonly: false,
    });
    expect(j.integrityCheck()).toEqual(['ok']);

    // WAL, the schema version and the application id are properties of the file, visible to any connection.
    const raw = new Database(path, { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(raw.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(raw.pragma('application_id', { simple: true })).toBe(APPLICATION_ID);
    raw.close();
  });

  it('works in memory', () => {
    const j = openJournal({}, ':memory:');
    j.transactions.begin({ txnRef: 'm1', kind: 'sale', amount: 1, currency: '978' });
    expect(j.counts()).toEqual({ transactions: 1, anomalies: 0, inFlight: 1, pendingReversals: 0, safQueued: 0 });
  });

  it('keeps data across reopen and migrates only once', () => {
    const a = openJournal();
    a.transactions.begin({ txnRef: 't1', kind: 'sale', amount: 500, currency: '978' });
    a.close();
    const b = openJournal();
    expect(b.transactions.get('t1')?.amount).toBe(500);
    expect(b.settings().schemaVersion).toBe(SCHEMA_VERSION);
  });

  it('refuses a file that is not a journal or is from a newer version', () => {
    const other = join(tmp.dir, 'other.sqlite');
    const raw = new Database(other);
    raw.exec('CREATE TABLE telemetry (x INTEGER)');
    raw.close();
    expect(journalError(() => openJournal({}, other), 'storage-fault').message).toMatch(/not a journal/);

    openJournal().close();
    const bump = new Database(path);
    bump.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    bump.close();
    expect(journalError(() => openJournal(), 'storage-fault').message).toMatch(/newer than this software/);
  });

  it('reports a corrupt file as a storage fault with the SQLite code', () => {
    const bad = join(tmp.dir, 'garbage.sqlite');
    writeFileSync(bad, Buffer.alloc(8192, 0x41));
    const err = journalError(() => openJournal({}, bad), 'storage-fault');
    expect(err.sqliteCode).toBe('SQLITE_NOTADB');
    expect(err.message).toContain('SQLITE_NOTADB');
  });
});

describe('STAN', () => {
  it('counts from 1 and persists across reopen', () => {
    const a = openJournal();
    expect([a.counters.nextStan(), a.counters.nextStan(), a.counters.nextStan()]).toEqual([1, 2, 3]);
    a.close();
    expect(openJournal().counters.nextStan()).toBe(4);
  });

  it('wraps from 999999 to 1', () => {
    openJournal().close();
    const raw = new Database(path);
    raw.prepare("INSERT INTO counters (name, value) VALUES ('stan', 999998)").run();
    raw.close();
    const j = openJournal();
    expect([j.counters.nextStan(), j.counters.nextStan(), j.counters.nextStan()]).toEqual([999999, 1, 2]);
  });

  it('skips a STAN still held by an unfinished transaction', () => {
    const j = openJournal();
    j.transactions.begin({ txnRef: 'stuck', kind: 'sale', amount: 1, currency: '978' });
    j.transactions.recordState('stuck', 'sending', { stan: 1 });
    j.close();
    const raw = new Database(path);
    raw
      .prepare(
        "INSERT INTO counters (name, value) VALUES ('stan', 999999) ON CONFLICT (name) DO UPDATE SET value = 999999",
      )
      .run();
    raw.close();
    expect(openJournal().counters.nextStan()).toBe(2);
  });
});

describe('transactions', () => {
  it('records the row and every state change as events, in order', () => {
    const clock = steppingClock();
    const j = openJournal({ now: clock.now });
    const begun = j.transactions.begin({
      txnRef: 'abc',
      kind: 'sale',
      amount: 1250,
      currency: '978',
      ecrRequestId: 'ecr-1',
    });
    expect(begun).toMatchObject({
      txnRef: 'abc',
      kind: 'sale',
      state: 'created',
      outcome: null,
      amount: 1250,
      currency: '978',
      stan: null,
      receiptStatus: 'none',
      ecrRequestId: 'ecr-1',
    });
    j.transactions.recordState('abc', 'card-read', { maskedPan: '411111******1111', entryMode: 'chip' });
    const stan = j.counters.nextStan();
    j.transactions.recordState('abc', 'sending', { stan });
    const done = j.transactions.recordState(
      'abc',
      'approved',
      {
        outcome: 'approved',
        responseCode: '00',
        approvalCode: 'A1B2C3',
        rrn: '000000000001',
        receiptStatus: 'printed',
      },
      { hostMs: 321 },
    );

    expect(done).toMatchObject({
      state: 'approved',
      outcome: 'approved',
      stan,
      maskedPan: '411111******1111',
      entryMode: 'chip',
      responseCode: '00',
      approvalCode: 'A1B2C3',
      receiptStatus: 'printed',
    });
    expect(done.updatedAt).toBeGreaterThan(done.createdAt);
    const events = j.transactions.events('abc');
    expect(events.map((e) => e.state)).toEqual(['created', 'card-read', 'sending', 'approved']);
    expect(events.map((e) => e.at)).toEqual([...events.map((e) => e.at)].sort((x, y) => x - y));
    expect(events[0]?.changes).toBeNull();
    expect(events[2]?.changes).toEqual({ stan });
    expect(events[3]?.detail).toEqual({ hostMs: 321 });
    expect(events.every((e) => e.txnRef === 'abc')).toBe(true);
  });

  it('leaves undefined patch fields alone and clears null ones', () => {
    const j = openJournal();
    j.transactions.begin({ txnRef: 'p', kind: 'sale', amount: 1, currency: '978' });
    j.transactions.recordState('p', 'authorized', { responseCode: '00', rrn: '123' });
    const row = j.transactions.recordState('p', 'corrected', { rrn: null, approvalCode: undefined });
    expect(row.responseCode).toBe('00');
    expect(row.rrn).toBeNull();
  });

  it('refuses unknown transactions, duplicate references and invalid values', () => {
    const j = openJournal();
    journalError(() => j.transactions.recordState('nope', 'x'), 'unknown-transaction');
    j.transactions.begin({ txnRef: 'dup', kind: 'sale', amount: 1, currency: '978' });
    journalError(
      () => j.transactions.begin({ txnRef: 'dup', kind: 'refund', amount: 2, currency: '978' }),
      'duplicate-reference',
    );
    journalError(
      () => j.transactions.begin({ txnRef: 'neg', kind: 'sale', amount: -1, currency: '978' }),
      'invalid-record',
    );
    journalError(
      () => j.transactions.begin({ txnRef: 'flt', kind: 'sale', amount: 12.5, currency: '978' }),
      'invalid-record',
    );
    journalError(
      () => j.transactions.begin({ txnRef: 'cur', kind: 'sale', amount: 1, currency: 'EUR' }),
      'invalid-record',
    );
    journalError(
      () => j.transactions.begin({ txnRef: 'knd', kind: 'payout' as never, amount: 1, currency: '978' }),
      'invalid-record',
    );
    journalError(() => j.transactions.recordState('dup', 'x', { stan: 0 }), 'invalid-record');
    journalError(() => j.transactions.recordState('dup', 'x', { outcome: 'maybe' as never }), 'invalid-record');
    // The amount may change only to what a partial approval approved: a valid amount of minor units.
    journalError(() => j.transactions.recordState('dup', 'x', { amount: -5 }), 'invalid-record');
    journalError(() => j.transactions.recordState('dup', 'x', { amount: 2.5 }), 'invalid-record');
    // None of the refused writes left a trace.
    expect(j.transactions.events('dup').map((e) => e.state)).toEqual(['created']);
    expect(j.counts().transactions).toBe(1);
  });

  it('finds by STAN (newest, optionally by kind), ECR request id, last outcome and in-flight', () => {
    const j = openJournal();
    const mk = (
      ref: string,
      kind: 'sale' | 'refund' | 'void',
      stan: number | null,
      outcome: 'approved' | 'declined' | null,
      ecr?: string,
    ) => {
      j.transactions.begin({ txnRef: ref, kind, amount: 100, currency: '978', ...(ecr ? { ecrRequestId: ecr } : {}) });
      if (stan !== null) j.transactions.recordState(ref, 'sending', { stan });
      if (outcome) j.transactions.recordState(ref, outcome, { outcome });
    };
    mk('s1', 'sale', 7, 'approved', 'r1');
    mk('r1', 'refund', 7, 'declined', 'r1');
    mk('s2', 'sale', 8, 'approved');
    mk('s3', 'sale', 9, null);
    mk('s4', 'sale', null, null);

    expect(j.transactions.findByStan(7)?.txnRef).toBe('r1');
    expect(j.transactions.findByStan(7, 'sale')?.txnRef).toBe('s1');
    expect(j.transactions.findByStan(7, 'void')).toBeUndefined();
    expect(j.transactions.findByEcrRequestId('r1')?.txnRef).toBe('r1');
    expect(j.transactions.findByEcrRequestId('zz')).toBeUndefined();
    expect(j.transactions.lastReceiptCandidate()?.txnRef).toBe('s2');
    expect(j.transactions.inFlight().map((r) => r.txnRef)).toEqual(['s3', 's4']);
    expect(j.counts()).toEqual({ transactions: 5, anomalies: 0, inFlight: 2, pendingReversals: 0, safQueued: 0 });
    expect(j.transactions.get('missing')).toBeUndefined();
  });

  it('filters the transaction list by time, state, outcome and limit', () => {
    const clock = steppingClock(Date.UTC(2024, 4, 1), 3_600_000);
    const j = openJournal({ now: clock.now });
    for (let i = 0; i < 6; i++) {
      const ref = `t${i}`;
      clock.set(Date.UTC(2024, 4, 1 + i));
      j.transactions.begin({ txnRef: ref, kind: 'sale', amount: i, currency: '978' });
      j.transactions.recordState(ref, i % 2 ? 'declined' : 'approved', { outcome: i % 2 ? 'declined' : 'approved' });
    }
    const refs = (rows: { txnRef: string }[]) => rows.map((r) => r.txnRef);
    expect(refs(j.transactions.list())).toEqual(['t0', 't1', 't2', 't3', 't4', 't5']);
    expect(refs(j.transactions.list({ outcome: 'declined' }))).toEqual(['t1', 't3', 't5']);
    expect(refs(j.transactions.list({ state: 'approved' }))).toEqual(['t0', 't2', 't4']);
    const created = j.transactions.list().map((r) => r.createdAt);
    expect(refs(j.transactions.list({ from: created[2]!, to: created[4]! }))).toEqual(['t2', 't3']);
    expect(refs(j.transactions.list({ limit: 2 }))).toEqual(['t4', 't5']);
    expect(refs(j.transactions.list({ outcome: 'approved', limit: 1 }))).toEqual(['t4']);
  });
});

describe('anomalies', () => {
  it('records and filters anomalies', () => {
    const clock = steppingClock(Date.UTC(2024, 4, 1), 60_000);
    const j = openJournal({ now: clock.now });
    const a = j.anomalies.record({
      code: 'E301',
      class: 'hardware-fault',
      severity: 'error',
      message: 'paper out',
      txnRef: 't1',
      stan: 12,
      amount: 990,
      currency: '978',
      maskedPan: '411111******1111',
      detail: { device: 'printer' },
    });
    expect(a).toMatchObject({
      code: 'E301',
      class: 'hardware-fault',
      stan: 12,
      amount: 990,
      maskedPan: '411111******1111',
      detail: { device: 'printer' },
      at: Date.UTC(2024, 4, 1),
    });
    j.anomalies.record({ code: 'E101', class: 'host-timeout', severity: 'error', message: 'timeout' });
    j.anomalies.record({ code: 'E301', class: 'hardware-fault', severity: 'error', message: 'paper out again' });
    const minimal = j.anomalies.list({ code: 'E101' });
    expect(minimal).toHaveLength(1);
    expect(minimal[0]).toMatchObject({
      txnRef: null,
      stan: null,
      amount: null,
      currency: null,
      maskedPan: null,
      detail: null,
    });
    expect(j.anomalies.list({ class: 'hardware-fault' }).map((r) => r.message)).toEqual([
      'paper out',
      'paper out again',
    ]);
    expect(
      j.anomalies.list({ from: Date.UTC(2024, 4, 1, 0, 1), to: Date.UTC(2024, 4, 1, 0, 2) }).map((r) => r.code),
    ).toEqual(['E101']);
    expect(j.anomalies.list({ limit: 1 }).map((r) => r.message)).toEqual(['paper out again']);
    expect(j.counts().anomalies).toBe(3);
  });
});

describe('card data guard in the journal', () => {
  it('refuses card data in details, patches and anomalies, and none reaches the file', () => {
    const j = openJournal();
    j.transactions.begin({ txnRef: 'g', kind: 'sale', amount: 100, currency: '978' });
    journalError(() => j.transactions.recordState('g', 'card-read', {}, { pan: VISA }), 'card-data-refused');
    journalError(
      () => j.transactions.recordState('g', 'card-read', {}, { raw: `;${MASTERCARD}=2512101123456789?` }),
      'card-data-refused',
    );
    journalError(() => j.transactions.recordState('g', 'card-read', {}, { card: { cvv: '123' } }), 'card-data-refused');
    journalError(() => j.transactions.recordState('g', 'card-read', { maskedPan: AMEX }), 'card-data-refused');
    journalError(
      () => j.transactions.recordState('g', 'card-read', { maskedPan: '4111 11** **** 1111' }),
      'card-data-refused',
    );
    journalError(
      () => j.transactions.recordState('g', 'card-read', { entryMode: `swipe ${VISA}` }),
      'card-data-refused',
    );
    journalError(
      () =>
        j.anomalies.record({ code: 'E520', class: 'suspected-fraud', severity: 'error', message: `bad card ${VISA}` }),
      'card-data-refused',
    );
    journalError(
      () =>
        j.anomalies.record({
          code: 'E520',
          class: 'suspected-fraud',
          severity: 'error',
          message: 'x',
          maskedPan: MASTERCARD,
        }),
      'card-data-refused',
    );
    journalError(
      () =>
        j.anomalies.record({
          code: 'E520',
          class: 'suspected-fraud',
          severity: 'error',
          message: 'x',
          detail: { track2: 'x' },
        }),
      'card-data-refused',
    );
    journalError(
      () => j.transactions.begin({ txnRef: 'h', kind: 'sale', amount: 1, currency: '978', ecrRequestId: VISA }),
      'card-data-refused',
    );

    const row = j.transactions.recordState('g', 'card-read', { maskedPan: '411111******1111' });
    expect(row.maskedPan).toBe('411111******1111');
    expect(j.transactions.events('g').map((e) => e.state)).toEqual(['created', 'card-read']);
    j.close();

    const bytes = databaseBytes(path).toString('latin1');
    expect(bytes).toContain('411111******1111');
    for (const pan of [VISA, MASTERCARD, AMEX]) expect(bytes).not.toContain(pan);
  });

  it('stores an empty masked PAN as none', () => {
    const j = openJournal();
    j.transactions.begin({ txnRef: 'e', kind: 'sale', amount: 1, currency: '978' });
    expect(j.transactions.recordState('e', 'card-read', { maskedPan: '' }).maskedPan).toBeNull();
  });
});

describe('storage faults', () => {
  it('reads a journal opened read-only and fails every write as a storage fault', () => {
    const w = openJournal();
    w.transactions.begin({ txnRef: 'ro', kind: 'sale', amount: 1, currency: '978' });
    w.close();
    const r = openJournal({ readonly: true });
    expect(r.transactions.get('ro')?.txnRef).toBe('ro');
    expect(r.settings().readonly).toBe(true);
    for (const write of [
      () => r.counters.nextStan(),
      () => r.transactions.recordState('ro', 'x'),
      () => r.transactions.begin({ txnRef: 'ro2', kind: 'sale', amount: 1, currency: '978' }),
      () => r.anomalies.record({ code: 'E601', class: 'system-fault', severity: 'critical', message: 'x' }),
    ]) {
      const err = journalError(write, 'storage-fault');
      expect(err.sqliteCode).toMatch(/^SQLITE_READONLY/);
      expect(err.message).toContain('SQLITE_READONLY');
    }
  });

  it('refuses a read-only open of a missing file', () => {
    journalError(() => openJournal({ readonly: true }, join(tmp.dir, 'missing.sqlite')), 'storage-fault');
  });

  it('fails a write blocked by another writer as a storage fault instead of waiting forever', () => {
    const j = openJournal({ busyTimeoutMs: 0 });
    const other = new Database(path);
    other.exec('BEGIN IMMEDIATE');
    try {
      const err = journalError(() => j.counters.nextStan(), 'storage-fault');
      expect(err.sqliteCode).toBe('SQLITE_BUSY');
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    expect(j.counters.nextStan()).toBe(1);
  });

  it('fails when the disk refuses to grow the file', () => {
    // A page budget on the writer's own connection is the portable stand-in for a full disk (tests run as root,
    // so permissions cannot make a write fail). The journal must surface SQLITE_FULL, not a bare SqliteError.
    const j = openJournal();
    const db = (j as unknown as { db: Database.Database }).db;
    const pages = db.pragma('page_count', { simple: true }) as number;
    db.pragma(`max_page_count = ${pages}`);
    const err = journalError(() => {
      for (let i = 0; i < 10_000; i++)
        j.anomalies.record({ code: 'E601', class: 'system-fault', severity: 'critical', message: 'x'.repeat(900) });
    }, 'storage-fault');
    expect(err.sqliteCode).toBe('SQLITE_FULL');
  });

  it('reports a data directory that cannot be created as a storage fault', () => {
    writeFileSync(join(tmp.dir, 'blocker'), 'not a directory');
    const err = journalError(() => openJournal({}, join(tmp.dir, 'blocker', 'journal.sqlite')), 'storage-fault');
    expect(err.message).toMatch(/: (EEXIST|ENOTDIR): /);
  });

  it('reports use after close as a storage fault', () => {
    const j = openJournal();
    j.close();
    journalError(() => j.counters.nextStan(), 'storage-fault');
    expect(() => j.close()).not.toThrow();
  });
});
