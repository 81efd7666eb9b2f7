/**
 * Pre-stored reversals and the store-and-forward queue (journal schema version 2): each write is one SQLite
 * transaction, a refused write changes nothing, and everything survives a reopen, a migration and a SIGKILL.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CardVault } from '../../src/durability/card-vault.js';
import {
  APPLICATION_ID,
  Journal,
  JournalError,
  MIGRATIONS,
  REVERSAL_STATES,
  SCHEMA_VERSION,
  type ArmReversalInput,
  type JournalErrorCode,
  type OfflineApprovalItem,
} from '../../src/journal/index.js';
import { buildJournalModule, databaseBytes, steppingClock, tempDir, VISA } from './helpers.js';

const MASKED = '411111******1111';
const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);

let tmp: ReturnType<typeof tempDir>;
let path: string;
const open: Journal[] = [];

function openJournal(options: Parameters<typeof Journal.open>[1] = {}): Journal {
  const j = Journal.open(path, { now: steppingClock().now, ...options });
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

function reversalInput(txnRef: string, over: Partial<ArmReversalInput> = {}): ArmReversalInput {
  return {
    txnRef,
    stan: 42,
    originalMti: '0200',
    processingCode: '000000',
    amount: 1250,
    currency: '978',
    transmittedAt: T0,
    terminalId: 'TERM0001',
    merchantId: 'MERCHANT0000001',
    maskedPan: MASKED,
    ...over,
  };
}

function safItem(over: Partial<OfflineApprovalItem> = {}): OfflineApprovalItem {
  return {
    stan: 7,
    processingCode: '000000',
    amount: 1000,
    currency: '978',
    approvalCode: 'Y1',
    entryMode: 'chip',
    maskedPan: MASKED,
    transmittedAt: T0,
    terminalId: 'TERM0001',
    merchantId: 'MERCHANT0000001',
    // Stands in for a sealed card: opaque bytes with no clear digits.
    cardBlob: Buffer.from([1, 0xde, 0xad, 0xbe, 0xef, 0x00, 0xff]),
    ...over,
  };
}

/** A sale that has reached the point of sending its authorization, with its reversal armed. */
function sending(j: Journal, txnRef: string, stan = 42): void {
  j.transactions.begin({ txnRef, kind: 'sale', amount: 1250, currency: '978' });
  j.transactions.recordState(txnRef, 'sending', { stan, maskedPan: MASKED, entryMode: 'chip' });
  j.reversals.arm(reversalInput(txnRef, { stan }));
}

/** A sale the host could not be reached for, ready to be approved offline. */
function offlineCandidate(j: Journal, txnRef: string, amount = 1000): void {
  j.transactions.begin({ txnRef, kind: 'sale', amount, currency: '978' });
  j.transactions.recordState(txnRef, 'card-read', { maskedPan: MASKED, entryMode: 'chip' });
}

const approvedOffline = { outcome: 'offline-approved', approvalCode: 'Y1', responseCode: 'Y1' } as const;

beforeEach(() => {
  tmp = tempDir();
  path = join(tmp.dir, 'data', 'journal.sqlite');
});

afterEach(() => {
  for (const j of open.splice(0)) j.close();
  tmp.cleanup();
});

describe('migration 2', () => {
  it('upgrades a version 1 journal in place and keeps its data', () => {
    const v1 = MIGRATIONS.find((m) => m.version === 1);
    if (!v1) throw new Error('migration 1 missing');
    mkdirSync(dirname(path), { recursive: true });
    const raw = new Database(path);
    raw.pragma('journal_mode = WAL');
    raw.exec('BEGIN');
    v1.up(raw);
    raw.pragma(`application_id = ${APPLICATION_ID}`);
    raw.pragma('user_version = 1');
    raw.exec('COMMIT');
    raw
      .prepare(
        `INSERT INTO transactions (txn_ref, kind, state, outcome, amount, currency, stan, masked_pan, response_code, created_at, updated_at)
         VALUES ('old-1', 'sale', 'approved', 'approved', 900, '978', 5, ?, '00', ?, ?), ('old-2', 'sale', 'sending', NULL, 300, '978', 6, NULL, NULL, ?, ?)`,
      )
      .run(MASKED, T0, T0, T0, T0);
    raw.prepare("INSERT INTO counters (name, value) VALUES ('stan', 6)").run();
    raw.close();

    const j = openJournal();
    expect(SCHEMA_VERSION).toBe(9);
    expect(j.settings().schemaVersion).toBe(SCHEMA_VERSION);
    expect(j.integrityCheck()).toEqual(['ok']);
    expect(j.transactions.get('old-1')).toMatchObject({
      outcome: 'approved',
      amount: 900,
      maskedPan: MASKED,
      responseCode: '00',
    });
    expect(j.transactions.inFlight().map((t) => t.txnRef)).toEqual(['old-2']);
    expect(j.counters.nextStan()).toBe(7);
    expect(j.counts()).toEqual({ transactions: 2, anomalies: 0, inFlight: 1, pendingReversals: 0, safQueued: 0 });
    // The new tables work against rows written before the migration.
    expect(j.reversals.arm(reversalInput('old-2', { stan: 6 })).state).toBe('armed');
  });

  it('is applied once: reopening a version 2 journal leaves it as it is', () => {
    const a = openJournal();
    sending(a, 't1');
    a.close();
    const b = openJournal();
    expect(b.settings().schemaVersion).toBe(SCHEMA_VERSION);
    expect(b.reversals.forTransaction('t1')?.state).toBe('armed');
  });
});

