/**
 * Smoke test of the durability benchmark at tiny sizes: every part runs, reports its figures beside their targets,
 * and loses nothing (advices all at the host once and in order, no transaction left in flight after recovery).
 */
import { describe, expect, it } from 'vitest';
import { benchDurability } from '../../bench/durability.js';

const finite = (n: unknown) => typeof n === 'number' && Number.isFinite(n);

describe('durability benchmark (smoke)', () => {
  it('runs each part at small sizes and loses nothing', async () => {
    const r = await benchDurability({ commits: 12, advices: 30, pending: 12 });
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
    expect(r.name).toBe('durability');

    const c = r.commits;
    for (const n of [
      c.rawFsyncPerSecond,
      c.commitsPerSecond,
      c.salesPerSecond,
      c.ratio,
      c.salesRatio,
      c.commitsPerSale,
    ])
      expect(finite(n)).toBe(true);
    expect(c.journalSettings).toEqual({ journalMode: 'wal', synchronous: 'full' });
    expect(c.target.ratio).toBe(0.9);
    expect(c.sales).toBeGreaterThan(0);
    expect(c.commitsPerSale).toBeGreaterThanOrEqual(1);
    expect(c.realOfflineSale.outcome).toBe('offline-approved');
    expect(c.realOfflineSale.commitsPerSale).toBeGreaterThanOrEqual(c.commitsPerSale);

    const f = r.forwarding;
    expect(f.advices).toBe(30);
    expect(finite(f.advicesPerSecond)).toBe(true);
    expect(f.target.advicesPerSecond).toBe(2_000);
    expect(f.drain).toMatchObject({ advicesForwarded: 30, advicesSetAside: 0, blocked: false });
    expect({ inOrder: f.inOrder, lost: f.lost, doubled: f.doubled }).toEqual({ inOrder: true, lost: 0, doubled: 0 });
    expect(f.hostReceived).toBe(30);
    expect(f.hostAdviceCount).toBe(30);
    expect(f.hostAdviceAmount).toBe(f.expectedAmount);
    expect(f.hostDuplicates).toBe(0);
    expect(f.journalQueuedAfter).toBe(0);

    const rec = r.recovery;
    expect(rec.pending).toBe(12);
    expect(rec.mix).toEqual({ armedReversal: 4, authorized: 4, neverSent: 4 });
    expect(finite(rec.readyMs)).toBe(true);
    expect(rec.target.readyMs).toBe(2_000);
    expect(rec.phasesMs.recovery).not.toBeNull();
    expect(rec.commitsDuringStart).toBeGreaterThanOrEqual(1);
    expect(rec.after.inFlight).toBe(0);
    expect(rec.after.fates).toEqual({ reversalOwed: 4, completed: 4, closed: 4 });
    // The forwarder may already be sending the owed reversals: none can have been added, none lost.
    expect(rec.after.pendingReversals).toBeLessThanOrEqual(4);
    expect(rec.after.safQueued).toBeLessThanOrEqual(rec.safQueued);
  }, 60_000);
});
