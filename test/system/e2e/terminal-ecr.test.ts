/**
 * End to end: pos-terminal and pos-host-sim as separate processes on real TCP. A cash register (the ECR client)
 * drives sales, a decline, a refund, a void and bad input; afterwards the host's ledger is reconciled with the
 * terminal's journal export.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EcrClient, type EcrMessage } from '../../../src/ecr/client.js';
import { cliPath, repoRoot, startCli, type RunningCli } from '../../support/cli.js';
import { loadMasterKeyWithCli, masterKeyFixture } from '../../support/mac-keys.js';
import { until } from '../../support/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'pos-e2e-'));
const ledgerPath = join(dir, 'host-ledger.jsonl');
const configPath = join(dir, 'terminal.json');
const socketPath = join(dir, 'ecr.sock');
let host: RunningCli;
let terminal: RunningCli;
let client: EcrClient;
let ecrPort = 0;

async function transact(command: Record<string, unknown>, card?: string): Promise<EcrMessage[]> {
  return client.request(command, (m) => {
    if (card && m.type === 'state' && m['state'] === 'waitingForCard')
      void client.call({ cmd: 'sim.card', name: card });
    if (m.type === 'state' && m['state'] === 'confirmingDuplicate') void client.call({ cmd: 'confirm' });
  });
}

beforeAll(async () => {
  // Installation: the host's custodians hold the master key, the terminal's load it from its components.
  const keys = masterKeyFixture(dir);
  host = startCli('pos-host-sim', ['--port', '0', '--ledger', ledgerPath, '--master-keys', keys.keysFile]);
  await until(() => host.stdout().includes('listening'), 'host simulator');
  const hostPort = (JSON.parse(host.stdout().split('\n')[0]!) as { port: number }).port;
  writeFileSync(
    configPath,
    JSON.stringify({
      dataDir: join(dir, 'data'),
      log: { level: 'warn' },
      host: { address: `127.0.0.1:${hostPort}`, simulator: { embedded: false }, responseTimeoutMs: 5000 },
      ecr: { port: 0, socketPath },
      mqtt: { url: 'mqtt://127.0.0.1:0' },
    }),
  );
  expect(loadMasterKeyWithCli(keys.components, ['--config', configPath])).toMatch(/check value [0-9A-F]{6}/);
  terminal = startCli('pos-terminal', ['--config', configPath]);
  await until(
    () => /ECR on 127\.0\.0\.1:\d+/.test(terminal.stdout()) || terminal.child.exitCode !== null,
    'terminal ready',
    15_000,
  );
  expect(terminal.stderr()).toBe('');
  ecrPort = Number(/ECR on 127\.0\.0\.1:(\d+)/.exec(terminal.stdout())![1]);
  client = await EcrClient.connect({ port: ecrPort });
});

afterAll(async () => {
  await client?.close();
  terminal?.child.kill('SIGTERM');
  host?.child.kill('SIGTERM');
  await Promise.all([terminal?.exited, host?.exited]);
});

describe('pos-terminal driven over the ECR API against pos-host-sim', () => {
  const results: EcrMessage[] = [];

  it('runs an approved sale and streams state, screens and the result', async () => {
    const messages = await transact({ cmd: 'sale', amount: 1250 }, 'visa');
    const types = messages.map((m) => m.type);
    expect(types[0]).toBe('ack');
    expect(types).toContain('state');
    expect(types).toContain('screen');
    const result = messages.at(-1)!;
    expect(result).toMatchObject({
      type: 'result',
      outcome: 'approved',
      responseCode: '00',
      amount: 1250,
      currency: '978',
      maskedPan: '476173******0010',
      receipt: 'printed',
    });
    expect(result['stan']).toEqual(expect.any(Number));
    expect(messages.filter((m) => m.type === 'state').map((m) => m['state'])).toEqual(
      expect.arrayContaining(['waitingForCard', 'reading', 'authorizing', 'approved', 'printing', 'done']),
    );
    expect(JSON.stringify(messages)).not.toContain('4761739001010010');
    results.push(result);
  });

  it('declines with the host reason and the anomaly code', async () => {
    const result = (await transact({ cmd: 'sale', amount: 2500 }, 'insufficient-funds')).at(-1)!;
    expect(result).toMatchObject({ outcome: 'declined', responseCode: '51', responseText: 'Insufficient funds' });
    expect((result['anomaly'] as { name: string }).name).toMatch(/declined/);
    results.push(result);
  });

  it('refunds and voids (with the supervisor PIN) a previous sale', async () => {
    const refundRefused = (await transact({ cmd: 'refund', amount: 500 }, 'mastercard')).at(-1)!;
    expect(refundRefused).toMatchObject({ outcome: 'failed', anomaly: { name: 'unauthorized-operation' } });
    const refund = (await transact({ cmd: 'refund', amount: 500, supervisorPin: '1234' }, 'mastercard')).at(-1)!;
    expect(refund).toMatchObject({ outcome: 'approved', kind: 'refund' });
    results.push(refund);
    const sale = (await transact({ cmd: 'sale', amount: 3000 }, 'visa')).at(-1)!;
    results.push(sale);
    const refused = await client.call({ cmd: 'void', stan: sale['stan'], supervisorPin: '9999' });
    expect(refused).toMatchObject({ outcome: 'failed', anomaly: { name: 'unauthorized-operation' } });
    const voided = await client.call({ cmd: 'void', stan: sale['stan'], supervisorPin: '1234' });
    expect(voided).toMatchObject({ outcome: 'approved', kind: 'void', amount: 3000 });
    results.push(voided);
  });

  it('refuses a second transaction while one runs, and cancel ends the first', async () => {
    const first = client.request({ cmd: 'sale', amount: 700 });
    const second = await client.call({ cmd: 'sale', amount: 800 });
    expect(second).toMatchObject({ type: 'error', code: 'busy' });
    expect(await client.call({ cmd: 'cancel' })).toMatchObject({ type: 'done' });
    expect((await first).at(-1)).toMatchObject({ outcome: 'cancelled' });
  });

  it('answers bad input with typed errors and stays up', async () => {
    const raw = await EcrClient.connect({ port: ecrPort });
    raw.sendRaw('this is not json\n');
    raw.sendRaw('{"id":"x1","cmd":"launch"}\n');
    raw.sendRaw('{"id":"x2","cmd":"sale"}\n');
    raw.sendRaw(`{"id":"x3","cmd":"sale","amount":1,"pad":"${'a'.repeat(70_000)}"}\n`);
    await until(() => raw.stray.length >= 4, 'four error replies');
    expect(raw.stray.map((m) => m['code'])).toEqual([
      'invalid-json',
      'unknown-command',
      'missing-field',
      'line-too-long',
    ]);
    expect(await raw.call({ cmd: 'status' })).toMatchObject({ type: 'status', state: 'ready' });
    await raw.close();
  });

  it('serves the same API on the Unix socket', async () => {
    const local = await EcrClient.connect({ path: socketPath });
    expect(await local.call({ cmd: 'status' })).toMatchObject({ type: 'status', state: 'ready', hostUp: true });
    await local.close();
  });

  it("reconciles the host's ledger with the terminal's journal", async () => {
    const ledger = readFileSync(ledgerPath, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const hostRequests = ledger.filter((e) => e['dir'] === 'in' && e['mti'] === '0200');
    const hostApproved = ledger.filter((e) => e['dir'] === 'out' && e['mti'] === '0210' && e['responseCode'] === '00');
    const exported = execFileSync(
      process.execPath,
      [cliPath('pos-terminal'), 'journal', 'transactions', '--format', 'jsonl', '--config', configPath],
      { cwd: repoRoot, encoding: 'utf8' },
    );
    const journal = exported
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const sentToHost = journal.filter((t) => t['stan'] !== null);
    // Every request the host saw is a journaled transaction with the same STAN and amount, and vice versa.
    expect(hostRequests.map((e) => `${e['stan']}:${e['amount']}`).sort()).toEqual(
      sentToHost.map((t) => `${String(t['stan']).padStart(6, '0')}:${t['amount']}`).sort(),
    );
    const approvedInJournal = journal
      .filter((t) => t['outcome'] === 'approved')
      .map((t) => `${String(t['stan']).padStart(6, '0')}`);
    expect(hostApproved.map((e) => String(e['stan'])).sort()).toEqual(approvedInJournal.sort());
    // What the cash register was told matches the journal.
    for (const result of results) {
      const row = journal.find((t) => t['txnRef'] === result['txnRef']);
      expect(row).toMatchObject({ outcome: result['outcome'], amount: result['amount'] });
    }
    expect(exported).not.toContain('4761739001010010');
  });
});
