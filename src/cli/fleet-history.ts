/**
 * `pos-fleet history FLEET/TERMINAL`: a terminal's timeline from the history store the config names, newest first.
 * `pos-fleet picture`: the fleet table as folded from that store (what all the consumers writing it saw together).
 * `pos-fleet ingest`: a consumer that only writes every message to that store; several started with the same
 * --share group split the broker's messages and write one store, whose fleet picture stays exact.
 * Exit codes: 0 done, 1 bad usage, 66 no history at the SQLite path, 69 store or broker unavailable, 78 bad config.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { systemClock } from '../../hal/clock.js';
import type { FleetConfig } from '../fleet/config.js';
import { EX_CONFIG } from '../fleet/config.js';
import {
  BrokerRefusedError,
  BrokerUnavailableError,
  brokerOptionsFromConfig,
  FleetConsumer,
} from '../fleet/consumer.js';
import {
  HistoryStoreError,
  historyLocation,
  openHistoryStore,
  startHistory,
  storedPicture,
} from '../fleet/history/open.js';
import { renderWatch } from '../fleet/table.js';
import { FleetState } from '../fleet/state.js';
import { terminalTarget } from '../fleet/topics.js';
import type { TimelineEntry, TimelineQuery } from '../fleet/ports.js';

const EX_NOINPUT = 66;
const EX_UNAVAILABLE = 69;
const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--since`: an ISO date/time, or an age like 90s, 15m, 2h, 7d. */
export function parseSince(value: string, now = Date.now()): number {
  const age = /^(\d+(?:\.\d+)?)([smhd])$/.exec(value.trim());
  if (age) return now - Number(age[1]) * UNITS[age[2]!]!;
  const at = Date.parse(value);
  if (Number.isNaN(at))
    throw new InvalidArgumentError('--since must be an ISO time (2026-01-31T08:00Z) or an age (15m, 2h, 7d)');
  return at;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 10_000)
    throw new InvalidArgumentError('--limit must be an integer from 1 to 10000');
  return n;
}

function kinds(value: string, previous: string[] = []): string[] {
  const list = value
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k !== '');
  const bad = list.find((k) => !/^[a-z-]{1,32}$/.test(k));
  if (bad !== undefined)
    throw new InvalidArgumentError(
      `--kind: ${JSON.stringify(bad)} is not a message kind (birth, health, event, state, cmd, cmd-result)`,
    );
  return [...previous, ...list];
}

export function formatEntry(e: TimelineEntry): string {
  const where = e.bootId !== null ? ` ${e.bootId}#${e.seq ?? '?'}` : '';
  return `${new Date(e.receivedAt).toISOString()}  ${e.kind.padEnd(10)}${where}  ${e.summary}${e.historical ? '  [historical]' : ''}`;
}

function fail(code: number, line: string): never {
  process.stderr.write(`pos-fleet: ${line}\n`);
  process.exit(code);
}

