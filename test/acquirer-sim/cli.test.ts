/** pos-host-sim as a separate process: startup flags, ledger file, bad flags. */
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../hal/clock.js';
import { TcpHostLink } from '../../hal/acquirer-link/tcp.js';
import { AcquirerClient, isoCorrelator } from '../../src/acquirer/acquirer-client.js';
import { buildEcho, buildFinancialRequest, PROCESSING_CODE } from '../../src/iso8583/index.js';
import { startCli, type RunningCli } from '../support/cli.js';
import { until } from '../support/wait.js';

const running: RunningCli[] = [];
const links: TcpHostLink[] = [];
afterEach(async () => {
  for (const link of links.splice(0)) await link.stop();
  for (const cli of running.splice(0)) {
    cli.child.kill('SIGTERM');
    await cli.exited;
  }
});

async function startSim(args: string[]) {
  const cli = startCli('pos-host-sim', ['--port', '0', ...args]);
  running.push(cli);
  await until(() => cli.stdout().includes('listening') || cli.child.exitCode !== null, 'simulator listening');
  const line = JSON.parse(cli.stdout().split('\n')[0]!) as { port: number; misbehave: string };
  const clock = new ManualClock();
  const link = new TcpHostLink({
    host: '127.0.0.1',
    port: line.port,
    correlator: isoCorrelator,
    clock,
    responseTimeoutMs: 30_000,
  });
  links.push(link);
  link.start();
  await until(() => link.isUp(), 'link up');
  return { cli, line, clock, client: new AcquirerClient(link) };
}

const sale = (stan: number, amount: number) =>
  buildFinancialRequest({
    processingCode: PROCESSING_CODE.purchase,
    amount,
    currency: '978',
    stan,
    transmittedAt: new Date(),
    terminalId: 'TERM0002',
    merchantId: 'MERCHANT0000001',
    pan: '4000000000005100',
    expiry: '2812',
    entryMode: '051',
  });

describe('pos-host-sim command', () => {
  it('serves ISO 8583 and writes the ledger file named by --ledger', async () => {
    const ledger = join(mkdtempSync(join(tmpdir(), 'pos-sim-')), 'ledger.jsonl');
    const { client } = await startSim(['--ledger', ledger]);
    expect(
      (await client.send(buildEcho({ stan: 1, terminalId: 'TERM0002', transmittedAt: new Date() }))).responseCode,
    ).toBe('00');
    expect((await client.send(sale(2, 1_500))).responseCode).toBe('51');
    const lines = readFileSync(ledger, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => `${l['dir']} ${l['mti']} ${l['responseCode'] ?? ''}`.trim())).toEqual([
      'in 0800',
      'out 0810 00',
      'in 0200',
      'out 0210 51',
    ]);
    expect(lines[2]).toMatchObject({ pan: '400000******5100', amount: 1500, terminalId: 'TERM0002', stan: '000002' });
  });

  it('--misbehave silent withholds every answer', async () => {
    const ledger = join(mkdtempSync(join(tmpdir(), 'pos-sim-')), 'ledger.jsonl');
    const { client, clock, line } = await startSim(['--misbehave', 'silent', '--ledger', ledger]);
    expect(line.misbehave).toBe('silent');
    let error: unknown;
    const pending = client.send(sale(3, 100)).catch((e: unknown) => (error = e));
    await until(() => {
      try {
        return readFileSync(ledger, 'utf8').includes('withheld');
      } catch {
        return false;
      }
    }, 'request withheld at host');
    await clock.advance(30_000);
    await pending;
    expect(error).toMatchObject({ code: 'timeout', sent: true });
  });

  it('--answer sets a field 39 code for all traffic of an MTI, --answer-once for one request', async () => {
    const { client } = await startSim([
      '--answer',
      '0810=96',
      '--answer-once',
      '0210:000007=08',
      '--answer-once',
      '0210=10',
    ]);
    expect(
      (await client.send(buildEcho({ stan: 1, terminalId: 'TERM0002', transmittedAt: new Date() }))).responseCode,
    ).toBe('96');
    // The approving card: the rules would say 00.
    const approving = (stan: number, amount: number) => {
      const r = sale(stan, amount);
      r.fields[2] = '4761739001010010';
      return r;
    };
    expect(await client.send(approving(6, 1_000))).toMatchObject({ responseCode: '10', amount: 500 });
    expect((await client.send(approving(7, 1_000))).responseCode).toBe('08');
    expect((await client.send(approving(8, 1_000))).responseCode).toBe('00');
  });

  it('refuses a malformed --answer', async () => {
    const cli = startCli('pos-host-sim', ['--port', '0', '--answer', '0210:5=08']);
    expect(await cli.exited).not.toBe(0);
    expect(cli.stderr()).toMatch(/expected MTI=CODE/);
  });

  it('refuses an unknown misbehaviour with a clear message and a non-zero exit', async () => {
    const cli = startCli('pos-host-sim', ['--port', '0', '--misbehave', 'explode']);
    const code = await cli.exited;
    expect(code).not.toBe(0);
    expect(cli.stderr()).toMatch(/argument 'explode' is invalid/);
    expect(cli.stderr()).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('--master-keys refuses a key file others can read, and a malformed line, without a stack trace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pos-sim-keys-'));
    const file = join(dir, 'keys.txt');
    writeFileSync(file, `SIM00001 ${'11'.repeat(16)}\n`, { mode: 0o644 });
    chmodSync(file, 0o644);
    const open = startCli('pos-host-sim', ['--port', '0', '--master-keys', file]);
    expect(await open.exited).not.toBe(0);
    expect(open.stderr()).toMatch(/readable by others: chmod 600/);
    writeFileSync(file, 'SIM00001 not-a-key\n', { mode: 0o600 });
    chmodSync(file, 0o600);
    const bad = startCli('pos-host-sim', ['--port', '0', '--master-keys', file]);
    expect(await bad.exited).not.toBe(0);
    expect(bad.stderr()).toMatch(/line 1: expected "TERMINALID <32 hex digits>"/);
    expect(bad.stderr()).not.toMatch(/\n\s+at /);
  });

  it('--bdk takes a 32-hex-digit key and --pin PAN=PIN, and refuses anything else without a stack trace', async () => {
    const { line } = await startSim(['--bdk', 'FEDCBA98765432100123456789ABCDEF', '--pin', '4761739001010010=4321']);
    expect(line.port).toBeGreaterThan(0);
    for (const args of [
      ['--bdk', '0123'],
      ['--pin', '4761739001010010=12'],
    ]) {
      const bad = startCli('pos-host-sim', ['--port', '0', ...args]);
      expect(await bad.exited).not.toBe(0);
      expect(bad.stderr()).toMatch(/32 hex digits|expected PAN=PIN/);
      expect(bad.stderr()).not.toMatch(/\n\s+at /);
    }
  });
});
