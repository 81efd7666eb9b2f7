/**
 * `pos-fleet history` and `pos-fleet ingest` as separate processes (compiled, as installed): the timeline printed
 * newest first with its filters, its exits, and two ingest processes on a shared subscription filling one SQLite
 * store.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { TelemetryDecoder } from '../../../src/fleet/decode.js';
import { SqliteHistoryStore } from '../../../src/fleet/history/sqlite-store.js';
import { historyRecordOf } from '../../../src/fleet/history/recorder.js';
import type { TerminalView } from '../../../src/fleet/state.js';
import { startCli, type RunningCli } from '../../support/cli.js';
import { encode, FLEET, startMosquitto, TERMINAL, topic, until } from '../support.js';

const dir = mkdtempSync(join(tmpdir(), 'fleet-history-cli-'));
const running: RunningCli[] = [];

afterEach(async () => {
  for (const c of running.splice(0)) {
    if (c.child.exitCode === null) c.child.kill('SIGKILL');
    await c.exited;
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[]): RunningCli {
  const c = startCli('pos-fleet', args);
  running.push(c);
  return c;
}

function configFile(name: string, history: object): string {
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify({ history }));
  return path;
}

async function filledStore(path: string, now: number): Promise<void> {
  const store = await SqliteHistoryStore.open(path);
  const decoder = new TelemetryDecoder();
  const at = (minutesAgo: number) => now - minutesAgo * 60_000;
  const messages: [string, Uint8Array, number][] = [
    ['birth', encode.birth({ seq: 1 }), at(180)],
    ['health', encode.health({ seq: 2 }, { storeAndForward: { depth: 2, totalMinor: 900, oldestAgeMs: 1 } }), at(170)],
    ['event', encode.event({ seq: 3 }), at(60)],
    ['health', encode.health({ seq: 4 }, { pendingReversals: 1 }), at(30)],
    ['state', encode.state({ seq: 0 }, false, 'connection lost'), at(10)],
  ];
  await store.insert(
    messages.map(([type, payload, receivedAt]) => {
      const d = decoder.decode(topic(type), payload);
      if (!d.ok) throw d.error;
      return historyRecordOf(d.message, { receivedAt, retained: false });
    }),
  );
  await store.close();
}

describe('pos-fleet history', () => {
  it('prints the timeline newest first, filtered by kind, start and limit, as text or JSON', async () => {
    const path = join(dir, 'timeline.sqlite');
    await filledStore(path, Date.now());
    const config = configFile('timeline', { sqlite: { path } });

    const all = cli(['--config', config, 'history', `${FLEET}/${TERMINAL}`]);
    expect(await all.exited).toBe(0);
    const lines = all.stdout().trim().split('\n');
    expect(lines.map((l) => l.split(/\s+/)[1])).toEqual(['state', 'health', 'event', 'health', 'birth']);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT.*Z {2}state {6}boot-a#0 {2}offline \(connection lost\)$/);
    expect(lines[1]).toContain('health ready · saf 0 · pending reversals 1 · outbox 0');
    expect(lines[2]).toContain('E101 host-timeout (error): No answer from the acquirer');

    const json = cli([
      '--config',
      config,
      'history',
      `${FLEET}/${TERMINAL}`,
      '--json',
      '--kind',
      'health',
      '--limit',
      '1',
    ]);
    expect(await json.exited).toBe(0);
    const entries = json
      .stdout()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ kind: 'health', seq: 4, bootId: 'boot-a', historical: false });
    expect((entries[0]!['data'] as { pendingReversals: number }).pendingReversals).toBe(1);

    const since = cli([
      '--config',
      config,
      '--fleet',
      FLEET,
      'history',
      TERMINAL,
      '--since',
      '2h',
      '--kind',
      'event,state',
    ]);
    expect(await since.exited).toBe(0);
    expect(
      since
        .stdout()
        .trim()
        .split('\n')
        .map((l) => l.split(/\s+/)[1]),
    ).toEqual(['state', 'event']);
  });

  it('says so and exits 66 when there is no history at the configured path, without creating one', async () => {
    const path = join(dir, 'nothing-here.sqlite');
    const c = cli(['--config', configFile('missing', { sqlite: { path } }), 'history', `${FLEET}/${TERMINAL}`]);
    expect(await c.exited).toBe(66);
    expect(c.stderr()).toContain(`cannot open the history store at ${path}: no history there`);
    expect(c.stderr()).not.toMatch(/\n\s+at /);
    expect(existsSync(path)).toBe(false);
  });

  it('refuses a bad history config with one line per key (exit 78) and bad arguments (exit 1)', async () => {
    const bad = cli(['--config', configFile('bad', { backend: 'postgres', retentionDays: 0 }), 'history', 'x/y']);
    expect(await bad.exited).toBe(78);
    expect(bad.stderr()).toContain(
      'config error: history.postgres.url: expected a postgres:// URL, since backend is "postgres"',
    );
    expect(bad.stderr()).toContain('config error: history.retentionDays: expected a number of days above 0');
    const unknown = cli(['--config', configFile('unknown', { sqlite: { file: 'x' } }), 'history', 'x/y']);
    expect(await unknown.exited).toBe(78);
    expect(unknown.stderr()).toContain('history.sqlite.file');
    const since = cli(['history', 'x/y', '--since', 'yesterday-ish']);
    expect(await since.exited).toBe(1);
    expect(since.stderr()).toContain('--since must be an ISO time');
  });
});

describe('pos-fleet ingest', () => {
  it('two processes on one shared subscription write every message once to one SQLite store', async () => {
    const broker = await startMosquitto();
    try {
      const path = join(dir, 'ingest.sqlite');
      const config = configFile('ingest', {
        sqlite: { path },
        write: { batchSize: 20, flushIntervalMs: 50, maxQueued: 1000 },
      });
      const args = (id: string) => [
        '--config',
        config,
        '--url',
        broker.url,
        '--share',
        'history',
        '--client-id',
        id,
        'ingest',
      ];
      const ingests = [cli(args('ingest-a')), cli(args('ingest-b'))];
      for (const c of ingests)
        await until(
          () => c.stderr().includes('writing $share/history/') || c.child.exitCode !== null,
          'ingest started',
          10_000,
        );
      for (const c of ingests) expect(c.stderr()).toContain('writing $share/history/pos/v1/+/+/+');

      const publisher = await connectAsync(broker.url, { protocolVersion: 4, reconnectPeriod: 0 });
      const total = 200;
      for (let seq = 1; seq <= total; seq++)
        await publisher.publishAsync(topic('health'), Buffer.from(encode.health({ seq })), { qos: 1 });
      await publisher.endAsync();

      const store = await SqliteHistoryStore.open(path);
      try {
        const counted = { n: 0 };
        const started = Date.now();
        while (counted.n < total && Date.now() - started < 15_000) {
          counted.n = await store.count();
          await new Promise((r) => setTimeout(r, 50));
        }
        expect(counted.n).toBe(total);
        const seqs = (await store.timeline(FLEET, TERMINAL, { limit: 1000 })).map((e) => e.seq);
        expect(new Set(seqs).size).toBe(total);
      } finally {
        await store.close();
      }
      for (const c of ingests) c.child.kill('SIGTERM');
      const written = [];
      for (const c of ingests) {
        expect(await c.exited).toBe(0);
        const m = /(\d+) messages written, 0 dropped, 0 write errors/.exec(c.stderr());
        expect(m, c.stderr()).not.toBeNull();
        written.push(Number(m![1]));
      }
      expect(written.every((n) => n > 0)).toBe(true);
      expect(written[0]! + written[1]!).toBe(total);

      // Read back as one picture: every seq there, no gap, though each process saw only part.
      const picture = cli(['--config', config, 'picture', '--json']);
      expect(await picture.exited).toBe(0);
      const views = picture
        .stdout()
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as TerminalView);
      expect(views).toHaveLength(1);
      expect(views[0]).toMatchObject({ key: `${FLEET}/${TERMINAL}`, status: 'healthy' });
      expect(views[0]!.sequence).toMatchObject({ lastSeq: total, gaps: 0, missing: 0, duplicates: 0 });
      const table = cli(['--config', config, 'picture']);
      expect(await table.exited).toBe(0);
      expect(table.stdout()).toContain(TERMINAL);
    } finally {
      await broker.stop();
    }
  }, 40_000);
});
