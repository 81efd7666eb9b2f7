/**
 * The consumer against real brokers: a mosquitto started for this file and an in-process aedes. Terminals are
 * stand-ins publishing protobuf encoded with the generated classes, with the retained-State last will a terminal sets.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../hal/clock.js';
import { CommandTimeoutError, FleetConsumer, sendCommand, type ConsumerOptions } from '../../src/fleet/consumer.js';
import type { TelemetryDecodeError, TelemetryMessage } from '../../src/fleet/decode.js';
import { FleetState } from '../../src/fleet/state.js';
import { wire } from '../../src/telemetry/wire.js';
import {
  encode,
  FLEET,
  fakeTerminal,
  rawClient,
  startAedes,
  startMosquitto,
  TERMINAL,
  topic,
  until,
  type FakeTerminal,
  type TestBroker,
} from './support.js';

const brokers: Record<'mosquitto' | 'aedes', TestBroker | undefined> = { mosquitto: undefined, aedes: undefined };
const consumers: FleetConsumer[] = [];
const terminals: { url: string; terminalId: string; t: FakeTerminal }[] = [];

beforeAll(async () => {
  brokers.mosquitto = await startMosquitto();
  brokers.aedes = await startAedes();
});

/** Stops everything a test started, then removes the retained States (and wills) it left, so the next starts clean. */
afterEach(async () => {
  for (const c of consumers.splice(0)) await c.stop();
  const ended = terminals.splice(0);
  for (const { t } of ended) await t.end();
  for (const { url, terminalId } of ended) await clearRetained(url, terminalId);
});

afterAll(async () => {
  await brokers.mosquitto?.stop();
  await brokers.aedes?.stop();
});

function broker(name: keyof typeof brokers): TestBroker {
  const b = brokers[name];
  if (!b) throw new Error(`${name} did not start`);
  return b;
}

interface Started {
  consumer: FleetConsumer;
  state: FleetState;
  messages: TelemetryMessage[];
  rejects: TelemetryDecodeError[];
}

let consumerCount = 0;

async function consume(url: string, opts: Partial<ConsumerOptions> = {}): Promise<Started> {
  const state = new FleetState({
    clock: {
      now: () => Date.now(),
      setTimeout: (fn, ms) => {
        const t = setTimeout(fn, ms);
        return { cancel: () => clearTimeout(t) };
      },
    },
    trackSequence: opts.share === undefined,
  });
  const messages: TelemetryMessage[] = [];
  const rejects: TelemetryDecodeError[] = [];
  const consumer = new FleetConsumer({
    url,
    // Sessions are persistent: each consumer of these tests gets its own, so none inherits another's backlog.
    clientId: `fleet-test-${process.pid}-${++consumerCount}`,
    state,
    onMessage: (m) => messages.push(m),
    onReject: (e) => rejects.push(e),
    ...opts,
  });
  consumers.push(consumer);
  await consumer.start();
  return { consumer, state, messages, rejects };
}

async function terminal(url: string, opts: Parameters<typeof fakeTerminal>[1] = {}): Promise<FakeTerminal> {
  const t = await fakeTerminal(url, opts);
  terminals.push({ url, terminalId: opts.terminalId ?? TERMINAL, t });
  return t;
}

async function clearRetained(url: string, terminalId = TERMINAL): Promise<void> {
  const c = await rawClient(url);
  await c.publishAsync(topic('state', terminalId), Buffer.alloc(0), { qos: 1, retain: true });
  await c.endAsync();
}

