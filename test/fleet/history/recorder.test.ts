/**
 * The write queue in front of the history store, against a store that answers when the test says: batches by size
 * and by time on the simulated clock, one batch in flight, a full queue sheds with a count, a failed batch is kept
 * and written later.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../hal/clock.js';
import { TelemetryDecoder } from '../../../src/fleet/decode.js';
import { HistoryRecorder, historyRecordOf } from '../../../src/fleet/history/recorder.js';
import type { HistoryRecord } from '../../../src/fleet/history/store.js';
import { encode, FLEET, T0, TERMINAL, topic } from '../support.js';

/** A store whose inserts wait until released (or fail when told). */
function heldStore() {
  const batches: HistoryRecord[][] = [];
  const waiting: { resolve: () => void; reject: (e: Error) => void }[] = [];
  return {
    batches,
    pending: () => waiting.length,
    release: () => waiting.shift()?.resolve(),
    fail: (message: string) => waiting.shift()?.reject(new Error(message)),
    insert(records: readonly HistoryRecord[]) {
      batches.push([...records]);
      return new Promise<void>((resolve, reject) => waiting.push({ resolve, reject }));
    },
  };
}

function rec(seq: number): HistoryRecord {
  return {
    fleet: FLEET,
    terminalId: TERMINAL,
    kind: 'health',
    bootId: 'boot-a',
    seq,
    sentAt: T0,
    receivedAt: T0 + seq,
    historical: false,
    retained: false,
    summary: '',
    data: null,
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('history write queue', () => {
  it('writes a batch as soon as batchSize wait, one batch in flight at a time', async () => {
    const clock = new ManualClock(T0);
    const store = heldStore();
    const recorder = new HistoryRecorder({ store, clock, batchSize: 3, flushIntervalMs: 1_000 });
    for (let i = 1; i <= 7; i++) recorder.add(rec(i));
    expect(store.batches.map((b) => b.map((r) => r.seq))).toEqual([[1, 2, 3]]);
    store.release();
    await tick();
    expect(store.batches.map((b) => b.length)).toEqual([3, 3]);
    store.release();
    await tick();
    // The seventh waits for the interval, not for more messages.
    expect(store.batches).toHaveLength(2);
    await clock.advance(999);
    expect(store.batches).toHaveLength(2);
    await clock.advance(1);
    expect(store.batches.map((b) => b.map((r) => r.seq))).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
    store.release();
    await tick();
    expect(recorder.stats()).toEqual({ recorded: 7, written: 7, dropped: 0, writeErrors: 0, queued: 0 });
  });

  it('sheds what does not fit while the store is slow, counting every message shed', async () => {
    const clock = new ManualClock(T0);
    const store = heldStore();
    const recorder = new HistoryRecorder({ store, clock, batchSize: 10, maxQueued: 1_000 });
    for (let i = 0; i < 5_000; i++) recorder.add(rec(i));
    // 10 in flight, 1,000 queued behind them, the rest shed.
    expect(recorder.stats()).toMatchObject({ recorded: 5_000, queued: 1_000, dropped: 3_990 });
    store.release();
    await tick();
    expect(recorder.stats()).toMatchObject({ written: 10, queued: 990 });
  });

  it('keeps a batch the store refused and writes it after the interval', async () => {
    const clock = new ManualClock(T0);
    const store = heldStore();
    const errors: string[] = [];
    const recorder = new HistoryRecorder({
      store,
      clock,
      batchSize: 2,
      flushIntervalMs: 500,
      onError: (e) => errors.push(e.message),
    });
    recorder.add(rec(1));
    recorder.add(rec(2));
    store.fail('connection refused');
    await tick();
    expect(errors).toEqual(['connection refused']);
    expect(recorder.stats()).toMatchObject({ writeErrors: 1, queued: 2, written: 0 });
    expect(store.batches).toHaveLength(1); // no retry storm
    await clock.advance(500);
    expect(store.batches.map((b) => b.map((r) => r.seq))).toEqual([
      [1, 2],
      [1, 2],
    ]);
    store.release();
    await tick();
    expect(recorder.stats()).toMatchObject({ written: 2, queued: 0, dropped: 0 });
  });

  it('flush() writes everything queued and reports a failure; close() refuses what comes after', async () => {
    const clock = new ManualClock(T0);
    const store = heldStore();
    const recorder = new HistoryRecorder({ store, clock, batchSize: 100 });
    recorder.add(rec(1));
    const flushed = recorder.flush();
    await tick();
    store.fail('disk full');
    await expect(flushed).rejects.toThrow('disk full');
    const closed = recorder.close();
    await tick();
    store.release();
    await closed;
    recorder.add(rec(2));
    expect(recorder.stats()).toMatchObject({ written: 1, dropped: 1, queued: 0 });
  });

  it('records a decoded message with its envelope, header, one-line summary and the whole message', () => {
    const decoder = new TelemetryDecoder();
    const decoded = decoder.decode(
      topic('health'),
      encode.health({ seq: 12, sentAtMs: T0 - 40 }, { pendingReversals: 2, outboxDepth: 3 }),
    );
    if (!decoded.ok) throw decoded.error;
    const r = historyRecordOf(decoded.message, { receivedAt: T0, retained: false });
    expect(r).toMatchObject({
      fleet: FLEET,
      terminalId: TERMINAL,
      kind: 'health',
      bootId: 'boot-a',
      seq: 12,
      sentAt: T0 - 40,
      receivedAt: T0,
      historical: false,
      summary: 'health ready · saf 0 · pending reversals 2 · outbox 3',
    });
    expect(r.data).toEqual(decoded.message);
    expect(historyRecordOf(decoded.message, { receivedAt: T0, retained: false, historical: true }).historical).toBe(
      true,
    );
    const cmd = decoder.decode(topic('cmd'), encode.command('c-1', 2));
    if (!cmd.ok) throw cmd.error;
    expect(historyRecordOf(cmd.message, { receivedAt: T0, retained: false })).toMatchObject({
      kind: 'cmd',
      bootId: null,
      seq: null,
      sentAt: T0,
    });
  });
});
