/**
 * The history store named by the config, and the writing side around it. The CLI, the web dashboard and the
 * consumers all start here:
 *   const store = await openHistoryStore(config.history);               // read: FleetHistoryReader and more
 *   const history = await startHistory(config.history, { clock });      // write: consumer onMessage → recorder
 *   consumer onMessage: (msg, info) => history.recorder.record(msg, info)
 *   const picture = storedPicture(config, store, clock); await picture.refresh(); picture.terminals()
 */
import { resolve } from 'node:path';
import type { Clock } from '../../../hal/clock.js';
import type { FleetConfig } from '../config.js';
import type { HistoryConfig } from '../config-history.js';
import { HistoryStoreError } from './migrate.js';
import { PostgresHistoryStore } from './postgres-store.js';
import { StoredFleetPicture } from './picture.js';
import { HistoryRecorder } from './recorder.js';
import { HistoryRetention } from './retention.js';
import { SqliteHistoryStore } from './sqlite-store.js';
import type { FleetHistoryStore } from './store.js';

export { HistoryStoreError } from './migrate.js';

export interface OpenHistoryOptions {
  /** For readers: a SQLite file that does not exist is an error, not a new empty history. */
  mustExist?: boolean;
}

/** Where the config says the history is, for messages: the SQLite file's full path, or the server (no password). */
export function historyLocation(config: HistoryConfig): string {
  if (config.backend === 'sqlite') return resolve(config.sqlite.path);
  try {
    const url = new URL(config.postgres.url ?? '');
    return `postgres://${url.host}${url.pathname}`;
  } catch {
    return 'postgres (unreadable URL)';
  }
}

export async function openHistoryStore(
  config: HistoryConfig,
  opts: OpenHistoryOptions = {},
): Promise<FleetHistoryStore> {
  const where = historyLocation(config);
  try {
    if (config.backend === 'sqlite')
      return await SqliteHistoryStore.open(resolve(config.sqlite.path), { mustExist: opts.mustExist ?? false });
    if (config.postgres.url === null) throw new HistoryStoreError('history.postgres.url is not set');
    return await PostgresHistoryStore.open({ url: config.postgres.url, poolSize: config.postgres.poolSize });
  } catch (err) {
    if (err instanceof HistoryStoreError) throw err;
    const e = err as Error & { code?: unknown };
    const why = e.code === 'SQLITE_CANTOPEN' || /does not exist/.test(e.message) ? 'no history there' : e.message;
    throw new HistoryStoreError(`cannot open the history store at ${where}: ${why}`);
  }
}

export interface FleetHistory {
  store: FleetHistoryStore;
  recorder: HistoryRecorder;
  retention: HistoryRetention;
  /** Stops the purge, writes what is queued, closes the store. */
  close(): Promise<void>;
}

export interface StartHistoryOptions {
  clock: Clock;
  onError?: (error: Error) => void;
}

/** Opens the store, starts the write queue and the retention purge, as the config says. */
export async function startHistory(config: HistoryConfig, opts: StartHistoryOptions): Promise<FleetHistory> {
  const store = await openHistoryStore(config);
  const onError = opts.onError ?? (() => undefined);
  const recorder = new HistoryRecorder({
    store,
    clock: opts.clock,
    batchSize: config.write.batchSize,
    flushIntervalMs: config.write.flushIntervalMs,
    maxQueued: config.write.maxQueued,
    onError,
  });
  const retention = new HistoryRetention({
    store,
    clock: opts.clock,
    retentionDays: config.retentionDays,
    intervalMs: config.purge.intervalMinutes * 60_000,
    batchSize: config.purge.batchSize,
    onError,
  });
  retention.start();
  return {
    store,
    recorder,
    retention,
    async close() {
      retention.stop();
      try {
        await recorder.close();
      } finally {
        await store.close();
      }
    },
  };
}

/** The fleet picture folded from the store, with the config's health intervals and anomaly window. */
export function storedPicture(config: FleetConfig, store: FleetHistoryStore, clock: Clock): StoredFleetPicture {
  return new StoredFleetPicture({
    store,
    clock,
    healthIntervalMs: config.healthIntervalMs,
    healthIntervalByTerminal: config.healthIntervalByTerminal,
    missedHealthFactor: config.missedHealthFactor,
    anomalyWindowMs: config.anomalyWindowMinutes * 60_000,
  });
}