describe('pre-stored reversals', () => {
  it('arms a reversal with every field the reversal message needs', () => {
    const clock = steppingClock(T0 + 60_000);
    const j = openJournal({ now: clock.now });
    j.transactions.begin({ txnRef: 't1', kind: 'sale', amount: 1250, currency: '978' });
    const r = j.reversals.arm(reversalInput('t1'));
    expect(r).toEqual({
      id: expect.any(Number),
      txnRef: 't1',
      stan: 42,
      originalMti: '0200',
      processingCode: '000000',
      amount: 1250,
      currency: '978',
      transmittedAt: T0,
      terminalId: 'TERM0001',
      merchantId: 'MERCHANT0000001',
      maskedPan: MASKED,
      posEntryMode: null,
      acquiringInstitutionId: null,
      forwardingInstitutionId: null,
      cardBlob: null,
      reasonCode: null,
      state: 'armed',
      attempts: 0,
      nextAttemptAt: null,
      reason: null,
      responseCode: null,
      createdAt: T0 + 60_000 + 1000,
      updatedAt: T0 + 60_000 + 1000,
    });
    expect(j.reversals.forTransaction('t1')).toEqual(r);
    expect(j.reversals.armed()).toEqual([r]);
    expect(j.reversals.forTransaction('nope')).toBeUndefined();
  });

  it('keeps the masked PAN optional', () => {
    const j = openJournal();
    j.transactions.begin({ txnRef: 't1', kind: 'sale', amount: 1, currency: '978' });
    expect(j.reversals.arm(reversalInput('t1', { maskedPan: undefined })).maskedPan).toBeNull();
    j.transactions.begin({ txnRef: 't2', kind: 'sale', amount: 1, currency: '978' });
    expect(j.reversals.arm(reversalInput('t2', { maskedPan: '' })).maskedPan).toBeNull();
  });

  it('stores one reversal per transaction, and only for a known transaction', () => {
    const j = openJournal();
    sending(j, 't1');
    const err = journalError(() => j.reversals.arm(reversalInput('t1', { stan: 43 })), 'duplicate-reference');
    expect(err.message).toMatch(/already stored for t1/);
    expect(j.reversals.forTransaction('t1')?.stan).toBe(42);
    journalError(() => j.reversals.arm(reversalInput('ghost')), 'unknown-transaction');
    expect(j.reversals.armed()).toHaveLength(1);
  });

  it.each([
    ['stan', { stan: 0 }],
    ['originalMti', { originalMti: '200' }],
    ['processingCode', { processingCode: '00000A' }],
    ['amount', { amount: -1 }],
    ['currency', { currency: 'EUR' }],
    ['transmittedAt', { transmittedAt: 1.5 }],
    ['terminalId', { terminalId: '' }],
  ] as const)('refuses an invalid %s', (_field, over) => {
    const j = openJournal();
    j.transactions.begin({ txnRef: 't1', kind: 'sale', amount: 1, currency: '978' });
    journalError(() => j.reversals.arm(reversalInput('t1', over)), 'invalid-record');
    expect(j.reversals.forTransaction('t1')).toBeUndefined();
  });

  it('refuses clear card data in any column', () => {
    const j = openJournal();
    j.transactions.begin({ txnRef: 't1', kind: 'sale', amount: 1, currency: '978' });
    journalError(() => j.reversals.arm(reversalInput('t1', { maskedPan: VISA })), 'card-data-refused');
    journalError(() => j.reversals.arm(reversalInput('t1', { terminalId: `T ${VISA}` })), 'card-data-refused');
    journalError(() => j.reversals.arm(reversalInput('t1', { merchantId: `;${VISA}=2512101` })), 'card-data-refused');
    expect(j.reversals.forTransaction('t1')).toBeUndefined();
    j.reversals.arm(reversalInput('t1'));
    journalError(() => j.reversals.markPending('t1', `timeout for ${VISA}`), 'card-data-refused');
    journalError(() => j.reversals.release('t1', `not sent ${VISA}`), 'card-data-refused');
    expect(j.reversals.forTransaction('t1')?.state).toBe('armed');
  });

  it('recordAuthorization writes the answer and clears the armed reversal together', () => {
    const j = openJournal();
    sending(j, 't1');
    const row = j.recordAuthorization(
      't1',
      'approved',
      { outcome: 'approved', responseCode: '00', approvalCode: 'A1B2C3', rrn: '000000000042' },
      { host: 'sim' },
    );
    expect(row).toMatchObject({ state: 'approved', outcome: 'approved', responseCode: '00', approvalCode: 'A1B2C3' });
    expect(j.reversals.forTransaction('t1')).toMatchObject({
      state: 'cleared',
      responseCode: '00',
      reason: 'host answered',
    });
    expect(j.reversals.armed()).toEqual([]);
    expect(j.reversals.pending()).toEqual([]);
    const last = j.transactions.events('t1').at(-1);
    expect(last).toMatchObject({
      state: 'approved',
      detail: { host: 'sim' },
      changes: { outcome: 'approved', responseCode: '00' },
    });
  });

  it('a decline clears the reversal too', () => {
    const j = openJournal();
    sending(j, 't1');
    j.recordAuthorization('t1', 'declined', { outcome: 'declined', responseCode: '05' });
    expect(j.reversals.forTransaction('t1')).toMatchObject({ state: 'cleared', responseCode: '05' });
  });

  it.each([
    ['a patch with a clear PAN', { outcome: 'approved', maskedPan: VISA }, undefined],
    ['a detail with track data', { outcome: 'approved', responseCode: '00' }, { raw: `;${VISA}=2512101123` }],
    ['a detail with a CVV key', { outcome: 'approved', responseCode: '00' }, { cvv: '123' }],
  ] as const)('changes nothing when recordAuthorization is refused for %s', (_what, patch, detail) => {
    const j = openJournal();
    sending(j, 't1');
    const before = {
      txn: j.transactions.get('t1'),
      events: j.transactions.events('t1'),
      reversal: j.reversals.forTransaction('t1'),
    };
    journalError(() => j.recordAuthorization('t1', 'approved', patch, detail), 'card-data-refused');
    expect(j.transactions.get('t1')).toEqual(before.txn);
    expect(j.transactions.events('t1')).toEqual(before.events);
    expect(j.reversals.forTransaction('t1')).toEqual(before.reversal);
    expect(j.reversals.forTransaction('t1')?.state).toBe('armed');
  });

  it('recordAuthorization works for a transaction without a reversal and refuses an unknown one', () => {
    const j = openJournal();
    j.transactions.begin({ txnRef: 't1', kind: 'sale', amount: 1, currency: '978' });
    expect(j.recordAuthorization('t1', 'approved', { outcome: 'approved', responseCode: '00' }).outcome).toBe(
      'approved',
    );
    expect(j.reversals.forTransaction('t1')).toBeUndefined();
    journalError(() => j.recordAuthorization('ghost', 'approved', { outcome: 'approved' }), 'unknown-transaction');
  });

  it('a late answer does not cancel a reversal already owed', () => {
    const j = openJournal();
    sending(j, 't1');
    j.reversals.markPending('t1', 'response timeout');
    j.recordAuthorization('t1', 'approved-late', { responseCode: '00' });
    expect(j.reversals.forTransaction('t1')).toMatchObject({
      state: 'pending',
      reason: 'response timeout',
      responseCode: null,
    });
    expect(j.reversals.pending().map((r) => r.txnRef)).toEqual(['t1']);
  });

  it('releaseReversal clears an armed reversal with its reason and is a no-op otherwise', () => {
    const j = openJournal();
    sending(j, 't1');
    j.reversals.release('t1', 'link down before send');
    expect(j.reversals.forTransaction('t1')).toMatchObject({
      state: 'cleared',
      reason: 'link down before send',
      responseCode: null,
    });
    j.reversals.release('t1', 'again');
    expect(j.reversals.forTransaction('t1')?.reason).toBe('link down before send');

    sending(j, 't2', 43);
    j.reversals.markPending('t2', 'response timeout');
    j.reversals.release('t2', 'too late');
    expect(j.reversals.forTransaction('t2')).toMatchObject({ state: 'pending', reason: 'response timeout' });

    expect(() => j.reversals.release('no-reversal', 'nothing to do')).not.toThrow();
  });

  it('markReversalPending moves armed to pending and returns the row in any other state', () => {
    const j = openJournal();
    sending(j, 't1');
    const pending = j.reversals.markPending('t1', 'response timeout');
    expect(pending).toMatchObject({
      txnRef: 't1',
      state: 'pending',
      reason: 'response timeout',
      attempts: 0,
      nextAttemptAt: null,
    });
    expect(j.reversals.markPending('t1', 'cancelled')).toEqual(pending);

    sending(j, 't2', 43);
    j.recordAuthorization('t2', 'approved', { outcome: 'approved', responseCode: '00' });
    expect(j.reversals.markPending('t2', 'timer raced the answer').state).toBe('cleared');

    journalError(() => j.reversals.markPending('ghost', 'x'), 'unknown-transaction');
  });

  it('lists armed reversals for recovery and pending ones in order', () => {
    const j = openJournal();
    for (let i = 1; i <= 5; i++) sending(j, `t${i}`, i);
    j.reversals.markPending('t4', 'cancel');
    j.reversals.markPending('t2', 'timeout');
    j.recordAuthorization('t3', 'approved', { outcome: 'approved', responseCode: '00' });
    expect(j.reversals.armed().map((r) => r.txnRef)).toEqual(['t1', 't5']);
    expect(j.reversals.pending().map((r) => r.txnRef)).toEqual(['t2', 't4']);
    expect(j.counts().pendingReversals).toBe(2);
  });

  it('records attempts of a pending reversal', () => {
    const j = openJournal();
    sending(j, 't1');
    const { id } = j.reversals.markPending('t1', 'response timeout');
    j.reversals.recordAttempt(id, { attempts: 1, nextAttemptAt: T0 + 1000, reason: 'host unreachable' });
    j.reversals.recordAttempt(id, { attempts: 2, nextAttemptAt: T0 + 3000, reason: 'no response' });
    expect(j.reversals.forTransaction('t1')).toMatchObject({
      state: 'pending',
      attempts: 2,
      nextAttemptAt: T0 + 3000,
      reason: 'no response',
    });
    j.reversals.recordAttempt(id, { attempts: 3, nextAttemptAt: null, reason: 'gave up for now' });
    expect(j.reversals.forTransaction('t1')?.nextAttemptAt).toBeNull();

    journalError(
      () => j.reversals.recordAttempt(id, { attempts: -1, nextAttemptAt: null, reason: 'x' }),
      'invalid-record',
    );
    journalError(
      () => j.reversals.recordAttempt(id, { attempts: 4, nextAttemptAt: null, reason: `declined ${VISA}` }),
      'card-data-refused',
    );
    journalError(
      () => j.reversals.recordAttempt(9999, { attempts: 1, nextAttemptAt: null, reason: 'x' }),
      'unknown-transaction',
    );
    expect(j.reversals.forTransaction('t1')?.attempts).toBe(3);
  });

  it('acknowledgeReversal settles it and adds a reversed event to its transaction', () => {
    const j = openJournal();
    sending(j, 't1');
    j.transactions.recordState('t1', 'timed-out', { outcome: 'failed' });
    const { id } = j.reversals.markPending('t1', 'response timeout');
    j.reversals.recordAttempt(id, { attempts: 1, nextAttemptAt: T0, reason: 'no response' });
    const acked = j.reversals.acknowledge(id, '00');
    expect(acked).toMatchObject({ id, state: 'acknowledged', responseCode: '00', attempts: 1, nextAttemptAt: null });
    const events = j.transactions.events('t1');
    expect(events.at(-1)).toMatchObject({ state: 'reversed', detail: { responseCode: '00' }, changes: null });
    // The transaction's own state and outcome belong to the transaction flow.
    expect(j.transactions.get('t1')).toMatchObject({ state: 'timed-out', outcome: 'failed' });
    expect(j.reversals.pending()).toEqual([]);
    expect(j.counts().pendingReversals).toBe(0);

    // A duplicate answer is idempotent: no second event.
    expect(j.reversals.acknowledge(id, '00')).toEqual(acked);
    expect(j.transactions.events('t1')).toHaveLength(events.length);
    // Attempts on a settled reversal are stale and change nothing.
    j.reversals.recordAttempt(id, { attempts: 9, nextAttemptAt: T0, reason: 'stale' });
    expect(j.reversals.forTransaction('t1')).toEqual(acked);
  });

  it('acknowledges only a pending reversal', () => {
    const j = openJournal();
    sending(j, 't1');
    const { id } = j.reversals.forTransaction('t1') ?? { id: -1 };
    expect(journalError(() => j.reversals.acknowledge(id, '00'), 'invalid-record').message).toMatch(
      /armed, not pending/,
    );
    journalError(() => j.reversals.acknowledge(9999, '00'), 'unknown-transaction');
    j.reversals.markPending('t1', 'timeout');
    journalError(() => j.reversals.acknowledge(id, ''), 'invalid-record');
    expect(j.reversals.forTransaction('t1')?.state).toBe('pending');
  });

  it('leaves inFlight as it was: a reversal does not settle a transaction', () => {
    const j = openJournal();
    sending(j, 't1');
    const { id } = j.reversals.markPending('t1', 'timeout');
    j.reversals.acknowledge(id, '00');
    expect(j.transactions.inFlight().map((t) => t.txnRef)).toEqual(['t1']);
  });
});

