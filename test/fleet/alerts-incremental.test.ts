/**
 * The incremental alert engine (per message for the terminal concerned, a deadline index for what time changes)
 * against the full re-evaluation it replaced (every rule, every terminal, every check), side by side on one fleet
 * state over random message and time sequences: the same alerts, in the same order, with the same values and words.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../hal/clock.js';
import { AlertEngine, type Alert, type AlertRule } from '../../src/fleet/alerts.js';
import { decodeTelemetry, type TerminalMessage } from '../../src/fleet/decode.js';
import { FleetState } from '../../src/fleet/state.js';
import { wire } from '../../src/telemetry/wire.js';
import { FullScanAlertEngine } from './alerts-full-scan.js';
import { encode, T0, topic } from './support.js';

const MIN = 60_000;
const TERMINALS = ['A', 'B', 'C', 'D'];

const ruleArb: fc.Arbitrary<AlertRule> = fc.oneof(
  fc.record({
    type: fc.constant('event-burst' as const),
    code: fc.constantFrom('E101', 'E202'),
    moreThan: fc.integer({ min: 0, max: 3 }),
    withinMinutes: fc.constantFrom(0.5, 1, 5, 10),
  }),
  fc.record({ type: fc.constant('unreachable' as const), longerThanMinutes: fc.constantFrom(0.05, 1, 3, 10) }),
  fc.record({ type: fc.constant('saf-age' as const), aboveHours: fc.constantFrom(0.02, 0.5, 1, 2) }),
  fc.record({
    type: fc.constant('pending-reversals' as const),
    above: fc.integer({ min: 0, max: 2 }),
    longerThanMinutes: fc.constantFrom(0.1, 1, 5),
  }),
);

type Step =
  | { kind: 'wait'; ms: number }
  | { kind: 'birth'; t: number; newBoot: boolean; intervalMs: number }
  | { kind: 'health'; t: number; pending: number; safDepth: number; safAgeMin: number }
  | { kind: 'event'; t: number; code: string; severity: number; skewMs: number }
  | { kind: 'state'; t: number; online: boolean; retained: boolean }
  | { kind: 'duplicate'; t: number };

const terminal = fc.integer({ min: 0, max: TERMINALS.length - 1 });
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 12 * MIN }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('birth' as const),
      t: terminal,
      newBoot: fc.boolean(),
      intervalMs: fc.constantFrom(0, 20_000, 60_000),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('health' as const),
      t: terminal,
      pending: fc.integer({ min: 0, max: 3 }),
      safDepth: fc.integer({ min: 0, max: 2 }),
      safAgeMin: fc.integer({ min: 0, max: 150 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('event' as const),
      t: terminal,
      code: fc.constantFrom('E101', 'E202', 'E303'),
      severity: fc.constantFrom(wire.Severity.SEVERITY_INFO, wire.Severity.SEVERITY_ERROR),
      skewMs: fc.integer({ min: -10 * MIN, max: 2 * MIN }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('state' as const),
      t: terminal,
      online: fc.boolean(),
      retained: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('duplicate' as const), t: terminal }) },
);

async function run(
  rules: AlertRule[],
  steps: Step[],
  checkIntervalMs: number,
  clearAfterMs: number,
): Promise<{ incremental: Alert[]; full: Alert[] }> {
  const clock = new ManualClock(T0);
  const state = new FleetState({ clock, healthIntervalMs: 30_000 });
  const incremental: Alert[] = [];
  const full: Alert[] = [];
  const a = new AlertEngine({
    rules,
    state,
    clock,
    checkIntervalMs,
    clearAfterMs,
    onAlert: (x) => incremental.push(x),
  });
  const b = new FullScanAlertEngine({
    rules,
    state,
    clock,
    checkIntervalMs,
    clearAfterMs,
    onAlert: (x) => full.push(x),
  });
  a.start();
  b.start();
  const boots = TERMINALS.map(() => 0);
  const seqs = TERMINALS.map(() => 0);
  const feed = (t: number, type: string, payload: Uint8Array, retained = false) => {
    const msg = decodeTelemetry(topic(type, TERMINALS[t]), payload) as TerminalMessage;
    const result = state.ingest(msg, { retained });
    a.observe(msg, result);
    b.observe(msg, result);
  };
  const head = (t: number, seq?: number) => {
    if (seq === undefined) seqs[t] = (seqs[t] ?? 0) + 1;
    return {
      terminalId: TERMINALS[t],
      bootId: `boot-${boots[t]}`,
      seq: seq ?? (seqs[t] as number),
      sentAtMs: clock.now(),
    };
  };
  for (const s of steps) {
    switch (s.kind) {
      case 'wait':
        await clock.advance(s.ms);
        break;
      case 'birth':
        if (s.newBoot) {
          boots[s.t] = (boots[s.t] ?? 0) + 1;
          seqs[s.t] = 0;
        }
        feed(s.t, 'birth', encode.birth(head(s.t), { healthIntervalMs: s.intervalMs }));
        break;
      case 'health':
        feed(
          s.t,
          'health',
          encode.health(head(s.t), {
            pendingReversals: s.pending,
            storeAndForward: { depth: s.safDepth, totalMinor: s.safDepth * 100, oldestAgeMs: s.safAgeMin * MIN },
          }),
        );
        break;
      case 'event':
        feed(
          s.t,
          'event',
          encode.event(head(s.t), { code: s.code, severity: s.severity, atMs: clock.now() + s.skewMs }),
        );
        break;
      case 'state':
        feed(
          s.t,
          'state',
          s.online ? encode.state(head(s.t), true, 'connected') : encode.state(head(s.t, 0), false, 'connection lost'),
          s.retained,
        );
        break;
      case 'duplicate':
        feed(s.t, 'health', encode.health(head(s.t, Math.max(1, seqs[s.t] ?? 1))));
        break;
    }
  }
  // Long enough for every window, duration and pending clear to play out.
  await clock.advance(3 * 60 * MIN);
  a.stop();
  b.stop();
  return { incremental, full };
}

describe('incremental alert engine', () => {
  it('raises and clears exactly what a full re-evaluation on every check does', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(ruleArb, { minLength: 1, maxLength: 4 }),
        fc.array(stepArb, { minLength: 1, maxLength: 60 }),
        fc.constantFrom(5_000, 60_000),
        fc.constantFrom(0, 30_000, 2 * MIN),
        async (rules, steps, checkIntervalMs, clearAfterMs) => {
          const { incremental, full } = await run(rules, steps, checkIntervalMs, clearAfterMs);
          expect(incremental).toEqual(full);
        },
      ),
      { numRuns: 200 },
    );
  }, 120_000);

  it('the generated sequences do raise and clear alerts of every rule type (the comparison is not vacuous)', async () => {
    const rules: AlertRule[] = [
      { type: 'event-burst', code: 'E101', moreThan: 1, withinMinutes: 5 },
      { type: 'unreachable', longerThanMinutes: 1 },
      { type: 'saf-age', aboveHours: 0.5 },
      { type: 'pending-reversals', above: 0, longerThanMinutes: 1 },
    ];
    const steps: Step[] = [
      { kind: 'birth', t: 0, newBoot: false, intervalMs: 20_000 },
      { kind: 'event', t: 0, code: 'E101', severity: 3, skewMs: 0 },
      { kind: 'event', t: 0, code: 'E101', severity: 3, skewMs: 0 },
      { kind: 'health', t: 1, pending: 2, safDepth: 1, safAgeMin: 29 },
      { kind: 'wait', ms: 3 * MIN },
      { kind: 'health', t: 1, pending: 0, safDepth: 0, safAgeMin: 0 },
      { kind: 'state', t: 2, online: false, retained: false },
      { kind: 'wait', ms: 3 * MIN },
      { kind: 'birth', t: 2, newBoot: true, intervalMs: 60_000 },
    ];
    const { incremental, full } = await run(rules, steps, 5_000, 0);
    expect(incremental).toEqual(full);
    const seen = new Set(incremental.map((x) => `${x.type} ${x.state}`));
    for (const type of ['event-burst', 'unreachable', 'saf-age', 'pending-reversals'])
      for (const s of ['raised', 'cleared']) expect(seen).toContain(`${type} ${s}`);
  });

  it('a check touches only the terminals whose deadline has passed, not the fleet', async () => {
    const clock = new ManualClock(T0);
    const state = new FleetState({ clock, healthIntervalMs: 20 * MIN });
    const alerts: Alert[] = [];
    const engine = new AlertEngine({
      rules: [{ type: 'unreachable', longerThanMinutes: 10 }],
      state,
      clock,
      checkIntervalMs: 5_000,
      clearAfterMs: 0,
      onAlert: (x) => alerts.push(x),
    });
    engine.start();
    const n = 2_000;
    for (let i = 0; i < n; i++) {
      const msg = decodeTelemetry(
        topic('health', `T${i}`),
        encode.health({ terminalId: `T${i}`, seq: 1, sentAtMs: clock.now() }),
      ) as TerminalMessage;
      engine.observe(msg, state.ingest(msg));
    }
    let looked = 0;
    const facts = state.facts.bind(state);
    state.facts = (key, at) => {
      looked++;
      return facts(key, at);
    };
    // Twelve checks in a calm fleet: nobody is due, nobody is looked at.
    await clock.advance(MIN);
    expect(looked).toBe(0);
    // One terminal goes offline: only it is looked at, on the message and when its ten minutes are up.
    const will = decodeTelemetry(
      topic('state', 'T7'),
      encode.state({ terminalId: 'T7', seq: 0 }, false, 'connection lost'),
    ) as TerminalMessage;
    engine.observe(will, state.ingest(will));
    await clock.advance(11 * MIN);
    expect(alerts.map((a) => `${a.state} ${a.terminalId}`)).toEqual(['raised T7']);
    expect(looked).toBeLessThanOrEqual(3);
    // All others fall silent at 60 min (3 × 20) and are raised ten minutes later: each is looked at when it falls
    // silent and around its limit, a few times in all, where a full scan would have looked 720 times (every check).
    looked = 0;
    await clock.advance(60 * MIN);
    expect(alerts).toHaveLength(n);
    expect(looked).toBeGreaterThanOrEqual(2 * (n - 1));
    expect(looked).toBeLessThanOrEqual(3 * (n - 1));
    engine.stop();
  });
});
