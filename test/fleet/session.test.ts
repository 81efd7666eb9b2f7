/**
 * pos-fleet's persistent session against a real mosquitto: what terminals publish while the consumer is away is
 * delivered when it comes back with the same client id; its presence is retained with a will; historical Health and
 * a Birth sent ahead of the backlog are read as the contract says.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../hal/clock.js';
import { FleetConsumer } from '../../src/fleet/consumer.js';
import { decodeTelemetry, type TelemetryMessage, type TerminalMessage } from '../../src/fleet/decode.js';
import { FleetState } from '../../src/fleet/state.js';
import { fleetPresenceTopic, wire } from '../../src/telemetry/wire.js';
import {
  encode,
  FLEET,
  fakeTerminal,
  rawClient,
  startMosquitto,
  T0,
  TERMINAL,
  topic,
  until,
  type TestBroker,
} from './support.js';

let mosquitto: TestBroker;
beforeAll(async () => {
  mosquitto = await startMosquitto();
});
afterAll(async () => {
  await mosquitto?.stop();
});

function consumerWith(clientId: string, messages: TelemetryMessage[]): FleetConsumer {
  return new FleetConsumer({
    url: mosquitto.url,
    clientId,
    fleet: FLEET,
    protocolVersion: 5,
    sessionExpirySeconds: 300,
    state: new FleetState({ clock: new ManualClock(T0) }),
    onMessage: (m) => messages.push(m),
  });
}

describe('the consumer session', () => {
  it('gets the 7 events a terminal published while it was stopped, in order, when it restarts with the same id', async () => {
    const clientId = `fleet-session-${process.pid}`;
    const first: TelemetryMessage[] = [];
    const a = consumerWith(clientId, first);
    await a.start();
    await a.stop();

    const t = await fakeTerminal(mosquitto.url, { terminalId: 'TERM-BACKLOG' });
    for (let seq = 1; seq <= 7; seq++)
      await t.publish('event', encode.event({ seq, terminalId: 'TERM-BACKLOG' }, { stan: seq }));
    await t.end();

    const again: TelemetryMessage[] = [];
    const b = consumerWith(clientId, again);
    await b.start();
    try {
      await until(() => again.filter((m) => m.type === 'event').length === 7, 'the 7 events of the backlog');
      const events = again.filter((m) => m.type === 'event');
      expect(events.map((m) => m.header.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(events.map((m) => (m.type === 'event' ? m.stan : 0))).toEqual([1, 2, 3, 4, 5, 6, 7]);
    } finally {
      await b.stop();
    }
  });

  it('with a new client id (as before: a clean, random session) the same backlog is not there', async () => {
    const t = await fakeTerminal(mosquitto.url, { terminalId: 'TERM-LOST' });
    await t.publish('event', encode.event({ seq: 1, terminalId: 'TERM-LOST' }));
    await t.end();
    const seen: TelemetryMessage[] = [];
    const c = consumerWith(`fleet-other-${process.pid}`, seen);
    await c.start();
    await c.stop();
    expect(seen.filter((m) => m.type === 'event' && m.terminalId === 'TERM-LOST')).toEqual([]);
  });

  it('publishes its presence retained: online while it runs, offline on stop and as its will when it vanishes', async () => {
    const clientId = `fleet-presence-${process.pid}`;
    const c = consumerWith(clientId, []);
    await c.start();
    expect(c.presenceTopic).toBe(fleetPresenceTopic(FLEET, clientId));
    const presence = async () => {
      const raw = await rawClient(mosquitto.url);
      const got: Buffer[] = [];
      raw.on('message', (_t, p) => got.push(p));
      await raw.subscribeAsync(c.presenceTopic!, { qos: 1 });
      await until(() => got.length === 1, 'retained presence');
      await raw.endAsync();
      return wire.FleetConsumerState.decode(got[0]!);
    };
    expect(await presence()).toMatchObject({ online: true, clientId });
    await c.stop();
    expect(await presence()).toMatchObject({ online: false, clientId });

    const v = consumerWith(clientId, []);
    await v.start();
    expect((await presence()).online).toBe(true);
    // A crash: the broker publishes the will.
    (v as unknown as { client: { stream: { destroy(): void } } }).client.stream.destroy();
    let online = true;
    for (let i = 0; i < 100 && online; i++) online = (await presence()).online === true;
    expect(online).toBe(false);
    await v.stop();
  });
});

describe('history and order in the fleet record', () => {
  const feed = (state: FleetState, type: string, payload: Uint8Array) =>
    state.ingest(decodeTelemetry(topic(type), payload) as TerminalMessage);

  it('historical Health never overrides a newer one, and stands in only while nothing newer is known', () => {
    const state = new FleetState({ clock: new ManualClock(T0) });
    const locked = { state: wire.OperationState.OPERATION_STATE_LOCKED, lockReasons: ['tamper'] };
    // Backlog first: only history is known, marked so.
    feed(state, 'health', encode.health({ seq: 1, sentAtMs: T0 - 60_000 }, { ...locked, historical: true }));
    expect(state.terminal(FLEET, TERMINAL)?.health).toMatchObject({ state: 'locked', historical: true });
    // The live Health of the connection.
    feed(state, 'health', encode.health({ seq: 2, sentAtMs: T0 }));
    expect(state.terminal(FLEET, TERMINAL)?.health).toMatchObject({ state: 'ready', historical: false, seq: 2 });
    // More backlog after it (a later seq, as a consumer's own queued session delivers it): history, not the state.
    feed(state, 'health', encode.health({ seq: 3, sentAtMs: T0 - 30_000 }, { ...locked, historical: true }));
    expect(state.terminal(FLEET, TERMINAL)?.health).toMatchObject({ state: 'ready', seq: 2 });
    // Unmarked but made before the Health held (a lower seq of the same boot, delivered late): the same.
    feed(state, 'health', encode.health({ seq: 1, sentAtMs: T0 + 500 }, locked));
    expect(state.terminal(FLEET, TERMINAL)?.health).toMatchObject({ state: 'ready', seq: 2 });
    // A newer live one replaces it.
    feed(state, 'health', encode.health({ seq: 5, sentAtMs: T0 + 1_000 }, locked));
    expect(state.terminal(FLEET, TERMINAL)?.health).toMatchObject({ state: 'locked', seq: 5 });
    // The terminal's clock set back (an NTP step) within the boot: the later seq is still the newer Health.
    feed(state, 'health', encode.health({ seq: 6, sentAtMs: T0 - 120_000 }));
    expect(state.terminal(FLEET, TERMINAL)?.health).toMatchObject({ state: 'ready', seq: 6, historical: false });
    // Across boots only the terminal's clock can tell: a Health of another boot made earlier is history.
    feed(state, 'health', encode.health({ seq: 9, bootId: 'boot-old', sentAtMs: T0 - 600_000 }, locked));
    expect(state.terminal(FLEET, TERMINAL)?.health).toMatchObject({ state: 'ready', seq: 6 });
  });

  it('a Birth sent ahead of the backlog is no gap, and the backlog below it is applied', () => {
    const state = new FleetState({ clock: new ManualClock(T0) });
    expect(feed(state, 'event', encode.event({ seq: 1 })).disposition).toBe('first');
    expect(feed(state, 'event', encode.event({ seq: 2 })).disposition).toBe('in-order');
    // Reconnect: Birth (seq 6) first, then the backlog 3..5, then State and Health.
    expect(feed(state, 'birth', encode.birth({ seq: 6 }, { session: 2 })).disposition).toBe('ahead');
    for (const seq of [3, 4, 5]) expect(feed(state, 'event', encode.event({ seq })).disposition).toBe('in-order');
    expect(feed(state, 'state', encode.state({ seq: 7 }, true, 'connected', 2)).disposition).toBe('in-order');
    expect(state.terminal(FLEET, TERMINAL)?.sequence).toMatchObject({ gaps: 0, missing: 0, duplicates: 0 });
    // A new boot whose Birth precedes its boot event.
    expect(feed(state, 'birth', encode.birth({ seq: 2, bootId: 'boot-b' })).disposition).toBe('restart');
    expect(feed(state, 'event', encode.event({ seq: 1, bootId: 'boot-b' })).applied).toBe(true);
    expect(feed(state, 'health', encode.health({ seq: 3, bootId: 'boot-b' })).disposition).toBe('in-order');
    expect(state.terminal(FLEET, TERMINAL)?.sequence).toMatchObject({ gaps: 0, missing: 0 });
  });
});
