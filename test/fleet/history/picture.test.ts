/**
 * The fleet picture folded from the store equals the one a single consumer builds, however the messages are split
 * between writers and in whatever order the writers' batches land (in process; the broker's own split is in
 * shared-subscription.test.ts). And the fold order itself, case by case.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../hal/clock.js';
import { TelemetryDecoder, type TelemetryMessage } from '../../../src/fleet/decode.js';
import { foldOrder, StoredFleetPicture } from '../../../src/fleet/history/picture.js';
import { HistoryRecorder } from '../../../src/fleet/history/recorder.js';
import type { FleetHistoryStore, StoredMessage } from '../../../src/fleet/history/store.js';
import { FleetState } from '../../../src/fleet/state.js';
import { prng } from '../../support/prng.js';
import { T0 } from '../support.js';
import { historyBackends } from './backends.js';
import { FleetTraffic, HEALTH_INTERVAL_MS, pictureOf, terminalIds } from './traffic.js';

function stored(p: Partial<StoredMessage> & { id: number; receivedAt: number }): StoredMessage {
  return {
    fleet: 'f',
    terminalId: 't',
    kind: 'health',
    bootId: 'a',
    seq: p.id,
    sentAt: null,
    historical: false,
    retained: false,
    summary: '',
    data: null,
    ...p,
  };
}

describe('fold order', () => {
  it('puts the counted messages of each boot in seq order, whatever order they were written in', () => {
    const rows = [
      stored({ id: 1, seq: 8, receivedAt: T0 + 10 }),
      stored({ id: 2, seq: 7, receivedAt: T0 + 10 }),
      stored({ id: 3, seq: 9, receivedAt: T0 + 9 }), // the other consumer's clock was a little behind
    ];
    expect(foldOrder(rows).map((m) => m.seq)).toEqual([7, 8, 9]);
  });

  it('keeps boots in arrival order and an offline will after what arrived with it, though its seq is older', () => {
    const will = stored({ id: 4, seq: 1, kind: 'state', data: { online: false }, receivedAt: T0 + 20 });
    const rows = [
      will,
      stored({ id: 3, seq: 6, receivedAt: T0 + 20 }),
      stored({ id: 1, seq: 5, receivedAt: T0 + 10 }),
      stored({ id: 5, seq: 1, bootId: 'b', kind: 'birth', receivedAt: T0 + 30 }),
      stored({ id: 2, seq: 1, bootId: null, kind: 'cmd', receivedAt: T0 + 15 }),
    ];
    expect(foldOrder(rows).map((m) => m.id)).toEqual([1, 2, 3, 4, 5]);
  });

  it("puts a will after its connection's last message and before the next connection's Birth", () => {
    const will = (id: number, receivedAt: number) =>
      stored({ id, seq: 1, kind: 'state', data: { online: false, session: 1 }, receivedAt });
    const birth2 = stored({ id: 3, seq: 6, kind: 'birth', data: { session: 2 }, receivedAt: T0 + 30 });
    // The will reached its consumer before the other consumer had the connection's last Health.
    const early = [will(1, T0 + 10), stored({ id: 2, seq: 5, receivedAt: T0 + 12 }), birth2];
    expect(foldOrder(early).map((m) => m.id)).toEqual([2, 1, 3]);
    // And a will that arrives after the next connection's Birth still goes before it.
    const late = [stored({ id: 2, seq: 5, receivedAt: T0 }), birth2, will(1, T0 + 40)];
    expect(foldOrder(late).map((m) => m.id)).toEqual([2, 1, 3]);
  });

  it('leaves retained replays where they arrived, outside the seq order', () => {
    const rows = [
      stored({ id: 1, seq: 40, retained: true, kind: 'state', data: { online: true }, receivedAt: T0 }),
      stored({ id: 2, seq: 3, receivedAt: T0 + 1 }),
      stored({ id: 3, seq: 2, receivedAt: T0 + 2 }),
    ];
    expect(foldOrder(rows).map((m) => m.id)).toEqual([1, 3, 2]);
  });
});

const backends = historyBackends();

describe.each(backends)('fleet picture from the store on $name', (backend) => {
  const stores: FleetHistoryStore[] = [];
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
  });

  /**
   * Feeds the generated fleet to one consumer alone and, split at random, to two writers of one store. Each message
   * reaches the lone consumer `k` ms into its round (k = its place in the round); the second writer gets its share
   * `lateMs` later, so the store can hold seq n+1 stamped before seq n, as two consumers of a shared subscription do.
   */
  async function run(lateMs: number, refreshEachRound = false) {
    const fresh = await backend.fresh();
    stores.push(await fresh.open(), await fresh.open());
    const clock = new ManualClock(T0);
    const decoder = new TelemetryDecoder();
    const alone = new FleetState({ clock });
    const writers = [
      new HistoryRecorder({ store: stores[0]!, clock, batchSize: 7, flushIntervalMs: 60_000 }),
      new HistoryRecorder({ store: stores[1]!, clock, batchSize: 1_000, flushIntervalMs: 60_000 }),
    ];
    const halves = [new FleetState({ clock }), new FleetState({ clock })];
    const random = prng(18 + lateMs);
    const traffic = new FleetTraffic(terminalIds(120), 6);
    const picture = new StoredFleetPicture({ store: stores[0]!, clock, healthIntervalMs: HEALTH_INTERVAL_MS });
    const refreshes: { changed: number; refolded: number }[] = [];
    const decode = (p: { topic: string; payload: Uint8Array }) => {
      const decoded = decoder.decode(p.topic, p.payload);
      if (!decoded.ok) throw decoded.error;
      return decoded.message as Exclude<TelemetryMessage, { type: 'cmd' }>;
    };
    for (let round = 0; round < traffic.rounds; round++) {
      traffic.round(round, clock.now()).forEach((p, k) => {
        const msg = decode(p);
        const at = clock.now() + k;
        alone.ingest(msg, { receivedAt: at });
        const share = random() < 0.5 ? 0 : 1;
        const receivedAt = at + (share === 1 ? lateMs : 0);
        halves[share]!.ingest(msg, { receivedAt });
        writers[share]!.record(msg, { receivedAt, retained: false });
      });
      // The second writer's batches land a round late: the store receives seq n+1 before n.
      await writers[0]!.flush();
      if (round % 2 === 1) await writers[1]!.flush();
      if (refreshEachRound) refreshes.push(await picture.refreshCounted());
      await clock.advance(30_000);
    }
    await Promise.all(writers.map((w) => w.flush()));
    await clock.advance(60_000);
    const refolded = await picture.refresh();
    return { clock, decode, traffic, writers, picture, refolded, alone, halves, refreshes };
  }

  it.skipIf(backend.skip !== undefined)(
    'equals one consumer alone when two writers each get a random share, written out of order',
    async () => {
      const { clock, decode, traffic, writers, picture, refolded, alone, halves } = await run(0);
      expect(refolded).toBe(120);
      const expected = pictureOf(alone.terminals());
      expect(pictureOf(picture.terminals())).toEqual(expected);

      // The fleet has every case in it, and one writer's share alone would be wrong.
      const statuses = new Set(expected.map((t) => t.status));
      expect([...statuses].sort()).toEqual(['anomalous', 'healthy', 'offline', 'silent'].sort());
      expect(expected.filter((t) => t.gaps > 0)).toHaveLength(12);
      expect(expected.filter((t) => t.restarts > 0)).toHaveLength(12);
      expect(expected.filter((t) => t.duplicates > 0)).toHaveLength(12);
      expect(pictureOf(halves[0]!.terminals())).not.toEqual(expected);

      // Refreshing again refolds only what changed.
      expect(await picture.refresh()).toBe(0);
      for (const p of traffic.round(traffic.rounds, clock.now()).filter((p) => p.terminalId === 'T00002'))
        writers[1]!.record(decode(p), { receivedAt: clock.now(), retained: false });
      await writers[1]!.flush();
      expect(await picture.refresh()).toBe(1);
      expect(picture.terminal('shop-lyon-02', 'T00002')?.lastSeenAt).toBe(clock.now());
    },
  );

  it.skipIf(backend.skip !== undefined)(
    'resumes the fold with just the new messages when they follow it, and still equals one consumer alone',
    async () => {
      const { picture, alone, refreshes } = await run(0, true);
      expect(pictureOf(picture.terminals())).toEqual(pictureOf(alone.terminals()));
      const changed = refreshes.reduce((n, r) => n + r.changed, 0);
      const refolded = refreshes.reduce((n, r) => n + r.refolded, 0);
      // The first refresh folds every terminal seen; later ones resume most of them.
      expect(refreshes[0]!.refolded).toBe(refreshes[0]!.changed);
      console.info(`picture refreshes: ${changed} changed, ${refolded} refolded in full`);
      expect(changed - refolded).toBeGreaterThan(changed / 3);
    },
  );

  it.skipIf(backend.skip !== undefined)(
    'keeps seq order when one writer receives later than the other: the same picture, times within the delay',
    async () => {
      const lateMs = 3;
      const { picture, alone } = await run(lateMs);
      const expected = pictureOf(alone.terminals());
      const got = pictureOf(picture.terminals());
      const timeless = (p: typeof got) => p.map(({ lastSeenAt, lastHealthAt, ...rest }) => rest);
      expect(timeless(got)).toEqual(timeless(expected));
      got.forEach((t, i) => {
        const e = expected[i]!;
        expect(t.lastSeenAt - e.lastSeenAt).toBeGreaterThanOrEqual(0);
        expect(t.lastSeenAt - e.lastSeenAt).toBeLessThanOrEqual(lateMs);
      });
    },
  );
});
