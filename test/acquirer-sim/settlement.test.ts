/**
 * The host simulator's batch: its totals per terminal from what it approved and saw reversed, its answer to a 0500
 * (00, or 95 with its own totals), the batch upload restoring a sale it lost, the pos-host-sim flags that tell it to
 * disagree or to lose a sale, and its control lines (--control) that tell it so while it runs and read its books back.
 * The messages are built here by hand, field by field, as the 1987 spec lays them out.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../hal/clock.js';
import { TcpHostLink } from '../../hal/acquirer-link/tcp.js';
import { AcquirerClient, isoCorrelator } from '../../src/acquirer/acquirer-client.js';
import { AcquirerHostSimulator } from '../../src/acquirer-sim/simulator.js';
import { buildFinancialRequest, type IsoMessage, PROCESSING_CODE } from '../../src/iso8583/index.js';
import { startCli, type RunningCli } from '../support/cli.js';
import { until } from '../support/wait.js';

const TID = 'TERM0002';
const running: RunningCli[] = [];
const links: TcpHostLink[] = [];
const sims: AcquirerHostSimulator[] = [];
afterEach(async () => {
  for (const link of links.splice(0)) await link.stop();
  for (const sim of sims.splice(0)) await sim.stop();
  for (const cli of running.splice(0)) {
    cli.child.kill('SIGTERM');
    await cli.exited;
  }
});

async function connect(port: number): Promise<AcquirerClient> {
  const link = new TcpHostLink({
    host: '127.0.0.1',
    port,
    correlator: isoCorrelator,
    clock: new ManualClock(),
    responseTimeoutMs: 30_000,
  });
  links.push(link);
  link.start();
  await until(() => link.isUp(), 'link up');
  return new AcquirerClient(link);
}

const financial = (stan: number, amount: number, processingCode: string = PROCESSING_CODE.purchase) =>
  buildFinancialRequest({
    processingCode,
    amount,
    currency: '978',
    stan,
    transmittedAt: new Date(),
    terminalId: TID,
    merchantId: 'MERCHANT0000001',
    pan: '4761739001010010',
    expiry: '2812',
    entryMode: '051',
  });

const n = (value: number, width: number) => String(value).padStart(width, '0');

/** A 0500 as the 1987 table has it: 74-77 n10, 86-89 n16, 97 x+n16, 50 the currency, 60 the batch number. */
function settlement(
  stan: number,
  t: { debits: [number, number]; credits: [number, number] },
  afterUpload = false,
): IsoMessage {
  const net = t.debits[1] - t.credits[1];
  return {
    mti: '0500',
    fields: {
      3: afterUpload ? '960000' : '920000',
      7: '0501120000',
      11: n(stan, 6),
      41: TID,
      42: 'MERCHANT0000001',
      50: '978',
      60: '000001',
      74: n(t.credits[0], 10),
      75: n(0, 10),
      76: n(t.debits[0], 10),
      77: n(0, 10),
      86: n(t.credits[1], 16),
      87: n(0, 16),
      88: n(t.debits[1], 16),
      89: n(0, 16),
      97: `${net < 0 ? 'D' : 'C'}${n(Math.abs(net), 16)}`,
    },
  };
}

const upload = (stan: number, amount: number): IsoMessage => ({
  mti: '0320',
  fields: {
    3: '000000',
    4: n(amount, 12),
    7: '0501120000',
    11: n(stan, 6),
    41: TID,
    42: 'MERCHANT0000001',
    49: '978',
    60: '000001',
  },
});

