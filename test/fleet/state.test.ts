/** FleetState on a simulated clock: connection, silence, restarts, sequence gaps and duplicates, anomalies, status. */
import { beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../hal/clock.js';
import { decodeTelemetry, type TerminalMessage } from '../../src/fleet/decode.js';
import { FleetState, type FleetStateOptions, type IngestContext } from '../../src/fleet/state.js';
import { wire } from '../../src/telemetry/wire.js';
import { encode, FLEET, T0, TERMINAL, topic } from './support.js';

const MIN = 60_000;

let clock: ManualClock;
let fleet: FleetState;

function make(opts: Partial<FleetStateOptions> = {}): FleetState {
  fleet = new FleetState({ clock, ...opts });
  return fleet;
}

function feed(type: string, payload: Uint8Array, ctx: IngestContext = {}, terminalId = TERMINAL) {
  return fleet.ingest(decodeTelemetry(topic(type, terminalId), payload) as TerminalMessage, ctx);
}

function view(terminalId = TERMINAL) {
  const v = fleet.terminal(FLEET, terminalId);
  if (!v) throw new Error(`no terminal ${terminalId}`);
  return v;
}

/** Header times follow the simulated clock, as a terminal with a good clock would stamp them. */
const at = (seq: number, bootId = 'boot-a', terminalId = TERMINAL) => ({
  seq,
  bootId,
  terminalId,
  sentAtMs: clock.now(),
});

beforeEach(() => {
  clock = new ManualClock(T0);
  make();
});

describe('online / offline', () => {
  it('follows State messages, including the last will the broker publishes', async () => {
    feed('state', encode.state(at(1), true, 'connected'));
    feed('birth', encode.birth(at(2)));
    feed('health', encode.health(at(3)));
    expect(view()).toMatchObject({ connection: 'online', status: 'healthy', reasons: [] });

    await clock.advance(10_000);
    // The will was written at connect time: seq 0, outside the sequence, and still applied.
    const r = feed('state', encode.state({ seq: 0, sentAtMs: T0 }, false, 'connection lost'));
    expect(r).toMatchObject({ applied: true, disposition: 'untracked' });
    expect(view()).toMatchObject({
      connection: 'offline',
      status: 'offline',
      offlineReason: 'connection lost',
      reasons: ['connection lost'],
      connectionSince: T0 + 10_000,
      unreachableSince: T0 + 10_000,
    });
    expect(view().sequence).toMatchObject({ gaps: 0, duplicates: 0, lastSeq: 3 });
  });

  it('a clean stop (State offline with its own seq) is offline too', () => {
    feed('state', encode.state(at(1), true, 'connected'));
    feed('state', encode.state(at(2), false, 'shutdown'));
    expect(view()).toMatchObject({ status: 'offline', offlineReason: 'shutdown' });
  });

  it('the retained offline State replayed on subscribe shows the terminal offline', () => {
    feed('state', encode.state({ seq: 0, sentAtMs: T0 - 3_600_000 }, false, 'connection lost'), { retained: true });
    expect(view()).toMatchObject({ connection: 'offline', status: 'offline', restarts: 0 });
    expect(view().sequence.lastSeq).toBeNull();
  });

  it('a retained online State sets the baseline but not the sequence', () => {
    const r = feed('state', encode.state({ seq: 5, sentAtMs: T0 - MIN }, true, 'connected'), { retained: true });
    expect(r.disposition).toBe('untracked');
    expect(view().connection).toBe('online');
    expect(feed('health', encode.health(at(40))).disposition).toBe('first');
    expect(view().sequence.gaps).toBe(0);
  });

  it('ignores the will of an earlier connection of the same boot that arrives after the reconnect', () => {
    feed('state', encode.state(at(1), true, 'connected', 1));
    feed('birth', encode.birth(at(2), { session: 1 }));
    feed('state', encode.state(at(3), true, 'connected', 2));
    feed('birth', encode.birth(at(4), { session: 2 }));
    const late = feed('state', encode.state({ seq: 0 }, false, 'connection lost', 1));
    expect(late).toMatchObject({ applied: false, disposition: 'stale-boot' });
    expect(view()).toMatchObject({ connection: 'online', status: 'healthy' });
    expect(view().sequence.stale).toBe(1);
    // The will of the current connection does count.
    feed('state', encode.state({ seq: 0 }, false, 'connection lost', 2));
    expect(view().status).toBe('offline');
  });

  it('a live message after the will means the terminal is connected again', async () => {
    feed('health', encode.health(at(1)));
    feed('state', encode.state({ seq: 0 }, false, 'connection lost'));
    await clock.advance(5_000);
    feed('health', encode.health(at(2)));
    expect(view()).toMatchObject({ connection: 'online', connectionSince: T0 + 5_000, status: 'healthy' });
  });
});

describe('silence', () => {
  it('is silent after missedHealthFactor x the health interval without Health, and healthy again on the next', async () => {
    make({ healthIntervalMs: 60_000, missedHealthFactor: 3 });
    feed('health', encode.health(at(1)));
    await clock.advance(3 * MIN - 1);
    expect(view().status).toBe('healthy');
    await clock.advance(1);
    expect(view()).toMatchObject({ status: 'silent', connection: 'online', unreachableSince: T0 + 3 * MIN });
    expect(view().reasons[0]).toMatch(/no health for 180 s/);
    await clock.advance(MIN);
    feed('health', encode.health(at(2)));
    expect(view()).toMatchObject({ status: 'healthy', unreachableSince: null });
  });

  it("uses the interval from the terminal's Birth, else the per-terminal config, else the default", async () => {
    make({ healthIntervalMs: 60_000, healthIntervalByTerminal: { [`${FLEET}/T2`]: 20_000 } });
    feed('birth', encode.birth(at(1), { healthIntervalMs: 10_000 }));
    feed('health', encode.health(at(1, 'boot-a', 'T2')), {}, 'T2');
    feed('health', encode.health(at(1, 'boot-a', 'T3')), {}, 'T3');
    expect([view().healthIntervalMs, view('T2').healthIntervalMs, view('T3').healthIntervalMs]).toEqual([
      10_000, 20_000, 60_000,
    ]);
    await clock.advance(30_000);
    expect([view().status, view('T2').status, view('T3').status]).toEqual(['silent', 'healthy', 'healthy']);
    await clock.advance(30_000);
    expect([view().status, view('T2').status, view('T3').status]).toEqual(['silent', 'silent', 'healthy']);
  });

  it('counts from coming online when that is later than the last Health', async () => {
    feed('health', encode.health(at(1)));
    await clock.advance(2 * MIN);
    feed('state', encode.state(at(1, 'boot-b'), true, 'connected'));
    await clock.advance(2 * MIN);
    expect(view().status).toBe('healthy');
    await clock.advance(MIN);
    expect(view()).toMatchObject({ status: 'silent', unreachableSince: T0 + 5 * MIN });
  });

  it('an offline terminal is offline, not silent', async () => {
    feed('health', encode.health(at(1)));
    feed('state', encode.state({ seq: 0 }, false, 'connection lost'));
    await clock.advance(60 * MIN);
    expect(view()).toMatchObject({ status: 'offline', unreachableSince: T0 });
  });
});

describe('boots and sequence numbers', () => {
  it('counts a restart on a new boot id and starts sequence tracking afresh', () => {
    for (let seq = 1; seq <= 3; seq++) feed('health', encode.health(at(seq)));
    const r = feed('birth', encode.birth(at(1, 'boot-b')));
    expect(r).toMatchObject({ disposition: 'restart', restart: { previousBootId: 'boot-a', bootId: 'boot-b' } });
    expect(view()).toMatchObject({ bootId: 'boot-b', restarts: 1, connection: 'online' });
    expect(feed('health', encode.health(at(2, 'boot-b'))).disposition).toBe('in-order');
    expect(view().sequence).toMatchObject({ lastSeq: 2, gaps: 0, missing: 0 });
  });

  it('a late message from the previous boot is stale: the old will does not take the new boot offline', () => {
    feed('health', encode.health(at(1)));
    feed('birth', encode.birth(at(1, 'boot-b')));
    expect(feed('state', encode.state({ seq: 0, bootId: 'boot-a' }, false, 'connection lost'))).toMatchObject({
      applied: false,
      disposition: 'stale-boot',
    });
    expect(view()).toMatchObject({ connection: 'online', restarts: 1, bootId: 'boot-b' });
  });

  it('reports a gap of N, and takes a late arrival as out of order rather than lost', () => {
    feed('health', encode.health(at(1)));
    feed('health', encode.health(at(2)));
    const r = feed('event', encode.event(at(6)));
    expect(r).toMatchObject({ applied: true, disposition: 'gap', gap: 3 });
    expect(view().sequence).toMatchObject({
      lastSeq: 6,
      gaps: 1,
      missing: 3,
      lastGap: { afterSeq: 2, seq: 6, missing: 3, bootId: 'boot-a', at: T0 },
    });
    expect(feed('health', encode.health(at(4), { pendingReversals: 9 })).disposition).toBe('out-of-order');
    expect(view().sequence).toMatchObject({ gaps: 1, missing: 2, outOfOrder: 1 });
    // An older Health does not replace the newest one.
    expect(view().health?.pendingReversals).toBe(0);
  });

  it('ignores a duplicate seq (QoS 1 redelivery): it changes nothing and is counted', () => {
    feed('health', encode.health(at(1)));
    feed('event', encode.event(at(2), { severity: wire.Severity.SEVERITY_WARNING, code: 'E104' }));
    const dup = feed('event', encode.event(at(2), { severity: wire.Severity.SEVERITY_WARNING, code: 'E104' }));
    expect(dup).toMatchObject({ applied: false, disposition: 'duplicate' });
    expect(view().anomalies).toHaveLength(1);
    expect(view().sequence).toMatchObject({ duplicates: 1, gaps: 0, lastSeq: 2 });
    expect(feed('health', encode.health(at(1))).disposition).toBe('duplicate');
    expect(feed('health', encode.health(at(3))).disposition).toBe('in-order');
  });

  it('with sequence tracking off (a shared subscription) nothing is a gap or a duplicate', () => {
    make({ trackSequence: false });
    feed('health', encode.health(at(1)));
    expect(feed('health', encode.health(at(9))).disposition).toBe('untracked');
    expect(feed('health', encode.health(at(9))).disposition).toBe('untracked');
    expect(feed('birth', encode.birth(at(1, 'boot-b'))).disposition).toBe('restart');
    expect(view().sequence).toMatchObject({ gaps: 0, duplicates: 0 });
    expect(view().restarts).toBe(1);
  });
});

describe('anomalies and status', () => {
  it('events of severity warning and above make a terminal anomalous for the window, then clear by time', async () => {
    make({ anomalyWindowMs: 15 * MIN, healthIntervalMs: 60 * MIN });
    feed('health', encode.health(at(1)));
    feed('event', encode.event(at(2), { severity: wire.Severity.SEVERITY_INFO, code: 'E201', kind: 'anomaly' }));
    expect(view().status).toBe('healthy');
    feed('event', encode.event(at(3), { severity: wire.Severity.SEVERITY_WARNING, code: 'E302' }));
    await clock.advance(5 * MIN);
    feed('health', encode.health(at(4)));
    feed('event', encode.event(at(5), { severity: wire.Severity.SEVERITY_ERROR, code: 'E101' }));
    expect(view()).toMatchObject({ status: 'anomalous', reasons: ['E302', 'E101'] });
    expect(view().anomalies.map((a) => [a.code, a.severity, a.at])).toEqual([
      ['E302', 'warning', T0],
      ['E101', 'error', T0 + 5 * MIN],
    ]);
    await clock.advance(10 * MIN);
    feed('health', encode.health(at(6)));
    expect(view()).toMatchObject({ status: 'anomalous', reasons: ['E101'] });
    await clock.advance(5 * MIN);
    expect(view()).toMatchObject({ status: 'healthy', anomalies: [] });
  });

  it('places events replayed from the outbox at the time they happened, by the terminal clock offset', async () => {
    make({ anomalyWindowMs: 15 * MIN, healthIntervalMs: 60 * MIN });
    // The terminal's clock runs 2 minutes behind ours.
    const skew = -2 * MIN;
    feed('health', encode.health({ seq: 1, sentAtMs: clock.now() + skew }));
    await clock.advance(30 * MIN);
    // Created 20 minutes ago (terminal time) while the broker was away, delivered now.
    const createdAt = clock.now() + skew - 20 * MIN;
    const r = feed(
      'event',
      encode.event({ seq: 2, sentAtMs: createdAt }, { atMs: createdAt, severity: wire.Severity.SEVERITY_ERROR }),
    );
    expect(r.eventAt).toBe(clock.now() - 20 * MIN);
    expect(view().status).toBe('healthy');
    // A live one is anomalous at once.
    const live = feed('event', encode.event({ seq: 3, sentAtMs: clock.now() + skew }, { atMs: clock.now() + skew }));
    expect(live.eventAt).toBe(clock.now());
    expect(view().status).toBe('anomalous');
  });

  it('ranks offline > silent > locked > anomalous > degraded > healthy', async () => {
    const { OPERATION_STATE_LOCKED: LOCKED, OPERATION_STATE_DEGRADED: DEGRADED } = wire.OperationState;
    feed('health', encode.health(at(1), { state: DEGRADED, limitations: ['offline-only'] }));
    expect(view()).toMatchObject({ status: 'degraded', reasons: ['offline-only'] });
    feed('health', encode.health(at(2), { link: { hostUp: false, networkUp: true } }));
    expect(view()).toMatchObject({ status: 'degraded', reasons: ['host down'] });
    feed(
      'health',
      encode.health(at(3), {
        components: [{ component: 'printer', status: wire.CheckStatus.CHECK_STATUS_FAULT, code: 'paper-out' }],
      }),
    );
    expect(view()).toMatchObject({ status: 'degraded', reasons: ['printer paper-out'] });
    expect(view().health?.problems).toEqual([
      { component: 'printer', status: 'fault', code: 'paper-out', detail: '', durationMs: 0 },
    ]);
    feed('event', encode.event(at(4)));
    expect(view().status).toBe('anomalous');
    feed('health', encode.health(at(5), { state: LOCKED, lockReasons: ['card-testing'] }));
    expect(view()).toMatchObject({ status: 'locked', reasons: ['card-testing'] });
    await clock.advance(3 * MIN);
    expect(view().status).toBe('silent');
    feed('state', encode.state({ seq: 0 }, false, 'connection lost'));
    expect(view().status).toBe('offline');
  });

  it('keeps the latest Health summary and ages the store-and-forward queue between reports', async () => {
    feed(
      'health',
      encode.health(at(1), {
        pendingReversals: 2,
        storeAndForward: { depth: 3, totalMinor: 4_500, oldestAgeMs: 30 * MIN },
        telemetryDropped: 4,
      }),
    );
    await clock.advance(10 * MIN);
    expect(view().health).toMatchObject({
      receivedAt: T0,
      seq: 1,
      state: 'ready',
      pendingReversals: 2,
      storeAndForward: { depth: 3, totalMinor: 4_500, oldestAgeMs: 30 * MIN, oldestAgeNowMs: 40 * MIN },
      link: { hostUp: true, hostRttMs: 42 },
      resources: { uptimeS: 3600 },
      telemetryDropped: 4,
    });
    expect(view().lastSeenAt).toBe(T0);
  });

  it('lists terminals in fleet/terminal order and forgets one on request', () => {
    feed('health', encode.health(at(1, 'boot-a', 'T2')), {}, 'T2');
    feed('health', encode.health(at(1, 'boot-a', 'T1')), {}, 'T1');
    expect(fleet.terminals().map((v) => v.key)).toEqual([`${FLEET}/T1`, `${FLEET}/T2`]);
    expect(fleet.forget(FLEET, 'T1')).toBe(true);
    expect(fleet.size).toBe(1);
  });
});
