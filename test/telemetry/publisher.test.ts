/**
 * The publisher against a real Mosquitto and against the embedded aedes broker: birth and retained state on
 * connect, Health on the interval and on change, events at QoS 1 in order, a broker restart in the middle of a
 * stream (everything queued on disk arrives once, in seq order), the outbox bound, and fleet commands.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { wire } from '../../src/telemetry/wire.js';
import {
  Consumer,
  gapReport,
  makeRig,
  signedCommand,
  startTestBroker,
  TERMINAL_ID,
  topicFilter,
  type Rig,
  type TestBroker,
} from './harness.js';
import { until } from '../support/wait.js';

const VISA = '4111111111111111';

describe.each(['mosquitto', 'aedes'] as const)('publisher through %s', (brokerKind) => {
  let broker: TestBroker;
  const rigs: Rig[] = [];
  const consumers: Consumer[] = [];

  beforeAll(async () => {
    broker = await startTestBroker(brokerKind);
  });
  afterAll(async () => {
    await broker.close();
  });
  afterEach(async () => {
    for (const c of consumers.splice(0)) await c.close();
    for (const r of rigs.splice(0)) await r.close();
    // A test that stopped the broker leaves it running for the next one.
    await broker.start();
  });

  async function setup(overrides: Parameters<typeof makeRig>[1] = {}) {
    const rig = makeRig(broker.url, overrides);
    rigs.push(rig);
    const consumer = await Consumer.connect(broker.url, topicFilter(rig));
    consumers.push(consumer);
    rig.publisher.start();
    await until(
      () => consumer.of('health').length >= 1 && rig.journal.outbox.stats().depth === 0,
      'first health acknowledged',
    );
    return { rig, consumer };
  }

  function events(consumer: Consumer, kind?: string) {
    return consumer.of('event').filter((r) => kind === undefined || r.message['kind'] === kind);
  }

  it('publishes Birth, then State online (retained) and Health on connect, every message with the header', async () => {
    const { rig, consumer } = await setup();
    const kinds = consumer.received.filter((r) => !r.retained).map((r) => r.kind);
    // Birth is the first message of the connection, ahead of the boot event made before it; the rest follow seq order.
    expect(kinds.slice(0, 4)).toEqual(['birth', 'event', 'state', 'health']);
    const birth = consumer.of('birth')[0]!.message;
    expect(birth).toMatchObject({
      firmwareVersion: '0.1.0',
      configVersion: 'abc123',
      capabilities: ['chip', 'printer'],
      model: 'test-board',
      bootReason: 'BOOT_REASON_CLEAN',
      session: 1,
      healthIntervalMs: 60_000,
    });
    expect(birth.header).toMatchObject({
      terminalId: TERMINAL_ID,
      fleet: rig.fleet,
      bootId: rig.publisher.bootId,
      seq: 2,
    });
    expect(consumer.of('state')[0]!.message).toMatchObject({ online: true, reason: 'connected', session: 1 });
    for (const r of consumer.received) expect(r.qos).toBe(1);

    // A consumer arriving later still learns the terminal is online: the state is retained.
    const late = await Consumer.connect(broker.url, topicFilter(rig));
    consumers.push(late);
    await until(() => late.of('state').length > 0, 'retained state');
    expect(late.of('state')[0]).toMatchObject({ retained: true, message: { online: true } });
    expect(late.of('birth')).toEqual([]);
  });

  it('publishes Health on the interval (simulated clock) with the terminal facts', async () => {
    const { rig, consumer } = await setup();
    const before = consumer.of('health').length;
    await rig.clock.advance(59_999);
    expect(consumer.of('health').length).toBe(before);
    await rig.clock.advance(1);
    await until(() => consumer.of('health').length === before + 1, 'interval health');
    await rig.clock.advance(60_000);
    await until(() => consumer.of('health').length === before + 2, 'second interval health');
    const health = consumer.of('health').at(-1)!.message;
    expect(health).toMatchObject({
      state: 'OPERATION_STATE_READY',
      pendingReversals: 2,
      storeAndForward: { depth: 3, totalMinor: 4500, oldestAgeMs: 60_000 },
      link: { hostUp: true, networkUp: true },
      telemetryDropped: 0,
      eventsDropped: 0,
    });
    expect(
      (health['components'] as Array<{ component: string; status: string }>).map((c) => `${c.component}:${c.status}`),
    ).toEqual([
      'card-reader:CHECK_STATUS_OK',
      'printer:CHECK_STATUS_OK',
      'host:CHECK_STATUS_OK',
      'storage:CHECK_STATUS_OK',
      'clock:CHECK_STATUS_OK',
    ]);
    const resources = health['resources'] as { rssBytes: number; heapUsedBytes: number; uptimeS: number };
    expect(resources.rssBytes).toBeGreaterThan(0);
    expect(resources.heapUsedBytes).toBeGreaterThan(0);
    expect(resources.uptimeS).toBe(120);
  });

  it('publishes Health on every state change and component change, and lock/unlock lifecycle events', async () => {
    const { rig, consumer } = await setup();
    const healthStates = () => consumer.of('health').map((r) => r.message['state']);
    rig.terminal.setState('locked', ['card reader: not-connected']);
    // Change-driven Health is coalesced on the Clock (2 s apart at most once, see the coalescing test).
    await rig.clock.advance(2_000);
    await until(() => healthStates().includes('OPERATION_STATE_LOCKED'), 'locked health');
    const locked = consumer.of('health').at(-1)!.message;
    expect(locked['lockReasons']).toEqual(['card reader: not-connected']);
    await until(() => events(consumer, 'lifecycle').some((e) => e.message['code'] === 'lock'), 'lock event');

    rig.terminal.setState('selfTesting');
    rig.terminal.setState('ready');
    await rig.clock.advance(2_000);
    await until(() => events(consumer, 'lifecycle').some((e) => e.message['code'] === 'unlock'), 'unlock event');
    await until(() => healthStates().at(-1) === 'OPERATION_STATE_READY', 'ready health');

    // A self-test with the same verdicts is not news; one where the printer changed is.
    const count = consumer.of('health').length;
    rig.terminal.finishSelfTest(rig.terminal.report('ok'));
    rig.terminal.finishSelfTest(rig.terminal.report('warn'));
    await rig.clock.advance(2_000);
    await until(() => consumer.of('health').length === count + 1, 'component change health');
    const printer = (
      consumer.of('health').at(-1)!.message['components'] as Array<{ component: string; status: string; code: string }>
    ).find((c) => c.component === 'printer');
    expect(printer).toMatchObject({ status: 'CHECK_STATUS_WARN', code: 'paper-out' });
  });

  it('publishes every anomaly as an event at QoS 1, in order, with masked card data only', async () => {
    const { rig, consumer } = await setup();
    for (let i = 1; i <= 25; i++) {
      rig.anomalies.raise(
        'declined',
        {
          reason: `issuer said no #${i}`,
          stan: i,
          amount: 100 * i,
          currency: '978',
          maskedPan: '411111******1111',
          txnRef: `T${i}`,
        },
        { show: false },
      );
    }
    await until(() => events(consumer, 'anomaly').length === 25, '25 anomaly events');
    const got = events(consumer, 'anomaly');
    expect(got.map((e) => e.message['stan'])).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(got.every((e) => e.qos === 1)).toBe(true);
    const seqs = got.map((e) => e.message.header!.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(got[0]!.message).toMatchObject({
      kind: 'anomaly',
      code: 'E201',
      name: 'declined',
      severity: 'SEVERITY_INFO',
      amountMinor: 100,
      currency: '978',
      maskedPan: '411111******1111',
      txnRef: 'T1',
    });
    expect(got[0]!.message['message']).toMatch(/issuer said no #1$/);
    expect(got[0]!.message['atMs']).toBe(rig.clock.now());
    expect(rig.journal.outbox.stats().depth).toBe(0);

    // Card data handed over by mistake (a full PAN as the masked one, a PAN and track 2 in the reason) never leaves.
    rig.anomalies.raise(
      'suspected-fraud-luhn',
      { reason: `card ${VISA} track ;${VISA}=29121010000000000000?`, maskedPan: VISA, stan: 77 },
      { show: false },
    );
    rig.terminal.lockReasons = [`bad card ${VISA}`];
    rig.publisher.publishHealth();
    await until(() => events(consumer, 'anomaly').some((e) => e.message['stan'] === 77), 'fraud event');
    await until(
      () => consumer.of('health').some((h) => (h.message['lockReasons'] as string[]).length > 0),
      'health with a lock reason',
    );
    const fraud = events(consumer, 'anomaly').find((e) => e.message['stan'] === 77)!.message;
    expect(fraud['maskedPan']).toBe('411111******1111');
    expect(fraud['message']).not.toContain(VISA);
    for (const r of consumer.received) {
      expect(r.payload.toString('latin1')).not.toContain(VISA);
      expect(r.payload.toString('latin1')).not.toMatch(/41111111111/);
    }
  });

  it('queues on disk while the broker is down and delivers everything once, in seq order, after it restarts', async () => {
    const { rig, consumer } = await setup();
    for (let i = 1; i <= 5; i++)
      rig.anomalies.raise('host-timeout', { reason: `before ${i}`, stan: i }, { show: false });
    await until(
      () => events(consumer, 'anomaly').length === 5 && rig.journal.outbox.stats().depth === 0,
      'events before the outage',
    );

    await broker.stop();
    await until(() => !rig.publisher.connected, 'publisher sees the broker gone');
    // Meanwhile: sales go on (the fake terminal changes state), anomalies and health keep coming.
    for (let i = 6; i <= 30; i++) {
      rig.anomalies.raise('host-timeout', { reason: `during ${i}`, stan: i }, { show: false });
      if (i % 5 === 0) await rig.clock.advance(60_000);
    }
    rig.terminal.setState('transacting');
    rig.terminal.setState('ready');
    await Promise.resolve();
    const queued = rig.journal.outbox.stats();
    expect(queued.depth).toBeGreaterThanOrEqual(25 + 5);
    expect(rig.publisher.connected).toBe(false);

    await broker.start();
    // The consumer is back and subscribed before the terminal reconnects, so it sees the whole backlog.
    await until(() => consumer.subscriptions >= 2, 'consumer resubscribed');
    await rig.clock.advance(1_000);
    await until(() => rig.publisher.connected, 'publisher reconnected');
    await until(
      () => events(consumer, 'anomaly').length >= 30 && rig.journal.outbox.stats().depth === 0,
      'backlog delivered',
    );

    const anomalies = events(consumer, 'anomaly');
    expect(anomalies.map((e) => e.message['stan'])).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    const gaps = gapReport(consumer.received, rig.publisher.bootId);
    expect(gaps).toMatchObject({ missing: [], duplicates: 0, increasing: true, reportedDropped: 0 });
    // Health made during the outage kept its place (and its time) in the sequence.
    const outageHealth = consumer
      .of('health')
      .filter((h) => h.message.header!.sentAtMs > consumer.of('health')[0]!.message.header!.sentAtMs);
    expect(outageHealth.length).toBeGreaterThanOrEqual(5);
    // The reconnect is a new session: a new Birth and State online after the backlog.
    const births = consumer.of('birth');
    expect(births.at(-1)!.message['session']).toBeGreaterThan(1);
    const lastBirthSeq = births.at(-1)!.message.header!.seq;
    expect(anomalies.every((e) => e.message.header!.seq < lastBirthSeq)).toBe(true);
    expect(consumer.of('state').at(-1)!.message).toMatchObject({ online: true });
  });

  it('bounds the outbox: old health is dropped first, counted, journaled once per outage; events are kept', async () => {
    const { rig, consumer } = await setup({ outboxMaxMessages: 20 });
    await broker.stop();
    await until(() => !rig.publisher.connected, 'publisher sees the broker gone');
    for (let i = 1; i <= 10; i++) rig.anomalies.raise('link-lost', { reason: `outage ${i}`, stan: i }, { show: false });
    for (let i = 0; i < 30; i++) rig.publisher.publishHealth();
    const stats = rig.journal.outbox.stats();
    expect(stats.depth).toBe(20);
    // 10 events, the drop anomaly's own event, and the newest health messages that still fit.
    expect(stats.health).toBe(20 - 11);
    const dropAnomalies = rig.journal.anomalies.list().filter((a) => /telemetry outbox full/.test(a.message));
    expect(dropAnomalies).toHaveLength(1);
    expect(rig.publisher.stats().dropped).toEqual({ health: 21, other: 0 });

    await broker.start();
    await until(() => consumer.subscriptions >= 2, 'consumer resubscribed');
    await rig.clock.advance(1_000);
    await until(() => rig.publisher.connected && rig.journal.outbox.stats().depth === 0, 'outbox drained');
    // Birth, State and Health of the reconnect joined a full outbox, so a little more old health may have gone.
    const dropped = rig.publisher.stats().dropped;
    expect(dropped.health).toBeGreaterThanOrEqual(21);
    expect(dropped.other).toBe(0);
    rig.publisher.publishHealth();
    await until(
      () => consumer.of('health').at(-1)!.message['telemetryDropped'] === dropped.health,
      'health after the drain',
    );
    expect(
      events(consumer, 'anomaly')
        .filter((e) => e.message['code'] === 'E103')
        .map((e) => e.message['stan']),
    ).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    // Still one anomaly for the whole outage.
    expect(rig.journal.anomalies.list().filter((a) => /telemetry outbox full/.test(a.message))).toHaveLength(1);
    const gaps = gapReport(consumer.received, rig.publisher.bootId);
    // The consumer sees exactly the dropped health as gaps, and the terminal told it how many.
    expect(gaps.missing).toHaveLength(dropped.health);
    expect(gaps.reportedDropped).toBe(dropped.health);
    expect(gaps.increasing).toBe(true);
    expect(gaps.duplicates).toBe(0);
    const missing = new Set(gaps.missing);
    expect(events(consumer).some((e) => missing.has(e.message.header!.seq))).toBe(false);
  });

  it('drops other messages only when no health but the newest is left', async () => {
    const { rig } = await setup({ outboxMaxMessages: 10 });
    await broker.stop();
    await until(() => !rig.publisher.connected, 'publisher sees the broker gone');
    rig.publisher.publishHealth();
    for (let i = 1; i <= 15; i++) rig.anomalies.raise('link-lost', { reason: `outage ${i}`, stan: i }, { show: false });
    const rows = rig.journal.outbox.peek(0, 100);
    expect(rows).toHaveLength(10);
    expect(rows.filter((r) => r.kind === 'health')).toHaveLength(1);
    expect(rig.publisher.stats().dropped.other).toBeGreaterThan(0);
    // What is left is the newest: seq order still holds.
    const seqs = rows.map((r) => r.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  });

  it('answers allowed commands and refuses the others with typed errors, journaling each bad one', async () => {
    const { rig, consumer } = await setup();
    const cmdTopic = `pos/v1/${rig.fleet}/${TERMINAL_ID}/cmd`;
    const send = (props: { commandId: string; name?: number; issuedBy?: string }) =>
      consumer.publish(cmdTopic, signedCommand(rig, props));
    const result = async (id: string) => {
      await until(() => consumer.of('cmd-result').some((r) => r.message['commandId'] === id), `result of ${id}`);
      return consumer.of('cmd-result').find((r) => r.message['commandId'] === id)!.message;
    };

    const healthBefore = consumer.of('health').length;
    await send({ commandId: 'c1', name: wire.CommandName.COMMAND_NAME_SEND_HEALTH, issuedBy: 'ops' });
    expect(await result('c1')).toMatchObject({
      ok: true,
      error: 'COMMAND_ERROR_NONE',
      name: 'COMMAND_NAME_SEND_HEALTH',
    });
    expect(consumer.of('health').length).toBeGreaterThan(healthBefore);

    await send({ commandId: 'c2', name: wire.CommandName.COMMAND_NAME_REBIRTH });
    expect(await result('c2')).toMatchObject({ ok: true });
    expect(consumer.of('birth').length).toBe(2);

    await send({ commandId: 'c3', name: wire.CommandName.COMMAND_NAME_RUN_SELF_TEST });
    expect(await result('c3')).toMatchObject({
      ok: true,
      message: expect.stringMatching(/self-test done.*printer ok/),
    });
    expect(rig.terminal.selfTests).toBe(1);

    rig.terminal.state = 'transacting';
    await send({ commandId: 'c4', name: wire.CommandName.COMMAND_NAME_RUN_SELF_TEST });
    expect(await result('c4')).toMatchObject({ ok: false, error: 'COMMAND_ERROR_BUSY' });
    expect(rig.terminal.selfTests).toBe(1);
    rig.terminal.state = 'locked';

    await send({ commandId: 'c5', name: wire.CommandName.COMMAND_NAME_UNLOCK, issuedBy: 'mallory' });
    expect(await result('c5')).toMatchObject({ ok: false, error: 'COMMAND_ERROR_NOT_ALLOWED' });
    expect(rig.terminal.unlocks).toBe(0);

    await consumer.publish(cmdTopic, Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]));
    await consumer.publish(cmdTopic, Buffer.alloc(5000, 0x41));
    await send({ commandId: 'c6' });
    await until(() => consumer.of('cmd-result').length === 8, 'all results');
    const errors = consumer.of('cmd-result').map((r) => r.message['error']);
    expect(errors.slice(5)).toEqual(['COMMAND_ERROR_MALFORMED', 'COMMAND_ERROR_TOO_LARGE', 'COMMAND_ERROR_MALFORMED']);

    const journaled = rig.journal.anomalies.list().map((a) => a.code);
    expect(journaled.filter((c) => c === 'E510')).toHaveLength(1);
    expect(journaled.filter((c) => c === 'E406')).toHaveLength(3);
    // And they reach the fleet as anomaly events like any other.
    await until(() => events(consumer, 'anomaly').length === 4, 'anomaly events for bad commands');
  });

  it('obeys unlock when the allow-list has it', async () => {
    const { rig, consumer } = await setup({ commands: ['unlock'] });
    rig.terminal.setState('locked', ['tamper']);
    await consumer.publish(
      `pos/v1/${rig.fleet}/${TERMINAL_ID}/cmd`,
      signedCommand(rig, { commandId: 'u1', name: wire.CommandName.COMMAND_NAME_UNLOCK }),
    );
    await until(() => consumer.of('cmd-result').length === 1, 'unlock result');
    expect(consumer.of('cmd-result')[0]!.message).toMatchObject({ ok: true, commandId: 'u1' });
    expect(rig.terminal.unlocks).toBe(1);
    await until(() => events(consumer, 'lifecycle').some((e) => e.message['code'] === 'unlock'), 'unlock event');
  });

  it('stops cleanly: shutdown event and retained State offline, and no will', async () => {
    const { rig, consumer } = await setup();
    await rig.publisher.stop();
    await until(() => consumer.of('state').some((s) => s.message['online'] === false), 'offline state');
    expect(
      consumer
        .of('state')
        .filter((s) => s.message['online'] === false)
        .map((s) => s.message['reason']),
    ).toEqual(['shutdown']);
    expect(events(consumer, 'lifecycle').at(-1)!.message).toMatchObject({ code: 'shutdown' });
    expect(rig.journal.outbox.stats().depth).toBe(0);
    const late = await Consumer.connect(broker.url, topicFilter(rig));
    consumers.push(late);
    await until(() => late.of('state').length > 0, 'retained state');
    expect(late.of('state')[0]!.message).toMatchObject({ online: false, reason: 'shutdown' });
  });
});
