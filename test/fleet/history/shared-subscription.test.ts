/**
 * Two consumers on one shared subscription ($share/history/…) of a real Mosquitto each receive part of every
 * terminal's messages and write one history store; the fleet picture read from the store equals the one a third
 * consumer, subscribed alone to everything, builds by itself: status, last seen, gaps, restarts, duplicates, queue
 * depths. Run on SQLite and on a real PostgreSQL server.
 */
import { connectAsync, type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../hal/clock.js';
import { FleetConsumer } from '../../../src/fleet/consumer.js';
import { StoredFleetPicture } from '../../../src/fleet/history/picture.js';
import { HistoryRecorder } from '../../../src/fleet/history/recorder.js';
import type { FleetHistoryStore } from '../../../src/fleet/history/store.js';
import { FleetState } from '../../../src/fleet/state.js';
import { startMosquitto, T0, type TestBroker, until } from '../support.js';
import { historyBackends } from './backends.js';
import { FleetTraffic, HEALTH_INTERVAL_MS, pictureOf, terminalIds } from './traffic.js';

const TERMINALS = 300;
const ROUNDS = 6;
const PUBLISHERS = 4;

const backends = historyBackends();

describe.each(backends)('shared subscription writing one store on $name', (backend) => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn().catch(() => undefined);
  });

  it.skipIf(backend.skip !== undefined)(
    `two consumers of a few hundred terminals give the picture one consumer alone sees (${TERMINALS} terminals)`,
    async () => {
      const broker: TestBroker = await startMosquitto();
      cleanup.push(() => broker.stop());
      const fresh = await backend.fresh();
      const clock = new ManualClock(T0);

      const aloneState = new FleetState({ clock });
      let aloneCount = 0;
      // Each consumer its own client id: one shared id would let the broker keep only one of them connected.
      const alone = new FleetConsumer({
        url: broker.url,
        clientId: `history-alone-${backend.name}`,
        protocolVersion: 5,
        state: aloneState,
        clock,
        onMessage: () => aloneCount++,
      });
      const shares = [0, 0];
      const recorders: HistoryRecorder[] = [];
      const ownPictures: FleetState[] = [];
      const consumers = [alone];
      for (let i = 0; i < 2; i++) {
        const store: FleetHistoryStore = await fresh.open();
        cleanup.push(() => store.close());
        const recorder = new HistoryRecorder({ store, clock, batchSize: 100 });
        recorders.push(recorder);
        const own = new FleetState({ clock, trackSequence: false });
        ownPictures.push(own);
        consumers.push(
          new FleetConsumer({
            url: broker.url,
            protocolVersion: 5,
            share: 'history',
            clientId: `history-${backend.name}-${i}`,
            state: own,
            clock,
            onMessage: (msg, info) => {
              shares[i]!++;
              recorder.record(msg, info);
            },
          }),
        );
      }
      for (const c of consumers) {
        await c.start();
        cleanup.push(() => c.stop());
      }

      const publishers: MqttClient[] = [];
      for (let i = 0; i < PUBLISHERS; i++) {
        const client = await connectAsync(broker.url, { protocolVersion: 4, reconnectPeriod: 0 });
        client.on('error', () => undefined);
        publishers.push(client);
        cleanup.push(() => client.endAsync());
      }
      const ids = terminalIds(TERMINALS);
      const publisherOf = new Map(ids.map((id, i) => [id, publishers[i % PUBLISHERS]!]));
      const traffic = new FleetTraffic(ids, ROUNDS);
      // A reader following the store as it fills (resuming its fold), as a dashboard would.
      const reader = await fresh.open();
      cleanup.push(() => reader.close());
      const picture = new StoredFleetPicture({ store: reader, clock, healthIntervalMs: HEALTH_INTERVAL_MS });
      let total = 0;
      for (let round = 0; round < ROUNDS; round++) {
        const pubs = traffic.round(round, clock.now());
        total += pubs.length;
        // Each publisher sends its terminals' messages in order, as each terminal does on its own connection.
        await Promise.all(
          publishers.map(async (client) => {
            for (const p of pubs)
              if (publisherOf.get(p.terminalId) === client)
                await client.publishAsync(p.topic, Buffer.from(p.payload), { qos: 1 });
          }),
        );
        await until(
          () => aloneCount === total && shares[0]! + shares[1]! === total,
          `round ${round} delivered`,
          15_000,
        );
        await Promise.all(recorders.map((r) => r.flush()));
        await picture.refresh();
        await clock.advance(30_000);
      }
      await Promise.all(recorders.map((r) => r.flush()));
      await clock.advance(60_000);

      // The broker really split the messages.
      expect(shares[0]).toBeGreaterThan(total / 10);
      expect(shares[1]).toBeGreaterThan(total / 10);
      expect(recorders.map((r) => r.stats().dropped)).toEqual([0, 0]);
      // What either consumer of the group shows by itself is wrong (that is the problem being solved).
      for (const own of ownPictures) expect(pictureOf(own.terminals())).not.toEqual(pictureOf(aloneState.terminals()));

      expect(await reader.count()).toBe(total);
      expect(await picture.refresh()).toBe(0);
      const fromScratch = new StoredFleetPicture({ store: reader, clock, healthIntervalMs: HEALTH_INTERVAL_MS });
      expect(await fromScratch.refresh()).toBe(TERMINALS);
      expect(pictureOf(fromScratch.terminals())).toEqual(pictureOf(aloneState.terminals()));
      const expected = pictureOf(aloneState.terminals());
      expect(expected).toHaveLength(TERMINALS);
      expect(pictureOf(picture.terminals())).toEqual(expected);
      expect(new Set(expected.map((t) => t.status))).toEqual(new Set(['anomalous', 'healthy', 'offline', 'silent']));
      expect(expected.filter((t) => t.gaps > 0 && t.missing === 1)).toHaveLength(TERMINALS / 10);
      expect(expected.filter((t) => t.restarts === 1)).toHaveLength(TERMINALS / 10);
    },
    60_000,
  );
});
