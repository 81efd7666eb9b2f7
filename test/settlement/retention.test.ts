import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../hal/clock.js';
import { Journal } from '../../src/journal/index.js';
import { RetentionPurger } from '../../src/settlement/retention.js';
import { computeBatchTotals } from '../../src/settlement/totals.js';
import { createLogger } from '../../src/util/log.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);
let dir: string;
let path: string;
let now = T0;

function approvedSale(j: Journal, ref: string, amount: number): void {
  j.transactions.begin({ txnRef: ref, kind: 'sale', amount, currency: '978' });
  j.transactions.recordState(ref, 'sending', { stan: j.counters.nextStan(), maskedPan: '411111******1111' });
  j.transactions.recordState(ref, 'approved', { outcome: 'approved', responseCode: '00', approvalCode: 'A00001' });
}

function closeBatch(j: Journal): number {
  const n = j.batches.current().number;
  j.batches.close(n, computeBatchTotals(j, n, '978'), { '978': { responseCode: '00' } });
  return n;
}

/** What the raw file holds, read by SQL of its own (not through the code under test). */
function raw(sql: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare(sql).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pos-retention-'));
  path = join(dir, 'journal.sqlite');
  now = T0;
  const j = Journal.open(path, { now: () => now });
  for (let i = 0; i < 250; i++) approvedSale(j, `old-${i}`, 100 + i);
  j.anomalies.record({ code: 'E101', class: 'host-timeout', severity: 'error', message: 'timeout', txnRef: 'old-3' });
  j.anomalies.record({ code: 'E301', class: 'hardware-fault', severity: 'error', message: 'paper out' });
  closeBatch(j);
  now = T0 + 95 * DAY;
  for (let i = 0; i < 5; i++) approvedSale(j, `recent-${i}`, 1_000);
  closeBatch(j);
  j.close();
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('retention of settled batches', () => {
  it('purges a batch older than the retention in small steps, each surviving a restart, to its totals and anomaly summary', async () => {
    now = T0 + 100 * DAY;
    const cutoff = now - 90 * DAY;
    const kinds: string[] = [];
    // Every step on a freshly opened journal: a kill between any two steps loses nothing and redoes nothing.
    for (let i = 0; i < 20; i++) {
      const j = Journal.open(path, { now: () => now });
      const step = j.retention.purgeStep(cutoff, 200);
      j.close();
      kinds.push(step.kind);
      if (step.kind === 'idle') break;
    }
    expect(kinds).toEqual(['summarized', 'deleted', 'deleted', 'purged', 'idle']);
    expect(raw('SELECT count(*) AS n FROM transactions WHERE batch_number = 1')).toBe(0);
    expect(
      raw(
        'SELECT count(*) AS n FROM transaction_events e WHERE NOT EXISTS (SELECT 1 FROM transactions t WHERE t.id = e.txn_id)',
      ),
    ).toBe(0);
    expect(raw('SELECT count(*) AS n FROM transactions WHERE batch_number = 2')).toBe(5);
    // The anomaly of a purged transaction goes into the summary; one of no transaction stays.
    expect(raw("SELECT count(*) AS n FROM anomalies WHERE code = 'E101'")).toBe(0);
    expect(raw("SELECT count(*) AS n FROM anomalies WHERE code = 'E301'")).toBe(1);
    const j = Journal.open(path, { readonly: true });
    const batch = j.batches.get(1)!;
    j.close();
    expect(batch.purgedAt).toBe(now);
    expect(batch.anomalySummary).toEqual({ E101: 1 });
    expect(batch.terminalTotals).toMatchObject({
      currencies: [{ currency: '978', byKind: { sale: { count: 250 } } }],
    });
  });

  it('a step killed in the middle leaves nothing half-done', () => {
    now = T0 + 100 * DAY;
    const j = Journal.open(path, { now: () => now });
    expect(j.retention.purgeStep(now - 90 * DAY).kind).toBe('summarized');
    const before = raw('SELECT count(*) AS n FROM transaction_events');
    // The last delete of the step fails, as a kill there would stop it: the step's earlier deletes must not stay.
    const other = new Database(path);
    other.exec("CREATE TRIGGER die BEFORE DELETE ON transactions BEGIN SELECT RAISE(ABORT, 'killed'); END;");
    expect(() => j.retention.purgeStep(now - 90 * DAY)).toThrow();
    expect(raw('SELECT count(*) AS n FROM transaction_events')).toBe(before);
    expect(raw('SELECT count(*) AS n FROM transactions WHERE batch_number = 1')).toBe(250);
    other.exec('DROP TRIGGER die');
    other.close();
    expect(j.retention.purgeStep(now - 90 * DAY)).toEqual({ kind: 'deleted', batch: 1, transactions: 200 });
    j.close();
  });

  it('the purger steps on the Clock, never while something is busy, and purges nothing younger than the retention', async () => {
    now = T0 + 100 * DAY;
    const clock = new ManualClock(now);
    const j = Journal.open(path, { now: () => clock.now() });
    let busy = true;
    const purger = new RetentionPurger({
      journal: j,
      clock,
      log: createLogger('silent'),
      retentionDays: 90,
      busy: () => busy,
      stepGapMs: 1_000,
    });
    purger.start();
    await clock.advance(10_000);
    expect(j.batches.get(1)!.anomalySummary).toBeNull();
    busy = false;
    await clock.advance(10_000);
    purger.stop();
    expect(j.batches.get(1)!.purgedAt).not.toBeNull();
    expect(j.batches.get(2)!.purgedAt).toBeNull();
    expect(j.transactions.list({ limit: 1000 })).toHaveLength(5);
    j.close();
  });
});
