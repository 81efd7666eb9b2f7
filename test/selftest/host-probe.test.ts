/**
 * The host probe against the acquirer host simulator over loopback. Intervals and response timeouts run on a
 * ManualClock shared by both ends; `until` only waits for bytes to cross the socket.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock, type Clock } from '../../hal/clock.js';
import { TcpHostLink } from '../../hal/acquirer-link/tcp.js';
import { AcquirerClient, isoCorrelator } from '../../src/acquirer/acquirer-client.js';
import { AcquirerHostSimulator } from '../../src/acquirer-sim/simulator.js';
import { estimateSkew, HostProbe, type HostProbeEvents } from '../../src/selftest/host-probe.js';
import { until } from '../support/wait.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** A clock that reads `offsetMs` ahead of another, for a host whose time differs from the terminal's. */
function offsetClock(base: Clock, offsetMs: number): Clock {
  return { now: () => base.now() + offsetMs, setTimeout: (fn, ms) => base.setTimeout(fn, ms) };
}

async function setup(opts: { hostOffsetMs?: number; intervalMs?: number; timeoutMs?: number } = {}) {
  const clock = new ManualClock();
  const sim = new AcquirerHostSimulator({ clock: offsetClock(clock, opts.hostOffsetMs ?? 0) });
  const { port } = await sim.start();
  const link = new TcpHostLink({ host: '127.0.0.1', port, correlator: isoCorrelator, clock, connectTimeoutMs: 5_000 });
  link.start();
  cleanups.push(
    () => sim.stop(),
    () => link.stop(),
  );
  await until(() => link.isUp(), 'link up');
  let stan = 500;
  const stans: number[] = [];
  const probe = new HostProbe({
    acquirer: new AcquirerClient(link),
    clock,
    terminalId: 'TERM0001',
    nextStan: () => {
      stans.push(++stan);
      return stan;
    },
    intervalMs: opts.intervalMs ?? 30_000,
    timeoutMs: opts.timeoutMs ?? 5_000,
  });
  cleanups.push(() => probe.stop());
  const events: HostProbeEvents['reachability'][] = [];
  probe.on('reachability', (e) => events.push(e));
  const echoes = () => sim.ledger.filter((e) => e.dir === 'in' && e.mti === '0800');
  return { clock, sim, link, probe, events, stans, echoes };
}

describe('HostProbe', () => {
  it('echoes at once on start, then every interval, with STANs from the injected source', async () => {
    const { clock, probe, events, stans, echoes } = await setup({ intervalMs: 30_000 });
    expect(probe.last()).toBeUndefined();
    probe.start();
    await until(() => probe.last() !== undefined, 'first echo');
    expect(probe.last()).toEqual({ ok: true, rttMs: 0, at: clock.now(), skewMs: 0, responseCode: '00' });
    expect(events).toEqual([{ reachable: true, result: probe.last() }]);

    await clock.advance(29_999);
    expect(echoes()).toHaveLength(1);
    await clock.advance(1);
    await until(() => echoes().length === 2 && probe.last()?.at === clock.now(), 'second echo');
    await clock.advance(30_000);
    await until(() => echoes().length === 3 && probe.last()?.at === clock.now(), 'third echo');

    expect(stans).toEqual([501, 502, 503]);
    expect(echoes().map((e) => e.stan)).toEqual(['000501', '000502', '000503']);
    // Still reachable: no new event.
    expect(events).toHaveLength(1);
  });

  it('estimates the skew of the host clock from field 7 of the 0810', async () => {
    const { probe } = await setup({ hostOffsetMs: 7 * 60_000 });
    const result = await probe.probeNow();
    expect(result.ok).toBe(true);
    expect(result.skewMs).toBe(7 * 60_000);

    const behind = await setup({ hostOffsetMs: -90_000 });
    expect((await behind.probe.probeNow()).skewMs).toBe(-90_000);
  });

  it('reports the host unreachable when the echo times out, and reachable again when it answers', async () => {
    const { clock, sim, probe, events } = await setup({ intervalMs: 10_000, timeoutMs: 5_000 });
    probe.start();
    await until(() => events.length === 1, 'first echo');
    expect(events[0]?.reachable).toBe(true);

    sim.setBehaviour({ misbehaviour: 'silent' });
    await clock.advance(10_000);
    await until(() => sim.ledger.filter((e) => e.mti === '0800').length === 2, 'second echo reaches the host');
    await clock.advance(5_000);
    await until(() => events.length === 2, 'timeout noticed');
    expect(events[1]).toMatchObject({ reachable: false, previous: { ok: true } });
    expect(probe.last()).toMatchObject({ ok: false, error: expect.stringMatching(/^timeout: /) });
    expect(probe.last()?.rttMs).toBeUndefined();

    sim.setBehaviour({ misbehaviour: 'none' });
    // The next echo is due intervalMs after the failed one ended.
    await clock.advance(10_000);
    await until(() => events.length === 3, 'host back');
    expect(events[2]).toMatchObject({ reachable: true, result: { ok: true, responseCode: '00' } });
  });

  it('reports a host that cannot be connected as unreachable', async () => {
    const { sim, link, probe } = await setup();
    await sim.stop();
    await until(() => !link.isUp(), 'link down');
    const result = await probe.probeNow();
    expect(result).toMatchObject({ ok: false, error: expect.stringMatching(/^not-connected: /) });
  });

  it('shares one echo between overlapping probeNow calls', async () => {
    const { probe, echoes } = await setup();
    const [a, b] = await Promise.all([probe.probeNow(), probe.probeNow()]);
    expect(a).toEqual(b);
    expect(echoes()).toHaveLength(1);
  });

  it('sends nothing more after stop', async () => {
    const { clock, probe, echoes } = await setup({ intervalMs: 1_000 });
    probe.start();
    await until(() => probe.last() !== undefined, 'first echo');
    probe.stop();
    expect(clock.pending()).toBe(0);
    await clock.advance(10_000);
    expect(echoes()).toHaveLength(1);
  });
});

describe('estimateSkew', () => {
  const ours = Date.UTC(2026, 5, 15, 10, 0, 0);
  it('reads MMDDhhmmss as UTC and subtracts our time', () => {
    expect(estimateSkew('0615100130', ours)).toBe(90_000);
    expect(estimateSkew('0615095500', ours)).toBe(-300_000);
  });
  it('picks the year that puts the host nearest us across New Year', () => {
    expect(estimateSkew('0101000001', Date.UTC(2026, 11, 31, 23, 59, 59))).toBe(2_000);
    expect(estimateSkew('1231235959', Date.UTC(2027, 0, 1, 0, 0, 1))).toBe(-2_000);
  });
  it('ignores a missing or malformed field 7', () => {
    expect(estimateSkew(undefined, ours)).toBeUndefined();
    expect(estimateSkew('061510013', ours)).toBeUndefined();
    expect(estimateSkew('1315100000', ours)).toBeUndefined();
    expect(estimateSkew('0231100000', ours)).toBeUndefined();
    expect(estimateSkew('0615246000', ours)).toBeUndefined();
  });
});