describe('store-and-forward queue', () => {
  it('records an offline approval and its queue item together', () => {
    const clock = steppingClock(T0);
    const j = openJournal({ now: clock.now });
    offlineCandidate(j, 's1');
    const { transaction, saf } = j.recordOfflineApproval('s1', 'offline-approved', approvedOffline, safItem());
    expect(transaction).toMatchObject({
      txnRef: 's1',
      state: 'offline-approved',
      outcome: 'offline-approved',
      approvalCode: 'Y1',
    });
    expect(saf).toEqual({
      id: expect.any(Number),
      txnRef: 's1',
      stan: 7,
      processingCode: '000000',
      amount: 1000,
      currency: '978',
      approvalCode: 'Y1',
      entryMode: 'chip',
      maskedPan: MASKED,
      transmittedAt: T0,
      terminalId: 'TERM0001',
      merchantId: 'MERCHANT0000001',
      posEntryMode: null,
      acquiringInstitutionId: null,
      forwardingInstitutionId: null,
      cardBlob: safItem().cardBlob,
      state: 'queued',
      attempts: 0,
      nextAttemptAt: null,
      responseCode: null,
      reason: null,
      createdAt: saf.createdAt,
      updatedAt: saf.createdAt,
    });
    expect(Buffer.isBuffer(saf.cardBlob)).toBe(true);
    expect(j.saf.item(saf.id)).toEqual(saf);
    expect(j.saf.queue()).toEqual([saf]);
    expect(j.transactions.events('s1').at(-1)).toMatchObject({ state: 'offline-approved', changes: approvedOffline });
    expect(j.counts()).toMatchObject({ safQueued: 1, inFlight: 0 });
  });

  it.each([
    ['a patch with a clear PAN', { ...approvedOffline, maskedPan: VISA }, {}],
    ['an item with a clear PAN', approvedOffline, { maskedPan: VISA }],
    ['an item with card data in a text field', approvedOffline, { approvalCode: `%B${VISA}^` }],
    [
      'an item whose blob is the card in clear',
      approvedOffline,
      { cardBlob: Buffer.from(JSON.stringify({ pan: VISA })) },
    ],
  ] as const)('leaves no queue item and no state change when refusing %s', (_what, patch, over) => {
    const j = openJournal();
    offlineCandidate(j, 's1');
    const before = { txn: j.transactions.get('s1'), events: j.transactions.events('s1') };
    journalError(() => j.recordOfflineApproval('s1', 'offline-approved', patch, safItem(over)), 'card-data-refused');
    expect(j.saf.queue()).toEqual([]);
    expect(j.saf.stats()).toEqual({ count: 0, total: 0, oldestAt: null });
    expect(j.transactions.get('s1')).toEqual(before.txn);
    expect(j.transactions.events('s1')).toEqual(before.events);
  });

  it('rolls back the state change when the queue insert fails inside the transaction', () => {
    const j = openJournal();
    offlineCandidate(j, 's1');
    j.recordOfflineApproval('s1', 'offline-approved', approvedOffline, safItem());
    const before = { txn: j.transactions.get('s1'), events: j.transactions.events('s1') };
    // Same reference again: the state update runs first, then the UNIQUE insert fails; both must be undone.
    journalError(
      () => j.recordOfflineApproval('s1', 'offline-approved-again', { responseCode: 'Y3' }, safItem({ stan: 8 })),
      'duplicate-reference',
    );
    expect(j.transactions.get('s1')).toEqual(before.txn);
    expect(j.transactions.events('s1')).toEqual(before.events);
    expect(j.saf.queue()).toHaveLength(1);
    journalError(
      () => j.recordOfflineApproval('ghost', 'offline-approved', approvedOffline, safItem()),
      'unknown-transaction',
    );
    expect(j.saf.queue()).toHaveLength(1);
  });

  it.each([
    ['a missing blob', { cardBlob: undefined }],
    ['an empty blob', { cardBlob: Buffer.alloc(0) }],
    ['a string blob', { cardBlob: 'abc' }],
    ['an unmasked-looking short PAN field', { maskedPan: '' }],
    ['a bad processing code', { processingCode: '0' }],
    ['a bad STAN', { stan: 1_000_000 }],
  ])('refuses %s', (_what, over) => {
    const j = openJournal();
    offlineCandidate(j, 's1');
    expect(() =>
      j.recordOfflineApproval('s1', 'offline-approved', approvedOffline, safItem(over as Partial<OfflineApprovalItem>)),
    ).toThrow(JournalError);
    expect(j.saf.queue()).toEqual([]);
  });

  it('keeps forwarding order and counts only queued items', () => {
    const clock = steppingClock(T0);
    const j = openJournal({ now: clock.now });
    const ids: number[] = [];
    for (const [ref, amount] of [
      ['s1', 1000],
      ['s2', 2500],
      ['s3', 700],
    ] as const) {
      offlineCandidate(j, ref, amount);
      ids.push(j.recordOfflineApproval(ref, 'offline-approved', approvedOffline, safItem({ amount })).saf.id);
    }
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(j.saf.queue().map((s) => s.txnRef)).toEqual(['s1', 's2', 's3']);
    const first = j.saf.item(ids[0] ?? -1);
    expect(j.saf.stats()).toEqual({ count: 3, total: 4200, oldestAt: first?.createdAt });

    j.saf.complete(ids[0] ?? -1, '00');
    expect(j.saf.queue().map((s) => s.txnRef)).toEqual(['s2', 's3']);
    expect(j.saf.stats()).toEqual({ count: 2, total: 3200, oldestAt: j.saf.item(ids[1] ?? -1)?.createdAt });
    expect(j.counts().safQueued).toBe(2);
  });

  it('records attempts of a queued advice', () => {
    const j = openJournal();
    offlineCandidate(j, 's1');
    const { saf } = j.recordOfflineApproval('s1', 'offline-approved', approvedOffline, safItem());
    j.saf.recordAttempt(saf.id, { attempts: 1, nextAttemptAt: T0 + 1000, reason: 'host unreachable' });
    expect(j.saf.item(saf.id)).toMatchObject({
      state: 'queued',
      attempts: 1,
      nextAttemptAt: T0 + 1000,
      reason: 'host unreachable',
    });
    journalError(() => j.saf.recordAttempt(saf.id, { attempts: 2, nextAttemptAt: -5, reason: 'x' }), 'invalid-record');
    journalError(
      () => j.saf.recordAttempt(424242, { attempts: 1, nextAttemptAt: null, reason: 'x' }),
      'unknown-transaction',
    );
  });

  it('completeSafItem forwards it, drops the card blob and adds a forwarded event', () => {
    const j = openJournal();
    offlineCandidate(j, 's1');
    const { saf } = j.recordOfflineApproval('s1', 'offline-approved', approvedOffline, safItem());
    j.saf.recordAttempt(saf.id, { attempts: 1, nextAttemptAt: T0, reason: 'host unreachable' });
    const done = j.saf.complete(saf.id, '00');
    expect(done).toMatchObject({
      id: saf.id,
      state: 'forwarded',
      cardBlob: null,
      responseCode: '00',
      attempts: 1,
      nextAttemptAt: null,
    });
    const events = j.transactions.events('s1');
    expect(events.at(-1)).toMatchObject({ state: 'forwarded', detail: { responseCode: '00' } });
    expect(j.transactions.get('s1')?.outcome).toBe('offline-approved');
    // A repeated acknowledgement (the advice was resent) changes nothing.
    expect(j.saf.complete(saf.id, '00')).toEqual(done);
    expect(j.transactions.events('s1')).toHaveLength(events.length);
    expect(journalError(() => j.saf.setAside(saf.id, '05', 'declined'), 'invalid-record').message).toMatch(
      /forwarded, not queued/,
    );
  });

  it('setAsideSafItem sets a rejected advice aside, drops the blob and lets the queue move on', () => {
    const j = openJournal();
    offlineCandidate(j, 's1');
    offlineCandidate(j, 's2');
    const a = j.recordOfflineApproval('s1', 'offline-approved', approvedOffline, safItem()).saf;
    const b = j.recordOfflineApproval('s2', 'offline-approved', approvedOffline, safItem({ stan: 8 })).saf;
    const aside = j.saf.setAside(a.id, '30', 'format error');
    expect(aside).toMatchObject({ state: 'set-aside', cardBlob: null, responseCode: '30', reason: 'format error' });
    expect(j.transactions.events('s1').at(-1)).toMatchObject({
      state: 'advice-rejected',
      detail: { responseCode: '30', reason: 'format error' },
    });
    expect(j.saf.queue().map((s) => s.id)).toEqual([b.id]);
    expect(j.saf.setAside(a.id, '30', 'format error')).toEqual(aside);
    journalError(() => j.saf.complete(a.id, '00'), 'invalid-record');
    journalError(() => j.saf.setAside(b.id, '30', `bad card ${VISA}`), 'card-data-refused');
    expect(j.saf.item(b.id)?.state).toBe('queued');
  });

  it('the schema itself refuses a settled item that still holds card data', () => {
    const j = openJournal();
    offlineCandidate(j, 's1');
    const { saf } = j.recordOfflineApproval('s1', 'offline-approved', approvedOffline, safItem());
    j.close();
    const raw = new Database(path);
    expect(() => raw.prepare("UPDATE saf_queue SET state = 'forwarded' WHERE id = ?").run(saf.id)).toThrow(
      /CHECK constraint/,
    );
    raw.close();
  });

  it('holds only ciphertext when the blob comes from the card vault', () => {
    const vault = CardVault.open(join(tmp.dir, 'keys', 'saf.key'), { createIfMissing: true });
    const j = openJournal();
    offlineCandidate(j, 's1');
    const cardBlob = vault.seal({ pan: VISA, expiry: '2812', entryMode: 'chip' }, 's1');
    const { saf } = j.recordOfflineApproval('s1', 'offline-approved', approvedOffline, safItem({ cardBlob }));
    expect(vault.open(j.saf.item(saf.id)?.cardBlob ?? Buffer.alloc(0), 's1').pan).toBe(VISA);
    j.close();
    expect(databaseBytes(path).toString('latin1')).not.toContain(VISA);
  });
});