export function registerFleetHistory(program: Command, loadConfig: (cmd: Command) => FleetConfig): void {
  program
    .command('history')
    .description("a terminal's timeline from the history store (history in the config), newest first")
    .argument('<terminal>', 'fleet/terminal, or a terminal id with --fleet or "fleet" in the config')
    .option('--since <when>', 'only messages received since then: an ISO time or an age (15m, 2h, 7d)')
    .option('--limit <n>', 'at most this many entries', positiveInt, 50)
    .option('--kind <kinds>', 'only these kinds, comma-separated (birth, health, event, state, cmd, cmd-result)', kinds)
    .option('--json', 'one JSON object per entry')
    .action(
      async (
        target: string,
        opts: { since?: string; limit: number; kind?: string[]; json?: boolean },
        cmd: Command,
      ) => {
        const config = loadConfig(cmd);
        const named = terminalTarget(target, config.fleet);
        if ('problem' in named) return program.error(`pos-fleet history: ${named.problem}`);
        const { fleet, terminalId } = named;
        let since: number | undefined;
        try {
          since = opts.since === undefined ? undefined : parseSince(opts.since);
        } catch (err) {
          return program.error(`pos-fleet history: ${(err as Error).message}`);
        }
        const query: TimelineQuery = {
          limit: opts.limit,
          ...(since !== undefined ? { since } : {}),
          ...(opts.kind !== undefined ? { kinds: opts.kind } : {}),
        };
        let store: Awaited<ReturnType<typeof openHistoryStore>>;
        try {
          store = await openHistoryStore(config.history, { mustExist: true });
        } catch (err) {
          if (!(err instanceof HistoryStoreError)) throw err;
          fail(/no history there/.test(err.message) ? EX_NOINPUT : EX_UNAVAILABLE, err.message);
        }
        try {
          const entries = await store.timeline(fleet, terminalId, query);
          for (const e of entries)
            process.stdout.write(
              `${opts.json ? JSON.stringify({ ...e, receivedAt: new Date(e.receivedAt).toISOString() }) : formatEntry(e)}\n`,
            );
          if (entries.length === 0 && !opts.json)
            process.stderr.write(
              `pos-fleet: nothing stored for ${fleet}/${terminalId} in ${historyLocation(config.history)}\n`,
            );
        } finally {
          await store.close();
        }
      },
    );

  program
    .command('picture')
    .description(
      'the fleet table folded from the history store: exact however a shared subscription split the messages',
    )
    .option('--json', 'one JSON object per terminal')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const config = loadConfig(cmd);
      let store: Awaited<ReturnType<typeof openHistoryStore>>;
      try {
        store = await openHistoryStore(config.history, { mustExist: true });
      } catch (err) {
        if (!(err instanceof HistoryStoreError)) throw err;
        fail(/no history there/.test(err.message) ? EX_NOINPUT : EX_UNAVAILABLE, err.message);
      }
      try {
        const picture = storedPicture(config, store, systemClock);
        await picture.refresh();
        const terminals = picture.terminals().filter((t) => config.fleet === null || t.fleet === config.fleet);
        if (opts.json) for (const t of terminals) process.stdout.write(`${JSON.stringify(t)}\n`);
        else
          process.stdout.write(
            `${renderWatch({
              at: Date.now(),
              title: `pos-fleet picture  ${historyLocation(config.history)}`,
              info: [],
              terminals,
              recentAlerts: [],
              width: process.stdout.isTTY ? (process.stdout.columns ?? 0) : 0,
            })}\n`,
          );
      } finally {
        await store.close();
      }
    });

  program
    .command('ingest')
    .description('write every message to the history store (run several with --share to split a large fleet)')
    .action(async (_opts: unknown, cmd: Command) => {
      const config = loadConfig(cmd);
      const clock = systemClock;
      let broker: ReturnType<typeof brokerOptionsFromConfig>;
      try {
        broker = brokerOptionsFromConfig(config);
      } catch (err) {
        fail(EX_CONFIG, (err as Error).message);
      }
      let history: Awaited<ReturnType<typeof startHistory>>;
      try {
        history = await startHistory(config.history, {
          clock,
          onError: (e) => process.stderr.write(`pos-fleet: history: ${e.message}\n`),
        });
      } catch (err) {
        if (err instanceof HistoryStoreError) fail(EX_UNAVAILABLE, err.message);
        throw err;
      }
      const consumer = new FleetConsumer({
        ...broker,
        ...(config.fleet !== null ? { fleet: config.fleet } : {}),
        ...(config.share !== null ? { share: config.share } : {}),
        state: new FleetState({ clock, trackSequence: false }),
        clock,
        onMessage: (msg, info) => history.recorder.record(msg, info),
      });
      try {
        await consumer.start();
      } catch (err) {
        await history.close().catch(() => undefined);
        if (err instanceof BrokerRefusedError || err instanceof BrokerUnavailableError)
          fail(EX_UNAVAILABLE, err.message);
        throw err;
      }
      process.stderr.write(
        `pos-fleet: writing ${consumer.filter} at ${config.mqtt.url} to ${historyLocation(config.history)}\n`,
      );
      const shutdown = (): void => {
        const force = setTimeout(() => process.exit(0), 5_000);
        force.unref();
        void consumer
          .stop()
          .then(() => history.close())
          .catch((e: Error) => process.stderr.write(`pos-fleet: ${e.message}\n`))
          .finally(() => {
            const s = history.recorder.stats();
            process.stderr.write(
              `pos-fleet: ${s.written} messages written, ${s.dropped} dropped, ${s.writeErrors} write errors\n`,
            );
            process.exit(0);
          });
      };
      process.once('SIGINT', shutdown);
      process.once('SIGTERM', shutdown);
    });
}