describe('the host simulator settles a batch', () => {
  it('counts what it approved less what it saw reversed, agrees with equal totals and starts a new batch', async () => {
    const sim = new AcquirerHostSimulator({ keepLedger: true });
    sims.push(sim);
    const client = await connect((await sim.start()).port);
    expect((await client.send(financial(1, 1_000))).responseCode).toBe('00');
    expect((await client.send(financial(2, 2_000))).responseCode).toBe('00');
    expect((await client.send(financial(3, 300, PROCESSING_CODE.refund))).responseCode).toBe('00');
    const reversal = { ...financial(2, 2_000), mti: '0400' };
    reversal.fields[90] = `0200${n(2, 6)}${'0'.repeat(32)}`;
    expect((await client.send(reversal)).responseCode).toBe('00');
    expect(sim.batchTotals(TID).get('978')).toMatchObject({
      debitsNumber: 1,
      debitsAmount: 1_000,
      creditsNumber: 1,
      creditsAmount: 300,
    });

    const wrong = await client.send(settlement(4, { debits: [2, 3_000], credits: [1, 300] }));
    expect(wrong.responseCode).toBe('95');
    // The answer carries the host's own totals, in the same fields.
    expect(wrong.message.fields[76]).toBe(n(1, 10));
    expect(wrong.message.fields[88]).toBe(n(1_000, 16));
    expect(wrong.message.fields[97]).toBe(`C${n(700, 16)}`);

    const right = await client.send(settlement(5, { debits: [1, 1_000], credits: [1, 300] }));
    expect(right.responseCode).toBe('00');
    expect(sim.batchTotals(TID).size).toBe(0);
    expect(sim.ledger.filter((e) => e.mti === '0510').map((e) => e.responseCode)).toEqual(['95', '00']);
  });

  it('pos-host-sim --lose-approved 1 --settle-disagree once: an upload restores the lost sale and the second 0500 agrees', async () => {
    const cli = startCli('pos-host-sim', ['--port', '0', '--lose-approved', '1', '--settle-disagree', 'once']);
    running.push(cli);
    await until(() => cli.stdout().includes('listening') || cli.child.exitCode !== null, 'simulator listening');
    const { port } = JSON.parse(cli.stdout().split('\n')[0]!) as { port: number };
    const client = await connect(port);
    expect((await client.send(financial(1, 1_000))).responseCode).toBe('00');
    expect((await client.send(financial(2, 2_500))).responseCode).toBe('00');
    const totals = { debits: [2, 3_500] as [number, number], credits: [0, 0] as [number, number] };

    const first = await client.send(settlement(3, totals));
    expect(first.responseCode).toBe('95');
    // It lost the first sale: its own totals say one debit of 2 500.
    expect([first.message.fields[76], first.message.fields[88]]).toEqual([n(1, 10), n(2_500, 16)]);
    for (const [stan, amount] of [
      [1, 1_000],
      [2, 2_500],
    ] as const)
      expect((await client.send(upload(stan, amount))).responseCode).toBe('00');
    const second = await client.send(settlement(4, totals, true));
    expect(second.responseCode).toBe('00');
  });

  it('pos-host-sim --control: told while it runs, its own batch books read back, bad lines refused', async () => {
    const cli = startCli('pos-host-sim', ['--port', '0', '--control']);
    running.push(cli);
    await until(() => cli.stdout().includes('listening') || cli.child.exitCode !== null, 'simulator listening');
    const { port } = JSON.parse(cli.stdout().split('\n')[0]!) as { port: number };
    let read = 1;
    const say = async (line: string): Promise<Record<string, unknown>> => {
      cli.child.stdin.write(`${line}\n`);
      await until(
        () =>
          cli
            .stdout()
            .split('\n')
            .filter((l) => l.startsWith('{')).length > read,
        `answer to ${line}`,
      );
      return JSON.parse(
        cli
          .stdout()
          .split('\n')
          .filter((l) => l.startsWith('{'))[read++]!,
      ) as Record<string, unknown>;
    };
    for (const bad of [
      'settle-disagree sometimes',
      'lose-approved 0',
      'lose-approved x',
      'batch TERM',
      'sell 5',
      'x y z w',
    ])
      expect(await say(bad)).toMatchObject({ event: 'control', ok: false });
    expect(await say('batch')).toEqual({ event: 'batch', ok: true, terminals: [] });
    expect(await say('lose-approved 1')).toMatchObject({ ok: true });
    const client = await connect(port);
    expect((await client.send(financial(1, 1_000))).responseCode).toBe('00');
    expect((await client.send(financial(2, 2_500))).responseCode).toBe('00');
    expect(await say('batch')).toMatchObject({
      terminals: [
        { terminalId: TID, totals: { '978': { debitsNumber: 1, debitsAmount: 2_500 } }, uploads: 0, lost: 1 },
      ],
    });
    const totals = { debits: [2, 3_500] as [number, number], credits: [0, 0] as [number, number] };
    expect((await client.send(upload(1, 1_000))).responseCode).toBe('00');
    expect(await say('batch')).toMatchObject({
      terminals: [{ totals: { '978': { debitsNumber: 2, debitsAmount: 3_500 } }, uploads: 1, lost: 0 }],
    });
    // Totals equal now, but told to disagree once: 95, then 00.
    expect(await say('settle-disagree once')).toMatchObject({ ok: true });
    expect((await client.send(settlement(3, totals))).responseCode).toBe('95');
    expect((await client.send(settlement(4, totals, true))).responseCode).toBe('00');
    const { records } = (await say('settlements')) as { records: Array<Record<string, unknown>> };
    expect(records.map((r) => [r.responseCode, r.afterUpload, r.batchNumber])).toEqual([
      ['95', false, 1],
      ['00', true, 1],
    ]);
    expect(await say('batch')).toMatchObject({ terminals: [{ terminalId: TID, totals: {}, uploads: 0, lost: 0 }] });
    expect(cli.child.exitCode).toBeNull();
  });

  it('refuses a bad --settle-disagree value with a clear message', async () => {
    const cli = startCli('pos-host-sim', ['--port', '0', '--settle-disagree', 'sometimes']);
    running.push(cli);
    const code = await cli.exited;
    expect(code).not.toBe(0);
    expect(cli.stderr()).toMatch(/settle-disagree/);
    expect(cli.stderr()).not.toMatch(/\n\s+at /);
  });
});