describe.each(['mosquitto', 'aedes'] as const)('through %s', (name) => {
  it('decodes every message a terminal publishes and keeps going past garbage', async () => {
    const { url } = broker(name);
    const { consumer, state, messages, rejects } = await consume(url);
    const t = await terminal(url);
    await t.publish('state', encode.state({ seq: 1 }, true, 'connected'), { retain: true });
    await t.publish('birth', encode.birth({ seq: 2 }));
    await t.publish(
      'health',
      encode.health(
        { seq: 3 },
        { pendingReversals: 1, storeAndForward: { depth: 2, totalMinor: 900, oldestAgeMs: 60_000 } },
      ),
    );
    await t.publish('event', Buffer.from('definitely not protobuf'));
    await t.publish('health', encode.health({ seq: 4, terminalId: 'SOMEONE-ELSE' }));
    await t.publish('event', encode.event({ seq: 5 }));
    await t.publish(
      'cmd-result',
      encode.commandResult({ seq: 6 }, 'c-1', wire.CommandName.COMMAND_NAME_SEND_HEALTH, true),
    );
    await until(() => messages.length === 5 && rejects.length === 2, 'five messages and two rejects');

    expect(messages.map((m) => m.type)).toEqual(['state', 'birth', 'health', 'event', 'cmd-result']);
    expect(rejects.map((e) => e.code).sort()).toEqual(['bad-payload', 'header-mismatch']);
    expect(consumer.stats()).toMatchObject({ received: 7, decoded: 5, rejected: 2, connected: true });
    const v = state.terminal(FLEET, TERMINAL);
    expect(v).toMatchObject({
      status: 'anomalous',
      connection: 'online',
      health: { pendingReversals: 1, storeAndForward: { depth: 2 } },
      sequence: { lastSeq: 6, gaps: 1, missing: 1 },
    });
  });

  it('shows a vanished terminal offline through its last will, live and to a consumer that starts later', async () => {
    const { url } = broker(name);
    const live = await consume(url);
    const t = await terminal(url);
    await t.publish('state', encode.state({ seq: 1 }, true, 'connected'), { retain: true });
    await t.publish('health', encode.health({ seq: 2 }));
    await until(
      () => live.state.terminal(FLEET, TERMINAL)?.health !== null && live.messages.length === 2,
      'online and healthy',
    );
    expect(live.state.terminal(FLEET, TERMINAL)?.status).toBe('healthy');

    t.vanish();
    await until(() => live.state.terminal(FLEET, TERMINAL)?.connection === 'offline', 'will delivered');
    expect(live.state.terminal(FLEET, TERMINAL)).toMatchObject({ status: 'offline', offlineReason: 'connection lost' });

    // The will is retained: a consumer that starts now learns it from the broker's store.
    const later = await consume(url);
    await until(() => later.messages.length === 1, 'retained state');
    expect(later.messages[0]).toMatchObject({ type: 'state', online: false, header: { seq: 0 } });
    expect(later.state.terminal(FLEET, TERMINAL)).toMatchObject({ status: 'offline', connection: 'offline' });
  });

  it('sends a command and returns the matching result', async () => {
    const { url } = broker(name);
    const t = await terminal(url);
    const seen: string[] = [];
    await t.client.subscribeAsync(topic('cmd'), { qos: 1 });
    t.client.on('message', (_topic, payload) => {
      const cmd = wire.Command.decode(payload);
      seen.push(`${cmd.name} by ${cmd.issuedBy}`);
      // A result for another command first: it must be skipped.
      void t
        .publish('cmd-result', encode.commandResult({ seq: 1 }, 'someone-else', cmd.name, true))
        .then(() =>
          t.publish(
            'cmd-result',
            encode.commandResult(
              { seq: 2 },
              cmd.commandId,
              cmd.name,
              false,
              wire.CommandError.COMMAND_ERROR_NOT_ALLOWED,
              'remote unlock is disabled',
            ),
          ),
        );
    });
    const result = await sendCommand({
      url,
      fleet: FLEET,
      terminalId: TERMINAL,
      name: 'unlock',
      issuedBy: 'ops@hq',
      commandId: 'cmd-7',
    });
    expect(seen).toEqual([`${wire.CommandName.COMMAND_NAME_UNLOCK} by ops@hq`]);
    expect(result).toMatchObject({
      type: 'cmd-result',
      commandId: 'cmd-7',
      name: 'unlock',
      ok: false,
      error: 'not-allowed',
      message: 'remote unlock is disabled',
    });
  });
});

describe('shared subscriptions on mosquitto', () => {
  it('two consumers in one --share group split the messages: each gets some, together all, exactly once', async () => {
    const { url } = broker('mosquitto');
    const a = await consume(url, { share: 'fleet-ops' });
    const b = await consume(url, { share: 'fleet-ops' });
    expect(a.consumer.filter).toBe('$share/fleet-ops/pos/v1/+/+/+');
    const ts = await Promise.all(['T1', 'T2', 'T3'].map((id) => terminal(url, { terminalId: id })));
    const sent: string[] = [];
    for (let seq = 1; seq <= 20; seq++) {
      for (const [i, t] of ts.entries()) {
        const terminalId = `T${i + 1}`;
        await t.publish('health', encode.health({ seq, terminalId }));
        sent.push(`${terminalId}#${seq}`);
      }
    }
    const ids = (s: Started) => s.messages.map((m) => `${m.terminalId}#${'header' in m ? m.header.seq : '?'}`);
    await until(() => a.messages.length + b.messages.length >= sent.length, 'all messages across the group');
    // Nothing more is on its way: a further marker arrives once, after everything else.
    await ts[0]!.publish('event', encode.event({ seq: 21, terminalId: 'T1' }));
    await until(() => a.messages.length + b.messages.length === sent.length + 1, 'the marker');
    const together = [...ids(a), ...ids(b)].filter((id) => id !== 'T1#21');
    expect(a.messages.length).toBeGreaterThan(0);
    expect(b.messages.length).toBeGreaterThan(0);
    expect(new Set(together).size).toBe(together.length);
    expect(together.sort()).toEqual([...sent].sort());
    // A share sees only part of each terminal's sequence: nothing is reported as a gap.
    expect(a.state.terminals().every((v) => v.sequence.gaps === 0)).toBe(true);
  });
});

describe('commands without an answer', () => {
  it('time out on the injected clock', async () => {
    const { url } = broker('aedes');
    const t = await terminal(url);
    let received = 0;
    await t.client.subscribeAsync(topic('cmd'), { qos: 1 });
    t.client.on('message', () => received++);
    const clock = new ManualClock();
    const pending = sendCommand({
      url,
      fleet: FLEET,
      terminalId: TERMINAL,
      name: 'rebirth',
      clock,
      timeoutMs: 30_000,
    }).catch((e: unknown) => e);
    await until(() => received === 1, 'command delivered');
    await clock.advance(29_999);
    await clock.advance(1);
    const err = await pending;
    expect(err).toBeInstanceOf(CommandTimeoutError);
    expect((err as Error).message).toMatch(/no result from shop-paris-01\/TERM0042 for rebirth .* within 30 s/);
  });
});
