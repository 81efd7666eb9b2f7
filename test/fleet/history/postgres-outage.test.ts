/**
 * The PostgreSQL store through an outage of a real server: a consumer's writes fail while it is down, stay queued,
 * and land once it is back, each message once. And a server that is not there is one clear error, no password.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../hal/clock.js';
import { HISTORY_DEFAULTS, type HistoryConfig } from '../../../src/fleet/config-history.js';
import { HistoryStoreError, openHistoryStore } from '../../../src/fleet/history/open.js';
import { HistoryRecorder } from '../../../src/fleet/history/recorder.js';
import type { HistoryRecord } from '../../../src/fleet/history/store.js';
import { freePort } from '../../support/mosquitto.js';
import { postgresMissing, startPostgres, type Postgres } from '../../support/postgres.js';

const T0 = Date.UTC(2026, 2, 1, 8, 0, 0);
const missing = postgresMissing();
if (missing !== undefined) console.warn(`PostgreSQL outage tests skipped: ${missing}`);

function config(url: string): HistoryConfig {
  return {
    ...(structuredClone(HISTORY_DEFAULTS) as HistoryConfig),
    backend: 'postgres',
    postgres: { url, poolSize: 2 },
  };
}

function rec(seq: number): HistoryRecord {
  return {
    fleet: 'shop-paris-01',
    terminalId: 'TERM0042',
    kind: 'health',
    bootId: 'boot-a',
    seq,
    sentAt: T0,
    receivedAt: T0 + seq,
    historical: false,
    retained: false,
    summary: `health ready · seq ${seq}`,
    data: { seq },
  };
}

describe.skipIf(missing !== undefined)('history store on PostgreSQL, through an outage', () => {
  let server: Postgres;
  beforeAll(async () => {
    server = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('keeps what could not be written while the server was down and writes it, once, when it is back', async () => {
    const url = await server.createDatabase('outage');
    const store = await openHistoryStore(config(url));
    try {
      const clock = new ManualClock(T0);
      const errors: string[] = [];
      const recorder = new HistoryRecorder({ store, clock, batchSize: 50, onError: (e) => errors.push(e.message) });
      for (let s = 1; s <= 100; s++) recorder.add(rec(s));
      await recorder.flush();
      expect(await store.count()).toBe(100);

      await server.halt();
      for (let s = 101; s <= 200; s++) recorder.add(rec(s));
      await expect(recorder.flush()).rejects.toThrow();
      expect(errors.length).toBeGreaterThan(0);
      expect(recorder.stats()).toMatchObject({ written: 100, queued: 100, dropped: 0 });

      await server.start();
      await recorder.flush();
      expect(recorder.stats()).toMatchObject({ written: 200, queued: 0, dropped: 0 });
      expect(await store.count()).toBe(200);
      const seqs = (await store.timeline('shop-paris-01', 'TERM0042', { limit: 1_000 })).map((e) => e.seq);
      expect(new Set(seqs).size).toBe(200);
    } finally {
      await store.close();
    }
  }, 60_000);

  it('says which server could not be reached, without the password', async () => {
    const port = await freePort();
    const err = await openHistoryStore(config(`postgres://fleet:s3cret@127.0.0.1:${port}/fleet`)).catch((e) => e);
    expect(err).toBeInstanceOf(HistoryStoreError);
    expect((err as Error).message).toContain(`cannot open the history store at postgres://127.0.0.1:${port}/fleet`);
    expect((err as Error).message).not.toContain('s3cret');
  });
});