describe('reopening', () => {
  it('keeps reversals and the queue across a close and a read-only open', () => {
    const a = openJournal();
    sending(a, 'r1', 1);
    sending(a, 'r2', 2);
    a.reversals.markPending('r2', 'response timeout');
    offlineCandidate(a, 's1');
    const { saf } = a.recordOfflineApproval('s1', 'offline-approved', approvedOffline, safItem());
    a.saf.recordAttempt(saf.id, { attempts: 2, nextAttemptAt: T0 + 5000, reason: 'host unreachable' });
    const snapshot = {
      armed: a.reversals.armed(),
      pending: a.reversals.pending(),
      queue: a.saf.queue(),
      stats: a.saf.stats(),
      counts: a.counts(),
    };
    a.close();

    for (const options of [{}, { readonly: true }]) {
      const b = openJournal(options);
      expect(b.reversals.armed()).toEqual(snapshot.armed);
      expect(b.reversals.pending()).toEqual(snapshot.pending);
      expect(b.saf.queue()).toEqual(snapshot.queue);
      expect(b.saf.stats()).toEqual(snapshot.stats);
      expect(b.counts()).toEqual(snapshot.counts);
      expect(snapshot.counts).toMatchObject({ pendingReversals: 1, safQueued: 1 });
      b.close();
    }
  });

  it('refuses writes on a read-only journal', () => {
    openJournal().close();
    const j = openJournal({ readonly: true });
    journalError(() => j.reversals.release('x', 'y'), 'storage-fault');
  });
});

