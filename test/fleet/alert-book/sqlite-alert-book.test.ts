/** The alert book on SQLite: raises and clears kept, one record per raise, the first acknowledgement kept, restarts. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../hal/clock.js';
import { type BookAlert, SqliteAlertBook } from '../../../src/fleet/alert-book/sqlite-alert-book.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

function change(over: Partial<BookAlert> = {}): BookAlert {
  return {
    at: T0,
    state: 'raised',
    rule: 'host timeouts',
    type: 'event-burst',
    key: 'shop-1/T1',
    fleet: 'shop-1',
    terminalId: 'T1',
    value: 6,
    message: '6 E101 events within 10 min (limit 5)',
    ...over,
  };
}

function bookFile(): string {
  return join(mkdtempSync(join(tmpdir(), 'alert-book-')), 'alerts.db');
}

describe('SqliteAlertBook', () => {
  it('keeps one record per raise, closes it on the clear, and logs every change', async () => {
    const clock = new ManualClock(T0);
    const book = new SqliteAlertBook({ file: bookFile(), clock });
    const raised = await book.record(change());
    expect(raised).toMatchObject({ state: 'open', raisedAt: T0, clearedAt: null, value: 6, rule: 'host timeouts' });
    // Raised again while open (an engine restarted): the same alert, its value updated.
    const again = await book.record(change({ at: T0 + 1_000, value: 7, message: 'seven' }));
    expect(again.id).toBe(raised.id);
    expect(again).toMatchObject({ value: 7, message: 'seven', raisedAt: T0 });
    const cleared = await book.record(change({ at: T0 + 60_000, state: 'cleared', value: 0, message: 'quiet' }));
    expect(cleared).toMatchObject({ id: raised.id, state: 'cleared', clearedAt: T0 + 60_000 });
    expect(book.changes(raised.id).map((c) => c.state)).toEqual(['raised', 'raised', 'cleared']);
    // The next raise of the same pair is a new alert.
    const next = await book.record(change({ at: T0 + 120_000 }));
    expect(next.id).not.toBe(raised.id);
    expect((await book.list({ limit: 10 })).map((r) => r.id)).toEqual([next.id, raised.id]);
    book.close();
  });

  it('keeps the first acknowledgement and the evidence, and both survive a restart', async () => {
    const file = bookFile();
    const clock = new ManualClock(T0);
    let book = new SqliteAlertBook({ file, clock });
    const evidence = { metric: 'readFailures', rate: 0.2, window: { from: T0, to: T0 + 3_600_000 } };
    const r = await book.record(change({ type: 'anomaly-detection', rule: 'anomaly read failures' }), evidence);
    await clock.advance(5_000);
    const ack = await book.acknowledge(r.id, 'alice', 'looking at it');
    expect(ack).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'alice', acknowledgedAt: T0 + 5_000 });
    await clock.advance(5_000);
    const second = await book.acknowledge(r.id, 'bob', 'mine');
    expect(second).toMatchObject({
      acknowledgedBy: 'alice',
      acknowledgeNote: 'looking at it',
      acknowledgedAt: T0 + 5_000,
    });
    expect(await book.acknowledge('no-such-id', 'bob')).toBeUndefined();
    book.close();

    book = new SqliteAlertBook({ file, clock });
    const [kept] = await book.list({ limit: 5 });
    expect(kept).toMatchObject({ id: r.id, state: 'acknowledged', acknowledgedBy: 'alice', evidence });
    // A clear keeps who acknowledged it.
    const cleared = await book.record(
      change({ type: 'anomaly-detection', rule: 'anomaly read failures', state: 'cleared', at: T0 + 9e6 }),
    );
    expect(cleared).toMatchObject({ id: r.id, state: 'cleared', acknowledgedBy: 'alice' });
    book.close();
  });

  it('lists by state, fleet and terminal, newest first, paged, and keeps a clear it never saw raised', async () => {
    const book = new SqliteAlertBook({ file: bookFile(), clock: new ManualClock(T0) });
    for (let i = 0; i < 6; i++)
      await book.record(
        change({ at: T0 + i, fleet: i % 2 ? 'shop-2' : 'shop-1', terminalId: `T${i}`, key: `x/T${i}` }),
      );
    const orphan = await book.record(change({ at: T0 + 10, state: 'cleared', terminalId: 'T9', key: 'shop-1/T9' }));
    expect(orphan).toMatchObject({ state: 'cleared', raisedAt: T0 + 10, clearedAt: T0 + 10 });
    expect((await book.list({ limit: 10, fleet: 'shop-2' })).map((r) => r.terminalId)).toEqual(['T5', 'T3', 'T1']);
    expect((await book.list({ limit: 10, states: ['cleared'] })).map((r) => r.terminalId)).toEqual(['T9']);
    expect((await book.list({ limit: 10, states: ['open'], terminalId: 'T2' })).length).toBe(1);
    expect((await book.list({ limit: 2, offset: 1, states: ['open'] })).map((r) => r.terminalId)).toEqual(['T4', 'T3']);
    book.close();
  });
});
