/** Alert rules on a simulated clock: each fires once when its condition starts and once when it clears. */
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../hal/clock.js';
import { AlertEngine, formatAlert, ruleNames, type Alert, type AlertRule } from '../../src/fleet/alerts.js';
import { decodeTelemetry, type TerminalMessage } from '../../src/fleet/decode.js';
import { FleetState } from '../../src/fleet/state.js';
import { wire } from '../../src/telemetry/wire.js';
import { encode, FLEET, T0, TERMINAL, topic } from './support.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

let engine: AlertEngine | undefined;
afterEach(() => engine?.stop());

function setup(rules: AlertRule[], opts: { clearAfterMs?: number; healthIntervalMs?: number } = {}) {
  const clock = new ManualClock(T0);
  const state = new FleetState({ clock, healthIntervalMs: opts.healthIntervalMs ?? 60 * MIN });
  const alerts: Alert[] = [];
  engine = new AlertEngine({
    rules,
    state,
    clock,
    checkIntervalMs: 5_000,
    clearAfterMs: opts.clearAfterMs ?? 0,
    onAlert: (a) => alerts.push(a),
  });
  engine.start();
  const seqs = new Map<string, number>();
  const send = (
    type: string,
    build: (h: { seq: number; sentAtMs: number; terminalId: string }) => Uint8Array,
    terminalId = TERMINAL,
  ) => {
    const seq = (seqs.get(terminalId) ?? 0) + 1;
    seqs.set(terminalId, seq);
    const msg = decodeTelemetry(
      topic(type, terminalId),
      build({ seq, sentAtMs: clock.now(), terminalId }),
    ) as TerminalMessage;
    engine!.observe(msg, state.ingest(msg));
  };
  const summary = () => alerts.map((a) => `${a.state} ${a.rule} ${a.terminalId} @${(a.at - T0) / 1000}s`);
  return { clock, state, alerts, send, summary };
}

describe('event bursts', () => {
  it('raises once when more than N events with the code arrive within M minutes, clears once when the window passes', async () => {
    const { clock, alerts, send, summary } = setup([
      { type: 'event-burst', code: 'E101', moreThan: 3, withinMinutes: 10 },
    ]);
    for (let i = 0; i < 3; i++) {
      send('event', (h) => encode.event(h, { code: 'E101', atMs: clock.now() }));
      await clock.advance(MIN);
    }
    send('event', (h) => encode.event(h, { code: 'E102', atMs: clock.now() }));
    send('event', (h) => encode.event(h, { code: 'E101', atMs: clock.now() }), 'OTHER');
    expect(alerts).toEqual([]);
    send('event', (h) => encode.event(h, { code: 'E101', atMs: clock.now() }));
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      state: 'raised',
      rule: 'event-burst E101',
      type: 'event-burst',
      fleet: FLEET,
      terminalId: TERMINAL,
      value: 4,
      message: '4 E101 events within 10 min (limit 3)',
    });
    // More of the same while raised: no new line.
    send('event', (h) => encode.event(h, { code: 'E101', atMs: clock.now() }));
    await clock.advance(5 * MIN);
    expect(alerts).toHaveLength(1);
    // The events at 0 s and 60 s leave the window at 600 s and 660 s; it clears when at most 3 remain, and only once.
    await clock.advance(30 * MIN);
    expect(summary()).toEqual(['raised event-burst E101 TERM0042 @180s', 'cleared event-burst E101 TERM0042 @660s']);
    expect(alerts[1]?.value).toBe(3);
  });
});

describe('unreachable terminals', () => {
  it('raises for offline longer than T (on the timer) and clears when the terminal is back', async () => {
    const { clock, alerts, send, summary } = setup([{ type: 'unreachable', longerThanMinutes: 10 }]);
    send('birth', (h) => encode.birth(h));
    send('state', (h) => encode.state({ ...h, seq: 0 }, false, 'connection lost'));
    await clock.advance(10 * MIN);
    expect(alerts).toEqual([]);
    await clock.advance(5_000);
    expect(summary()).toEqual(['raised unreachable TERM0042 @605s']);
    expect(alerts[0]?.message).toBe('offline for 10.1 min (limit 10 min)');
    await clock.advance(HOUR);
    expect(alerts).toHaveLength(1);
    send('birth', (h) => encode.birth({ ...h, bootId: 'boot-b', seq: 1 }));
    expect(summary()).toEqual(['raised unreachable TERM0042 @605s', 'cleared unreachable TERM0042 @4205s']);
  });

  it('counts silence from when the terminal became silent', async () => {
    const { clock, alerts, send } = setup([{ type: 'unreachable', longerThanMinutes: 5 }], { healthIntervalMs: MIN });
    send('health', (h) => encode.health(h));
    await clock.advance(3 * MIN + 5 * MIN);
    expect(alerts).toEqual([]);
    await clock.advance(5_000);
    expect(alerts).toMatchObject([
      { state: 'raised', message: expect.stringMatching(/^silent for 5\.1 min/) as unknown },
    ]);
    send('health', (h) => encode.health(h));
    expect(alerts.map((a) => a.state)).toEqual(['raised', 'cleared']);
  });
});