// ---- crash consistency ----

// Arms a reversal for sale after sale and settles it one of four ways, printing "<ref> <expected reversal state>"
// once each sale is committed (stdout to a pipe is synchronous on Linux).
const WRITER = `
const [moduleUrl, dbPath, prefix] = process.argv.slice(2);
const { Journal } = await import(moduleUrl);
const journal = Journal.open(dbPath);
const masked = '411111******1111';
for (let i = 0; ; i++) {
  const ref = prefix + '-' + i;
  journal.transactions.begin({ txnRef: ref, kind: 'sale', amount: 100 + i, currency: '978' });
  const stan = journal.counters.nextStan();
  journal.transactions.recordState(ref, 'sending', { stan, maskedPan: masked, entryMode: 'chip' });
  journal.reversals.arm({ txnRef: ref, stan, originalMti: '0200', processingCode: '000000', amount: 100 + i, currency: '978',
    transmittedAt: Date.now(), terminalId: 'TERM0001', merchantId: 'MERCHANT0000001', maskedPan: masked });
  let expected;
  if (i % 4 < 2) {
    journal.recordAuthorization(ref, 'approved', { outcome: 'approved', responseCode: '00', approvalCode: 'A1B2C3' }, { step: i, filler: 'x'.repeat(i % 200) });
    expected = 'cleared';
  } else if (i % 4 === 2) {
    const { id } = journal.reversals.markPending(ref, 'response timeout');
    journal.transactions.recordState(ref, 'timed-out', { outcome: 'failed' });
    journal.reversals.recordAttempt(id, { attempts: 1, nextAttemptAt: Date.now() + 1000, reason: 'no response' });
    if (i % 8 === 2) {
      journal.reversals.acknowledge(id, '00');
      expected = 'acknowledged';
    } else {
      expected = 'pending';
    }
  } else {
    journal.reversals.release(ref, 'link down before send');
    journal.transactions.recordState(ref, 'failed', { outcome: 'failed' });
    expected = 'cleared';
  }
  process.stdout.write(ref + ' ' + expected + '\\n');
}
`;

