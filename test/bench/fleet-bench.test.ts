/**
 * Smoke test of the fleet benchmarks at a tiny size, so they cannot rot: the in-process ingest keeps exact state,
 * one and two consumers behind a real Mosquitto lose nothing and split the shared subscription, and a burst past
 * Mosquitto's default queue limit is dropped there and not with the README's settings. Needs the built worker
 * (dist/bench) and mosquitto, as the CLI tests need dist and the broker tests mosquitto.
 */
import { describe, expect, it } from 'vitest';
import { benchFleetBroker } from '../../bench/fleet-broker.js';
import { benchFleetIngest } from '../../bench/fleet-ingest.js';
import { benchMosquittoBurst } from '../../bench/mosquitto-burst.js';

const finite = (n: unknown) => typeof n === 'number' && Number.isFinite(n) && n > 0;

describe('fleet benchmarks (smoke)', () => {
  it('ingest: decode + state + alerts in one process, exact state, beside the raw decode rate', async () => {
    const r = await benchFleetIngest({ sizes: [{ terminals: 50, messages: 500 }] });
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
    const run = r.runs[0];
    expect(run?.messages).toBe(600);
    expect(run?.decoded).toBe(600);
    expect(run?.exactState).toEqual({ terminals: 50, expected: 50, wrongSeq: 0, gaps: 0, duplicates: 0, exact: true });
    expect(finite(run?.messagesPerSecond)).toBe(true);
    expect(finite(run?.reference.rawProtobufDecodePerSecond)).toBe(true);
    expect(r.verdict.exactState).toBe('met');
    expect(['met', 'NOT met']).toContain(r.verdict.rate);
  }, 60_000);

  it('broker: one consumer and two on a shared subscription, every message once, exact state for the one', async () => {
    const r = await benchFleetBroker({ sizes: [{ terminals: 20, steady: 200 }], drainLimitMs: 20_000 });
    const run = r.runs[0];
    expect(run?.one).toMatchObject({ delivered: 240, lost: 0, exactlyOnce: true, exactState: { exact: true } });
    expect(run?.reference.nullConsumer).toMatchObject({ delivered: 240, lost: 0 });
    expect(run?.two).toMatchObject({ delivered: 240, lost: 0, exactlyOnce: true, consumers: 2 });
    // The broker split the messages: both members got some.
    for (const c of run?.two.perConsumer ?? []) expect(c.received).toBeGreaterThan(0);
    expect(run?.two.perConsumer).toHaveLength(2);
    expect(finite(run?.twoOverOne)).toBe(true);
    expect(r.verdict).toMatchObject({ nothingLost: 'met', exactState: 'met' });
    // Consumers held to one CPU budget (a cgroup quota) where the machine allows it, else the reason why not.
    const equal = run?.equalBudget;
    if (equal && 'skipped' in equal) expect(equal.skipped).toMatch(/cgroup/);
    else {
      expect(equal?.one).toMatchObject({ delivered: 240, exactlyOnce: true });
      expect(equal?.two).toMatchObject({ delivered: 240, exactlyOnce: true, consumers: 2 });
      expect(finite(equal?.twoOverOne)).toBe(true);
    }
  }, 120_000);

  it('burst: the default queue of 1,000 drops what a consumer away misses, the tuned limits drop nothing', async () => {
    const r = await benchMosquittoBurst({ messages: 3_000, perSecond: 3_000, terminals: 30 });
    expect(r.defaults.away.dropped).toBeGreaterThan(0);
    expect(r.defaults.away.delivered).toBeLessThanOrEqual(1_000 + 20);
    expect(r.tuned.away).toMatchObject({ delivered: 3_000, dropped: 0 });
    expect(r.tuned.connected).toMatchObject({ delivered: 3_000, dropped: 0 });
    expect(r.verdict.tunedLosesNothing).toBe('met');
  }, 120_000);
});