describe('store-and-forward age', () => {
  it('raises when the oldest queued sale passes H hours (ageing between Health reports) and clears when the queue drains', async () => {
    const { clock, alerts, send, summary } = setup([{ type: 'saf-age', aboveHours: 2 }]);
    send('health', (h) =>
      encode.health(h, { storeAndForward: { depth: 2, totalMinor: 3_000, oldestAgeMs: 110 * MIN } }),
    );
    await clock.advance(10 * MIN);
    expect(alerts).toEqual([]);
    await clock.advance(5_000);
    expect(summary()).toEqual(['raised saf-age TERM0042 @605s']);
    expect(alerts[0]?.message).toBe('oldest store-and-forward sale 2.0 h old, 2 queued (limit 2 h)');
    send('health', (h) =>
      encode.health(h, { storeAndForward: { depth: 2, totalMinor: 3_000, oldestAgeMs: 121 * MIN } }),
    );
    expect(alerts).toHaveLength(1);
    send('health', (h) => encode.health(h, { storeAndForward: { depth: 0, totalMinor: 0, oldestAgeMs: 0 } }));
    expect(summary()).toEqual(['raised saf-age TERM0042 @605s', 'cleared saf-age TERM0042 @605s']);
  });
});

describe('pending reversals', () => {
  it('raises when more than K stay pending for longer than T, clears when they drop to K', async () => {
    const { clock, alerts, send, summary } = setup([{ type: 'pending-reversals', above: 1, longerThanMinutes: 30 }]);
    send('health', (h) => encode.health(h, { pendingReversals: 2 }));
    for (let i = 0; i < 6; i++) {
      await clock.advance(5 * MIN);
      send('health', (h) => encode.health(h, { pendingReversals: 2 + (i % 2) }));
    }
    expect(alerts).toEqual([]);
    await clock.advance(5_000);
    expect(summary()).toEqual(['raised pending-reversals TERM0042 @1805s']);
    expect(alerts[0]?.message).toBe('3 pending reversals for 30.1 min (limit 1 for 30 min)');
    // Dropping to K clears; a new rise starts a new 30 minutes.
    send('health', (h) => encode.health(h, { pendingReversals: 1 }));
    send('health', (h) => encode.health(h, { pendingReversals: 2 }));
    await clock.advance(29 * MIN);
    expect(summary()).toEqual([
      'raised pending-reversals TERM0042 @1805s',
      'cleared pending-reversals TERM0042 @1805s',
    ]);
  });

  it('a short dip to K neither clears nor re-raises: clearAfter holds it, and staying raised needs no new 30 minutes', async () => {
    const { clock, alerts, send } = setup([{ type: 'pending-reversals', above: 0, longerThanMinutes: 1 }], {
      clearAfterMs: MIN,
    });
    send('health', (h) => encode.health(h, { pendingReversals: 1 }));
    await clock.advance(2 * MIN);
    expect(alerts.map((a) => a.state)).toEqual(['raised']);
    send('health', (h) => encode.health(h, { pendingReversals: 0 }));
    await clock.advance(30_000);
    send('health', (h) => encode.health(h, { pendingReversals: 1 }));
    await clock.advance(30_000);
    send('health', (h) => encode.health(h, { pendingReversals: 1 }));
    expect(alerts.map((a) => a.state)).toEqual(['raised']);
    send('health', (h) => encode.health(h, { pendingReversals: 0 }));
    await clock.advance(MIN + 5_000);
    expect(alerts.map((a) => a.state)).toEqual(['raised', 'cleared']);
    expect(engine?.active()).toEqual([]);
  });
});

describe('rules and lines', () => {
  it('names rules uniquely and prints one line per alert', () => {
    expect(
      ruleNames([
        { type: 'event-burst', code: 'E101', moreThan: 1, withinMinutes: 1 },
        { type: 'event-burst', code: 'E101', moreThan: 5, withinMinutes: 1 },
        { type: 'unreachable', longerThanMinutes: 1, name: 'gone' },
        { type: 'saf-age', aboveHours: 1 },
      ]),
    ).toEqual(['event-burst E101', 'event-burst E101 #2', 'gone', 'saf-age']);
    expect(
      formatAlert({
        at: T0,
        state: 'raised',
        rule: 'gone',
        type: 'unreachable',
        key: `${FLEET}/${TERMINAL}`,
        fleet: FLEET,
        terminalId: TERMINAL,
        value: 12,
        message: 'offline for 12 min (limit 10 min)',
      }),
    ).toBe('2026-01-01T12:00:00.000Z RAISED  shop-paris-01/TERM0042 gone: offline for 12 min (limit 10 min)');
  });

  it('evaluates all rules for all terminals independently', async () => {
    const { clock, alerts, send } = setup([
      { type: 'unreachable', longerThanMinutes: 1 },
      { type: 'pending-reversals', above: 0, longerThanMinutes: 1 },
    ]);
    send(
      'health',
      (h) => encode.health(h, { pendingReversals: 1, state: wire.OperationState.OPERATION_STATE_READY }),
      'A',
    );
    send('state', (h) => encode.state({ ...h, seq: 0 }, false, 'connection lost'), 'B');
    await clock.advance(2 * MIN);
    expect(alerts.map((a) => `${a.rule} ${a.terminalId}`).sort()).toEqual(['pending-reversals A', 'unreachable B']);
  });
});