interface Run {
  committed: Map<string, string>;
  signal: NodeJS.Signals | null;
  stderr: string;
}

function runAndKill(writer: string, moduleUrl: string, db: string, prefix: string, after: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [writer, moduleUrl, db, prefix], { stdio: ['ignore', 'pipe', 'pipe'] });
    const committed = new Map<string, string>();
    let buffered = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const [ref, state] = line.split(' ');
        if (ref && state) committed.set(ref, state);
      }
      if (committed.size >= after) child.kill('SIGKILL');
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (_code, signal) => resolve({ committed, signal, stderr }));
  });
}

describe('reversals after SIGKILL', () => {
  let crashTmp: ReturnType<typeof tempDir>;
  let moduleUrl: string;
  let writer: string;

  beforeAll(() => {
    crashTmp = tempDir();
    moduleUrl = buildJournalModule(join(crashTmp.dir, 'build'));
    writer = join(crashTmp.dir, 'reversal-writer.mjs');
    writeFileSync(writer, WRITER);
  });

  afterAll(() => crashTmp.cleanup());

  it('leaves every reversal in a valid state, cleared only with its answer written', async () => {
    const db = join(crashTmp.dir, 'crash', 'journal.sqlite');
    const allCommitted = new Map<string, string>();
    let recovered = 0;

    for (const [round, after] of [
      [0, 30],
      [1, 60],
      [2, 90],
    ] as const) {
      const run = await runAndKill(writer, moduleUrl, db, `r${round}`, after);
      expect(run.stderr).toBe('');
      expect(run.signal).toBe('SIGKILL');
      for (const [ref, state] of run.committed) allCommitted.set(ref, state);

      const journal = Journal.open(db);
      try {
        expect(journal.integrityCheck()).toEqual(['ok']);

        // Every sale reported as committed has the reversal state its last write left.
        for (const [ref, state] of allCommitted) expect(journal.reversals.forTransaction(ref)?.state, ref).toBe(state);

        // Every reversal, including the one cut short, is consistent with its transaction.
        for (const txn of journal.transactions.list()) {
          const reversal = journal.reversals.forTransaction(txn.txnRef);
          const events = journal.transactions.events(txn.txnRef).map((e) => e.state);
          if (reversal === undefined) {
            // Killed between starting the sale and arming: nothing was sent, nothing is owed.
            expect(txn.responseCode, txn.txnRef).toBeNull();
            continue;
          }
          expect(REVERSAL_STATES, txn.txnRef).toContain(reversal.state);
          expect(reversal.stan).toBe(txn.stan);
          const answered = txn.responseCode === '00';
          // The answer and the clearing are one commit: neither exists without the other.
          expect(reversal.state === 'cleared' && reversal.reason === 'host answered', txn.txnRef).toBe(answered);
          if (answered) expect(txn).toMatchObject({ state: 'approved', outcome: 'approved', approvalCode: 'A1B2C3' });
          if (reversal.state === 'cleared' && !answered) expect(reversal.reason).toBe('link down before send');
          expect(events.includes('reversed'), txn.txnRef).toBe(reversal.state === 'acknowledged');
        }

        // Only the sale being written when the kill came can be left armed; boot recovery then makes it owed.
        const armed = journal.reversals.armed();
        expect(armed.length).toBeLessThanOrEqual(1);
        for (const r of armed) {
          expect(journal.reversals.markPending(r.txnRef, 'armed at boot').state).toBe('pending');
          recovered++;
        }
        const expectedPending = [...allCommitted.values()].filter((s) => s === 'pending').length;
        expect(journal.reversals.pending().length).toBeGreaterThanOrEqual(expectedPending + recovered);
        expect(journal.reversals.pending().length).toBeLessThanOrEqual(expectedPending + recovered + 1);
      } finally {
        journal.close();
      }
    }
    expect(allCommitted.size).toBeGreaterThanOrEqual(30 + 60 + 90);
  }, 60_000);
});
