/** The in-memory alert book `pos-fleet serve` uses without a persistent one: raise, clear, acknowledge, bounds. */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../hal/clock.js';
import type { Alert } from '../../../src/fleet/alerts.js';
import { MemoryAlertBook } from '../../../src/fleet/web/memory-alert-book.js';

const T0 = Date.UTC(2026, 0, 1, 12);

function alert(state: Alert['state'], terminalId: string, at: number, rule = 'unreachable'): Alert {
  return {
    at,
    state,
    rule,
    type: 'unreachable',
    key: `shop-paris-01/${terminalId}`,
    fleet: 'shop-paris-01',
    terminalId,
    value: 12,
    message: `offline for ${at - T0} ms`,
  };
}

describe('MemoryAlertBook', () => {
  it('keeps one record per raise, closes it on clear, and opens a new one on the next raise', async () => {
    const clock = new ManualClock(T0);
    const book = new MemoryAlertBook(clock);
    const first = await book.record(alert('raised', 'T1', T0));
    expect(first).toMatchObject({ state: 'open', raisedAt: T0, clearedAt: null });
    const cleared = await book.record(alert('cleared', 'T1', T0 + 60_000));
    expect(cleared).toMatchObject({ id: first.id, state: 'cleared', clearedAt: T0 + 60_000 });
    const second = await book.record(alert('raised', 'T1', T0 + 120_000));
    expect(second.id).not.toBe(first.id);
    await book.record(alert('raised', 'T2', T0 + 130_000, 'host timeouts'));
    expect((await book.list({ limit: 10 })).map((r) => [r.terminalId, r.state])).toEqual([
      ['T2', 'open'],
      ['T1', 'open'],
      ['T1', 'cleared'],
    ]);
    expect((await book.list({ limit: 10, states: ['cleared'] })).map((r) => r.id)).toEqual([first.id]);
    expect((await book.list({ limit: 10, terminalId: 'T2' })).map((r) => r.rule)).toEqual(['host timeouts']);
    expect((await book.list({ limit: 1, offset: 1 })).map((r) => r.id)).toEqual([second.id]);
  });

  it('acknowledges once, on its clock, and a cleared acknowledged alert stays acknowledged by the same person', async () => {
    const clock = new ManualClock(T0);
    const book = new MemoryAlertBook(clock);
    const rec = await book.record(alert('raised', 'T1', T0));
    await clock.advance(5_000);
    expect(await book.acknowledge(rec.id, 'alice', 'looking')).toMatchObject({
      state: 'acknowledged',
      acknowledgedBy: 'alice',
      acknowledgedAt: T0 + 5_000,
      acknowledgeNote: 'looking',
    });
    expect((await book.acknowledge(rec.id, 'bob'))?.acknowledgedBy).toBe('alice');
    expect(await book.record(alert('cleared', 'T1', T0 + 90_000))).toMatchObject({
      state: 'cleared',
      acknowledgedBy: 'alice',
    });
    expect(await book.acknowledge('nope', 'alice')).toBeUndefined();
  });

  it('forgets the oldest cleared records beyond its bound, never an open one', async () => {
    const book = new MemoryAlertBook(new ManualClock(T0), 5);
    for (let i = 0; i < 8; i++) {
      await book.record(alert('raised', `T${i}`, T0 + i));
      if (i < 6) await book.record(alert('cleared', `T${i}`, T0 + i + 1));
    }
    const all = await book.list({ limit: 100 });
    expect(all).toHaveLength(5);
    expect(all.filter((r) => r.state === 'open').map((r) => r.terminalId)).toEqual(['T7', 'T6']);
  });
});
