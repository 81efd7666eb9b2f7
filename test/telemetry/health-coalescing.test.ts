/**
 * Health on the terminal: one per burst of changes, spaced on the simulated clock; `session` counts connections,
 * not tries; Health made while the broker is away is marked historical; the pos-fleet consumers online are reported.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FleetConsumer } from '../../src/fleet/consumer.js';
import { FleetState } from '../../src/fleet/state.js';
import { until } from '../support/wait.js';
import { Consumer, makeRig, startTestBroker, topicFilter, type Rig, type TestBroker } from './harness.js';

describe('health on the terminal', () => {
  let broker: TestBroker;
  const rigs: Rig[] = [];
  const consumers: Consumer[] = [];
  beforeAll(async () => {
    broker = await startTestBroker('mosquitto');
  });
  afterEach(async () => {
    for (const c of consumers.splice(0)) await c.close();
    for (const r of rigs.splice(0)) await r.close();
  });
  afterAll(async () => {
    await broker.close();
  });

  async function setup() {
    const rig = makeRig(broker.url);
    rigs.push(rig);
    const consumer = await Consumer.connect(broker.url, topicFilter(rig));
    consumers.push(consumer);
    rig.publisher.start();
    await until(() => consumer.of('health').length >= 1, 'first health');
    return { rig, consumer };
  }

  let markers = 0;
  /** Everything queued so far has arrived: a marker event sent last is seen (the wire keeps the order). */
  async function settled(rig: Rig, consumer: Consumer): Promise<void> {
    // Letters only: a long digit run could be masked as a card number on the way out.
    const marker = `marker ${'abcdefghij'[++markers % 10]}${'klmnopqrst'[Math.floor(markers / 10) % 10]}`;
    rig.anomalies.raise('declined', { reason: marker }, { show: false });
    await until(
      () => consumer.of('event').some((e) => String(e.message['message']).includes(marker)),
      'marker event delivered',
    );
  }

  it('five changes in the first 100 ms make one Health; a sale makes one; spaced at least 2 s apart', async () => {
    const { rig, consumer } = await setup();
    await settled(rig, consumer);
    const start = consumer.of('health').length;
    for (const state of ['starting', 'selfTesting', 'degraded', 'selfTesting', 'ready']) {
      rig.terminal.setState(state);
      await rig.clock.advance(20);
    }
    await rig.clock.advance(2_000);
    await settled(rig, consumer);
    expect(consumer.of('health').length).toBe(start + 1);
    expect(consumer.of('health').at(-1)!.message['state']).toBe('OPERATION_STATE_READY');

    // A sale: its start is not news, its end is; the next Health waits for the spacing.
    rig.terminal.setState('transacting');
    await rig.clock.advance(300);
    rig.terminal.setState('ready');
    await rig.clock.advance(499);
    await settled(rig, consumer);
    expect(consumer.of('health').length).toBe(start + 1);
    await rig.clock.advance(1_501);
    await settled(rig, consumer);
    expect(consumer.of('health').length).toBe(start + 2);
  });

  it('session counts connections: failed tries do not use up a number; backlog Health is historical', async () => {
    const { rig, consumer } = await setup();
    expect(rig.publisher.stats().session).toBe(1);
    await broker.stop();
    await until(() => !rig.publisher.connected, 'connection lost');
    // Three tries while the broker is down (reconnect every 1 s of simulated time).
    for (let i = 0; i < 3; i++) await rig.clock.advance(1_000);
    rig.publisher.publishHealth();
    const subscriptions = consumer.subscriptions;
    await broker.start();
    // The observer subscribes again first, so it sees the new connection's Birth.
    await until(() => consumer.subscriptions > subscriptions, 'observer back', 10_000);
    await rig.clock.advance(1_000);
    await until(() => rig.publisher.connected, 'reconnected', 10_000);
    await until(() => consumer.of('birth').length >= 2, 'second birth', 10_000);
    expect(consumer.of('birth').at(-1)!.message['session']).toBe(2);
    await until(() => consumer.of('state').filter((s) => s.message['session'] === 2).length >= 1, 'state 2', 10_000);
    await settled(rig, consumer);
    const healths = consumer.of('health').map((h) => h.message);
    const historical = healths.filter((h) => h['historical'] === true);
    expect(historical.length).toBeGreaterThanOrEqual(1);
    // The last one, made on the new connection, is live.
    expect(healths.at(-1)!['historical']).toBe(false);
  });

  it('reports the pos-fleet consumers online in Health', async () => {
    const { rig, consumer } = await setup();
    expect(rig.publisher.fleetConsumersOnline).toBe(0);
    const fleet = new FleetConsumer({
      url: broker.url,
      clientId: `fleet-${rig.fleet}`,
      fleet: rig.fleet,
      state: new FleetState({ clock: rig.clock }),
    });
    await fleet.start();
    await until(() => rig.publisher.fleetConsumersOnline === 1, 'consumer seen');
    await rig.clock.advance(2_000);
    await settled(rig, consumer);
    expect(consumer.of('health').at(-1)!.message['fleetConsumersOnline']).toBe(1);
    await fleet.stop();
    await until(() => rig.publisher.fleetConsumersOnline === 0, 'consumer gone');
  });
});
