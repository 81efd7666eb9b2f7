/**
 * The history store, one suite for both backends (SQLite and a real PostgreSQL server): migrations, writing,
 * the timeline a person reads (newest first, paging, kinds, limits), purging in bounded batches, the terminal
 * versions the fleet picture follows, and the write queue in front of it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../hal/clock.js';
import { HISTORY_MIGRATIONS } from '../../../src/fleet/history/migrations/index.js';
import { HistoryStoreError } from '../../../src/fleet/history/open.js';
import { HistoryRecorder } from '../../../src/fleet/history/recorder.js';
import { HistoryRetention } from '../../../src/fleet/history/retention.js';
import { type FleetHistoryStore, type HistoryRecord, MAX_TIMELINE_LIMIT } from '../../../src/fleet/history/store.js';
import { historyBackends } from './backends.js';

const T0 = Date.UTC(2026, 2, 1, 8, 0, 0);
const DAY = 86_400_000;

function record(p: Partial<HistoryRecord> & { seq: number; receivedAt: number }): HistoryRecord {
  return {
    fleet: 'shop-paris-01',
    terminalId: 'TERM0042',
    kind: 'health',
    bootId: 'boot-a',
    sentAt: p.receivedAt - 20,
    historical: false,
    retained: false,
    summary: `health ready · seq ${p.seq}`,
    data: { type: p.kind ?? 'health', header: { bootId: 'boot-a', seq: p.seq } },
    ...p,
  };
}

const backends = historyBackends();

describe.each(backends)('history store on $name', (backend) => {
  const open: FleetHistoryStore[] = [];
  const fresh = async () => {
    const f = await backend.fresh();
    const store = await f.open();
    open.push(store);
    return { ...f, store, another: async () => open[open.push(await f.open()) - 1]! };
  };
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
  });

  describe.skipIf(backend.skip !== undefined)('', () => {
    it('applies every migration once, also when two consumers open a new store together', async () => {
      const f = await backend.fresh();
      const [a, b] = await Promise.all([f.open(), f.open()]);
      open.push(a, b);
      const names = HISTORY_MIGRATIONS.map((m) => m.name);
      expect(await a.schemaVersions()).toEqual(names);
      const again = await f.open();
      open.push(again);
      expect(await again.schemaVersions()).toEqual(names);
    });

    it('refuses a store migrated by a newer release', async () => {
      const f = await fresh();
      await f.exec("INSERT INTO fleet_history_migrations (name, applied_at) VALUES ('9999-from-the-future', 0)");
      await expect(f.open()).rejects.toThrow(HistoryStoreError);
      await expect(f.open()).rejects.toThrow(/9999-from-the-future/);
    });

    it('reads a timeline newest first, with paging, a start, kinds and a limit, for that terminal only', async () => {
      const { store } = await fresh();
      const records = Array.from({ length: 30 }, (_, i) =>
        record({ seq: i + 1, receivedAt: T0 + i * 1000, kind: i % 3 === 0 ? 'event' : 'health' }),
      );
      records.push(record({ seq: 1, receivedAt: T0 + 500, terminalId: 'TERM0043' }));
      records.push(record({ seq: 1, receivedAt: T0 + 500, fleet: 'shop-nice-09' }));
      await store.insert(records);

      const newest = await store.timeline('shop-paris-01', 'TERM0042', { limit: 5 });
      expect(newest.map((e) => e.seq)).toEqual([30, 29, 28, 27, 26]);
      const page2 = await store.timeline('shop-paris-01', 'TERM0042', { limit: 5, before: newest[4]!.receivedAt });
      expect(page2.map((e) => e.seq)).toEqual([25, 24, 23, 22, 21]);
      const since = await store.timeline('shop-paris-01', 'TERM0042', { limit: 100, since: T0 + 27_000 });
      expect(since.map((e) => e.seq)).toEqual([30, 29, 28]);
      const events = await store.timeline('shop-paris-01', 'TERM0042', { limit: 100, kinds: ['event'] });
      expect(events.map((e) => e.seq)).toEqual([28, 25, 22, 19, 16, 13, 10, 7, 4, 1]);
      expect(await store.timeline('shop-paris-01', 'TERM0042', { limit: 100, kinds: [] })).toEqual([]);
      expect(await store.timeline('shop-paris-01', 'TERM0043', { limit: 100 })).toHaveLength(1);
      expect(await store.timeline('shop-paris-01', 'NOBODY', { limit: 100 })).toEqual([]);
      expect(await store.timeline('shop-paris-01', 'TERM0042', { limit: 0 })).toHaveLength(1);
      expect(MAX_TIMELINE_LIMIT).toBeLessThan(Number.MAX_SAFE_INTEGER);
    });

    it('gives back every field as written, the decoded message included, NUL characters and all', async () => {
      const { store } = await fresh();
      const data = {
        type: 'event',
        header: { bootId: 'boot-\u0000x', seq: 7 },
        message: 'a\u0000b',
        amountMinor: 1250,
      };
      const r = record({
        seq: 7,
        receivedAt: T0,
        kind: 'event',
        bootId: 'boot-\u0000x',
        sentAt: null,
        historical: true,
        summary: 'E101 host-timeout (error)\u0000',
        data,
      });
      await store.insert([r]);
      const [e] = await store.timeline(r.fleet, r.terminalId, { limit: 1 });
      expect(e).toMatchObject({ receivedAt: T0, sentAt: null, kind: 'event', seq: 7, historical: true, data });
      expect(e?.bootId).toBe('boot-\uFFFDx');
      expect(e?.summary).toBe('E101 host-timeout (error)\uFFFD');
    });

    it('purges what is older than the cut-off in bounded batches, oldest first', async () => {
      const { store } = await fresh();
      const old = Array.from({ length: 250 }, (_, i) => record({ seq: i + 1, receivedAt: T0 - 40 * DAY + i }));
      const recent = Array.from({ length: 50 }, (_, i) => record({ seq: 300 + i, receivedAt: T0 - DAY + i }));
      await store.insert([...recent, ...old]);
      const cutoff = T0 - 30 * DAY;
      expect(await store.purge(cutoff, 100)).toBe(100);
      const left = await store.timeline('shop-paris-01', 'TERM0042', { limit: 1000, before: cutoff });
      expect(left).toHaveLength(150);
      expect(Math.min(...left.map((e) => e.seq ?? 0))).toBe(101);
      expect(await store.purge(cutoff, 100)).toBe(100);
      expect(await store.purge(cutoff, 100)).toBe(50);
      expect(await store.purge(cutoff, 100)).toBe(0);
      expect(await store.count()).toBe(50);
    });

    it('runs retention on the clock: batches until one comes back short, capped per run', async () => {
      const { store } = await fresh();
      const clock = new ManualClock(T0);
      await store.insert(Array.from({ length: 70 }, (_, i) => record({ seq: i, receivedAt: T0 - 8 * DAY })));
      await store.insert([record({ seq: 99, receivedAt: T0 - 6 * DAY })]);
      const purged: number[] = [];
      const retention = new HistoryRetention({
        store,
        clock,
        retentionDays: 7,
        intervalMs: 60_000,
        batchSize: 20,
        maxBatchesPerRun: 2,
        onPurged: (n) => purged.push(n),
      });
      retention.start();
      await clock.advance(0);
      await until(() => purged.length === 1);
      expect(purged).toEqual([40]);
      await clock.advance(60_000);
      await until(() => purged.length === 2);
      expect(purged).toEqual([40, 30]);
      retention.stop();
      expect(await store.count()).toBe(1);
    });

    it("moves a terminal's version with every batch that brings it messages, and reads them back in order", async () => {
      const { store, another } = await fresh();
      const other = await another();
      await store.insert([record({ seq: 2, receivedAt: T0 + 10 }), record({ seq: 1, receivedAt: T0 })]);
      await other.insert([record({ seq: 3, receivedAt: T0 + 5 }), record({ seq: 1, receivedAt: T0, terminalId: 'B' })]);
      const versions = await store.terminalVersions();
      expect(versions.map((v) => [v.terminalId, v.version, v.lastReceivedAt])).toEqual([
        ['B', 1, T0],
        ['TERM0042', 3, T0 + 10],
      ]);
      const rows = await store.messagesOf([{ fleet: 'shop-paris-01', terminalId: 'TERM0042' }]);
      expect(rows.map((r) => r.seq)).toEqual([1, 3, 2]);
      const since = await store.messagesOf([
        { fleet: 'shop-paris-01', terminalId: 'TERM0042', since: T0 + 5 },
        { fleet: 'shop-paris-01', terminalId: 'B', since: T0 + 1 },
      ]);
      expect(since.map((r) => [r.terminalId, r.seq])).toEqual([
        ['TERM0042', 3],
        ['TERM0042', 2],
      ]);
    });

    it('takes a write queue of many batches from two writers without losing one message', async () => {
      const { store, another } = await fresh();
      const clock = new ManualClock(T0);
      const writers = [store, await another()].map((s) => new HistoryRecorder({ store: s, clock, batchSize: 64 }));
      for (let i = 0; i < 1_000; i++)
        writers[i % 2]!.add(record({ seq: i, receivedAt: T0 + i, terminalId: `T${i % 40}` }));
      await Promise.all(writers.map((w) => w.flush()));
      expect(writers.map((w) => w.stats().written)).toEqual([500, 500]);
      expect(await store.count()).toBe(1_000);
      const versions = await store.terminalVersions();
      expect(versions).toHaveLength(40);
      expect(versions.reduce((n, v) => n + v.version, 0)).toBe(1_000);
    });
  });
});

/** Polls for the store's answer (real I/O behind a fired timer); never stands in for time under test. */
async function until(condition: () => boolean, limitMs = 5_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > limitMs) throw new Error('timed out waiting for the store');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
