/**
 * End to end under abuse: pos-terminal as its own process, 300 idle connections held open and 20,000 malformed lines
 * in flight on another; meanwhile a register's `status` answers within a second (a generous bound) and a sale
 * completes, and the flood adds less than 1 MB to the journal (file plus WAL), since bad lines are counted per client
 * per interval instead of journaled one by one.
 */
import { existsSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EcrClient } from '../../../src/ecr/client.js';
import { Journal } from '../../../src/journal/index.js';
import { startCli, type RunningCli } from '../../support/cli.js';
import { until } from '../../support/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'pos-abuse-e2e-'));
const dataDir = join(dir, 'data');
const configPath = join(dir, 'terminal.json');
const IDLE = 300;
const BAD_LINES = 20_000;
let terminal: RunningCli;
let client: EcrClient;
let port = 0;
const sockets: net.Socket[] = [];

function journalBytes(): number {
  return ['journal.sqlite', 'journal.sqlite-wal']
    .map((f) => join(dataDir, f))
    .reduce((sum, f) => sum + (existsSync(f) ? statSync(f).size : 0), 0);
}

function open(): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port });
    sockets.push(s);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

beforeAll(async () => {
  writeFileSync(
    configPath,
    JSON.stringify({
      dataDir,
      log: { level: 'warn' },
      host: { address: '127.0.0.1:0' },
      // Room for the idle crowd beside the register; the bound itself is tested in test/ecr/limits.test.ts.
      ecr: { port: 0, socketPath: null, maxConnections: IDLE + 8 },
      mqtt: { url: 'mqtt://127.0.0.1:0' },
    }),
  );
  terminal = startCli('pos-terminal', ['--config', configPath]);
  await until(
    () => /ECR on 127\.0\.0\.1:\d+/.test(terminal.stdout()) || terminal.child.exitCode !== null,
    'terminal ready',
    15_000,
  );
  port = Number(/ECR on 127\.0\.0\.1:(\d+)/.exec(terminal.stdout())![1]);
  client = await EcrClient.connect({ port });
}, 30_000);

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await client?.close();
  terminal?.child.kill('SIGTERM');
});

describe('the ECR API under a flood', () => {
  it('answers status within a second and completes a sale with 300 idle connections and 20,000 bad lines in flight', async () => {
    expect(await client.call({ cmd: 'status' })).toMatchObject({ type: 'status' });
    const before = journalBytes();
    for (let i = 0; i < IDLE; i++) await open();

    const flooder = await open();
    let replies = 0;
    flooder.on('data', (chunk: Buffer) => {
      for (const byte of chunk) if (byte === 0x0a) replies++;
    });
    const lines = Array.from({ length: BAD_LINES }, (_, i) =>
      i % 3 === 0 ? `{"id":"${i}","cmd":"nope"}` : i % 3 === 1 ? `not json ${i}` : `{"id":"${i}"}`,
    ).join('\n');
    flooder.write(`${lines}\n`);

    const asked = Date.now();
    expect(await client.call({ cmd: 'status' })).toMatchObject({ type: 'status', state: 'ready' });
    expect(Date.now() - asked).toBeLessThan(1_000);
    const result = await client.call({ cmd: 'sale', amount: 1500 }, (m) => {
      if (m.type === 'state' && m['state'] === 'waitingForCard') void client.call({ cmd: 'sim.card', name: 'visa' });
    });
    expect(result).toMatchObject({ type: 'result', outcome: 'approved' });

    await until(() => replies >= BAD_LINES, 'a reply to every bad line', 60_000);
    expect(sockets.filter((s) => !s.destroyed)).toHaveLength(IDLE + 1);
    expect(await client.call({ cmd: 'status' })).toMatchObject({ type: 'status' });
    expect(journalBytes() - before).toBeLessThan(1_000_000);
    expect(terminal.child.exitCode).toBeNull();
    const running = Journal.open(join(dataDir, 'journal.sqlite'), { readonly: true });
    // The first bad line is journaled at once; the rest wait for the interval's one report.
    expect(running.anomalies.list({ code: 'E406' })).toHaveLength(1);
    running.close();
  }, 120_000);

  it('journals the flood at stop as one report with its counts by kind', async () => {
    terminal.child.kill('SIGTERM');
    await until(() => terminal.child.exitCode !== null, 'terminal stopped', 15_000);
    const journal = Journal.open(join(dataDir, 'journal.sqlite'), { readonly: true });
    const reasons = journal.anomalies.list({ code: 'E406' }).map((a) => JSON.stringify(a));
    journal.close();
    expect(reasons).toHaveLength(2);
    expect(reasons.join('\n')).toMatch(/sent 19999 bad lines in the last 60 s \(/);
    expect(reasons.join('\n')).toMatch(/unknown-command 66\d\d/);
  }, 30_000);
});
