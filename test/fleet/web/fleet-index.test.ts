/**
 * The fleet table's index answers as a full scan of FleetState would: every filter combination and page, terminals
 * arriving in any order, statuses that change with time alone (silence) and terminals forgotten.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FLEET_STATUSES, type FleetStatus, type TerminalView } from '../../../src/fleet/state.js';
import { FleetIndex } from '../../../src/fleet/web/fleet-index.js';
import { encode } from '../support.js';
import { demoFleet } from './support.js';

function brute(views: TerminalView[], q: { status?: FleetStatus; fleet?: string; q?: string }): string[] {
  const needle = q.q?.toLowerCase();
  return views
    .filter((v) => q.status === undefined || v.status === q.status)
    .filter((v) => q.fleet === undefined || v.fleet === q.fleet)
    .filter(
      (v) =>
        !needle ||
        [v.key, v.birth?.firmwareVersion ?? '', v.birth?.model ?? '', v.health?.state ?? '', ...v.reasons]
          .join(' ')
          .toLowerCase()
          .includes(needle),
    )
    .map((v) => v.key);
}

describe('FleetIndex', () => {
  it('answers every filter and page exactly as a scan of the state', async () => {
    const demo = await demoFleet(20);
    const index = new FleetIndex({ state: demo.state, clock: demo.clock });
    const views = demo.state.terminals();
    fc.assert(
      fc.property(
        fc.option(fc.constantFrom(...FLEET_STATUSES), { nil: undefined }),
        fc.option(fc.constantFrom('shop-paris-01', 'shop-lyon-02', 'shop-nowhere'), { nil: undefined }),
        fc.option(fc.constantFrom('term001', 'TERM0002', '1.4.1', 'tamper', 'locked', 'zzz'), { nil: undefined }),
        fc.integer({ min: 0, max: 45 }),
        fc.integer({ min: 1, max: 30 }),
        (status, fleet, q, offset, limit) => {
          const want = brute(views, { status, fleet, q });
          const page = index.query({ status, fleet, q, offset, limit });
          expect(page.total).toBe(want.length);
          expect(page.rows.map((r) => r.key)).toEqual(want.slice(offset, offset + limit));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps terminal order whatever order terminals first appear in', async () => {
    const demo = await demoFleet(2);
    const index = new FleetIndex({ state: demo.state, clock: demo.clock });
    for (const id of ['ZZZ9', 'AAA1', 'MMM5', 'AAA0', 'TERM0001x']) {
      demo.feed('birth', encode.birth({ terminalId: id, fleet: 'shop-paris-01', seq: 1 }), id, 'shop-paris-01');
      index.touch('shop-paris-01', id);
    }
    const keys = index.query({ offset: 0, limit: 100 }).rows.map((r) => r.key);
    expect(keys).toEqual(demo.state.terminals().map((v) => v.key));
    expect(keys).toHaveLength(9);
  });

  it('follows statuses that change with time alone, and forgets a terminal the state forgot', async () => {
    const demo = await demoFleet(10);
    const index = new FleetIndex({
      state: demo.state,
      clock: demo.clock,
      missedHealthFactor: 3,
      anomalyWindowMs: 30 * 60_000,
    });
    const healthyBefore = index.counts().healthy;
    expect(healthyBefore).toBeGreaterThan(0);
    // Nobody sends anything for 10 minutes: every online terminal falls silent.
    await demo.clock.advance(10 * 60_000);
    const counts = index.counts();
    expect(counts.healthy).toBe(0);
    expect(counts.silent).toBe(demo.state.terminals().filter((v) => v.status === 'silent').length);
    expect(index.query({ status: 'silent', offset: 0, limit: 100 }).total).toBe(counts.silent);

    // A message brings one back at once, before the next full refresh.
    demo.feed(
      'health',
      encode.health({ terminalId: 'TERM0001', fleet: 'shop-paris-01', bootId: 'boot-0', seq: 100 }),
      'TERM0001',
      'shop-paris-01',
    );
    index.touch('shop-paris-01', 'TERM0001');
    expect(index.row('shop-paris-01', 'TERM0001')?.status).toBe('healthy');
    expect(index.query({ status: 'healthy', offset: 0, limit: 10 }).rows.map((r) => r.key)).toEqual([
      'shop-paris-01/TERM0001',
    ]);

    demo.state.forget('shop-paris-01', 'TERM0001');
    index.touch('shop-paris-01', 'TERM0001');
    expect(index.row('shop-paris-01', 'TERM0001')).toBeUndefined();
    expect(index.size).toBe(19);
  });

  it('lets an anomaly leave its window with no message, before the terminal could fall silent', async () => {
    const demo = await demoFleet(1);
    const index = new FleetIndex({
      state: demo.state,
      clock: demo.clock,
      missedHealthFactor: 3,
      anomalyWindowMs: 30 * 60_000,
    });
    const h = { terminalId: 'SLOW1', fleet: 'shop-paris-01', bootId: 'slow' };
    // Health once an hour: silent only after three hours.
    demo.feed(
      'birth',
      encode.birth({ ...h, seq: 1, sentAtMs: demo.clock.now() }, { healthIntervalMs: 3_600_000 }),
      'SLOW1',
      'shop-paris-01',
    );
    demo.feed('health', encode.health({ ...h, seq: 2, sentAtMs: demo.clock.now() }), 'SLOW1', 'shop-paris-01');
    demo.feed('event', encode.event({ ...h, seq: 3, sentAtMs: demo.clock.now() }), 'SLOW1', 'shop-paris-01');
    index.touch('shop-paris-01', 'SLOW1');
    expect(index.row('shop-paris-01', 'SLOW1')?.status).toBe('anomalous');
    await demo.clock.advance(29 * 60_000);
    expect(index.row('shop-paris-01', 'SLOW1')?.status).toBe('anomalous');
    await demo.clock.advance(2 * 60_000);
    expect(demo.state.terminal('shop-paris-01', 'SLOW1')?.status).toBe('healthy');
    expect(index.row('shop-paris-01', 'SLOW1')?.status).toBe('healthy');
    await demo.clock.advance(3 * 3_600_000);
    expect(index.row('shop-paris-01', 'SLOW1')?.status).toBe('silent');
    // And every other row agrees with the state after all that time.
    const views = demo.state.terminals();
    expect(index.query({ offset: 0, limit: 100 }).rows.map((r) => [r.key, r.status])).toEqual(
      views.map((v) => [v.key, v.status]),
    );
  });

  it('recomputes at most maxRecomputePerRefresh reported rows per refresh, oldest report first, then the rest', async () => {
    const demo = await demoFleet(5);
    const index = new FleetIndex({ state: demo.state, clock: demo.clock, maxRecomputePerRefresh: 3 });
    while (index.pending > 0) index.refresh();
    const ids = ['TERM0001', 'TERM0002', 'TERM0003', 'TERM0004', 'TERM0005'];
    for (const id of ids) {
      demo.feed(
        'health',
        encode.health({ terminalId: id, fleet: 'shop-paris-01', bootId: 'boot-x', seq: 1, sentAtMs: demo.clock.now() }),
        id,
        'shop-paris-01',
      );
      index.touch('shop-paris-01', id);
    }
    expect(index.pending).toBe(5);
    // One query, one refresh.
    const states = () => index.query({ fleet: 'shop-paris-01', offset: 0, limit: 5 }).rows.map((r) => r.restarts);
    expect(states()).toEqual([1, 1, 1, 0, 0]);
    expect(index.pending).toBe(2);
    expect(states()).toEqual([1, 1, 1, 1, 1]);
    expect(index.pending).toBe(0);
  });
});
