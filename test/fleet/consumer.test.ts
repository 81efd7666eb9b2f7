/** The consumer's message path without a broker, and the text it renders: bad input is counted, never fatal. */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../hal/clock.js';
import { AlertEngine, type Alert } from '../../src/fleet/alerts.js';
import { encodeCommand, FleetConsumer } from '../../src/fleet/consumer.js';
import { decodeTelemetry, type TelemetryMessage } from '../../src/fleet/decode.js';
import { FleetState } from '../../src/fleet/state.js';
import { age, renderWatch, summarize } from '../../src/fleet/table.js';
import { wire } from '../../src/telemetry/wire.js';
import { encode, FLEET, T0, TERMINAL, topic } from './support.js';

function setup(onMessage?: (m: TelemetryMessage) => void) {
  const clock = new ManualClock(T0);
  const state = new FleetState({ clock });
  const alerts: Alert[] = [];
  const engine = new AlertEngine({
    rules: [{ type: 'event-burst', code: 'E101', moreThan: 0, withinMinutes: 5 }],
    state,
    clock,
    onAlert: (a) => alerts.push(a),
  });
  const errors: Error[] = [];
  const consumer = new FleetConsumer({
    url: 'mqtt://127.0.0.1:1',
    state,
    alerts: engine,
    clock,
    onError: (e) => errors.push(e),
    ...(onMessage ? { onMessage } : {}),
  });
  return { clock, state, consumer, alerts, errors };
}

describe('FleetConsumer.handle', () => {
  it('feeds state and alerts, skips garbage, survives a handler that throws', () => {
    let calls = 0;
    const { state, consumer, alerts, errors } = setup(() => {
      calls++;
      if (calls === 1) throw new Error('display broke');
    });
    consumer.handle(topic('health'), encode.health({ seq: 1 }));
    consumer.handle('not/a/telemetry/topic', Buffer.from('x'));
    consumer.handle(topic('event'), Buffer.from([0xff, 0xff]));
    consumer.handle(topic('event'), encode.event({ seq: 2 }));
    consumer.handle(topic('cmd'), encodeCommand({ commandId: 'c', name: 'rebirth', issuedAtMs: T0, issuedBy: 'ops' }));
    expect(consumer.stats()).toMatchObject({
      received: 5,
      decoded: 3,
      rejected: 2,
      handlerErrors: 1,
      connected: false,
    });
    expect(errors.map((e) => e.message)).toEqual(['display broke']);
    expect(calls).toBe(3);
    expect(state.terminal(FLEET, TERMINAL)).toMatchObject({ status: 'anomalous', sequence: { lastSeq: 2 } });
    expect(alerts).toHaveLength(1);
  });

  it('passes the retained flag through: a retained State sets no sequence', () => {
    const { state, consumer } = setup();
    consumer.handle(topic('state'), encode.state({ seq: 9 }, false, 'connection lost'), { retain: true });
    expect(state.terminal(FLEET, TERMINAL)).toMatchObject({ status: 'offline', sequence: { lastSeq: null } });
  });

  it('encodes commands the terminal can decode', () => {
    const cmd = wire.Command.decode(
      encodeCommand({ commandId: 'id-1', name: 'run-self-test', issuedAtMs: T0, issuedBy: 'ops@hq' }),
    );
    expect(cmd.name).toBe(wire.CommandName.COMMAND_NAME_RUN_SELF_TEST);
    expect([cmd.commandId, cmd.issuedBy, Number(cmd.issuedAtMs)]).toEqual(['id-1', 'ops@hq', T0]);
  });
});

describe('rendering', () => {
  it('draws the watch table and cuts it to the terminal width', async () => {
    const { clock, state, consumer } = setup();
    consumer.handle(
      topic('health'),
      encode.health(
        { seq: 1 },
        {
          state: wire.OperationState.OPERATION_STATE_LOCKED,
          lockReasons: ['card-testing'],
          pendingReversals: 1,
          storeAndForward: { depth: 2, totalMinor: 10, oldestAgeMs: 7_200_000 },
        },
      ),
    );
    consumer.handle(
      topic('event', 'T2'),
      encode.event({ seq: 1, terminalId: 'T2' }, { code: 'E311', severity: wire.Severity.SEVERITY_WARNING }),
    );
    consumer.handle(
      topic('event', 'T2'),
      encode.event({ seq: 4, terminalId: 'T2' }, { code: 'E311', severity: wire.Severity.SEVERITY_WARNING }),
    );
    await clock.advance(30_000);
    const text = renderWatch({
      at: clock.now(),
      title: 'pos-fleet watch',
      info: ['messages 4'],
      terminals: state.terminals(),
      recentAlerts: [],
    });
    const rows = text.split('\n');
    expect(rows[0]).toBe('pos-fleet watch   2026-01-01T12:00:30.000Z');
    expect(rows[2]).toBe('2 terminals: 1 anomalous, 1 locked');
    expect(rows[5]).toMatch(
      /^shop-paris-01\/T2\s+ANOMALOUS\s+30s ago\s+-\s+-\s+-\s+-\s+E311x2\s+1 \(2 lost\)\s+0\s+E311$/,
    );
    expect(rows[6]).toMatch(
      /^shop-paris-01\/TERM0042\s+LOCKED\s+30s ago\s+locked\s+1\s+2\/2h\s+host up 42ms\s+-\s+0\s+0\s+card-testing$/,
    );
    const narrow = renderWatch({
      at: clock.now(),
      title: 't',
      info: [],
      terminals: state.terminals(),
      recentAlerts: [],
      width: 40,
    });
    expect(Math.max(...narrow.split('\n').map((l) => l.length))).toBeLessThanOrEqual(40);
  });

  it('summarizes messages on one line and writes ages compactly', () => {
    const m = decodeTelemetry(topic('state'), encode.state({ seq: 0 }, false, 'connection lost'));
    expect(summarize(m)).toBe('shop-paris-01/TERM0042 state boot=boot-a seq=0 offline (connection lost)');
    expect([age(5_000), age(150_000), age(3 * 3_600_000), age(3 * 86_400_000)]).toEqual(['5s', '3m', '3h', '3d']);
  });
});
