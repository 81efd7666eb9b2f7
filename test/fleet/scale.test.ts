/**
 * Nothing throws at fleet size: 200,000 terminals through the consumer's ingest, then the paths that read the whole
 * fleet (the view of every terminal, the watch table and its counts, the alert checks). A correctness test, not a
 * timing one: the figures it checks are counts and widths that a stack overflow or a spread over every terminal
 * (`Math.max(...rows)` threw past about 100,000) would never reach.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../hal/clock.js';
import { type Alert, AlertEngine } from '../../src/fleet/alerts.js';
import { FleetConsumer } from '../../src/fleet/consumer.js';
import { FleetState } from '../../src/fleet/state.js';
import { renderWatch, statusCounts } from '../../src/fleet/table.js';
import { wire } from '../../src/telemetry/wire.js';
import { FleetTraffic } from '../../bench/fleet-traffic.js';

const N = 200_000;
const MIN = 60_000;

describe('a fleet of 200,000 terminals', () => {
  it('is ingested, viewed, rendered, counted and checked for alerts without a throw', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
    const state = new FleetState({ clock });
    const alerts: Alert[] = [];
    const engine = new AlertEngine({
      rules: [{ type: 'unreachable', longerThanMinutes: 10 }],
      state,
      clock,
      clearAfterMs: 0,
      onAlert: (a) => alerts.push(a),
    });
    const consumer = new FleetConsumer({ url: 'mqtt://unused.invalid', state, alerts: engine, clock });
    const traffic = new FleetTraffic({ terminals: N });
    for (let i = 0; i < N; i++) {
      for (const d of traffic.hello(i)) consumer.handle(d.topic, d.payload);
      if (i % 10 === 0) {
        // Every tenth terminal's last will: offline.
        const will = wire.State.encode(
          wire.State.create({
            header: { terminalId: traffic.idOf(i), fleet: traffic.fleetOf(i), bootId: `boot-${i}`, seq: 0 },
            online: false,
            reason: 'connection lost',
            session: 1,
          }),
        ).finish();
        consumer.handle(`pos/v1/${traffic.fleetOf(i)}/${traffic.idOf(i)}/state`, will);
      }
    }
    expect(consumer.stats()).toMatchObject({ decoded: N * 2 + N / 10, rejected: 0, handlerErrors: 0 });
    expect(state.size).toBe(N);

    const views = state.terminals();
    expect(views).toHaveLength(N);
    expect((views[0]?.key ?? '') < (views[N - 1]?.key ?? '')).toBe(true);
    expect(statusCounts(views)).toBe(`${N} terminals: ${N - N / 10} healthy, ${N / 10} offline`);

    const text = renderWatch({ at: clock.now(), title: 'watch', terminals: views, recentAlerts: [], info: [] });
    const lines = text.split('\n');
    // Title, counts, blank, header, one row per terminal, and the final newline.
    expect(lines).toHaveLength(4 + N + 1);
    const widest = Math.max('TERMINAL'.length, `${traffic.fleetOf(0)}/${traffic.idOf(0)}`.length);
    expect(lines[3]?.indexOf('STATUS')).toBe(widest + 2);
    expect(lines.filter((l) => / OFFLINE /.test(l))).toHaveLength(N / 10);

    // Ten minutes and a check later: one alert per offline terminal, from the deadline index and from a full scan.
    engine.start();
    await clock.advance(10 * MIN + 5_000);
    engine.stop();
    expect(alerts).toHaveLength(N / 10);
    expect(alerts.every((a) => a.state === 'raised' && a.type === 'unreachable')).toBe(true);
    expect(engine.evaluate()).toEqual([]);
    expect(engine.active()).toHaveLength(N / 10);
  }, 180_000);
});
