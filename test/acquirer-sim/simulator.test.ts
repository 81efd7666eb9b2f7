/**
 * The host simulator as hard as a real host: told answers (per MTI, per STAN, once or for all traffic), field 3
 * honoured (refund credits, void cancels its original or is refused), money moved only on an approved-class answer,
 * totals per kind and a ledger that says what moved. Real loopback sockets, a ManualClock on both ends.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../hal/clock.js';
import { TcpHostLink } from '../../hal/acquirer-link/tcp.js';
import { AcquirerClient, isoCorrelator } from '../../src/acquirer/acquirer-client.js';
import { AcquirerHostSimulator } from '../../src/acquirer-sim/simulator.js';
import { APPROVE_CARDS, DECLINE_CARDS, RESPONSE_CODE_AMOUNT_BASE } from '../../src/acquirer-sim/rules.js';
import {
  buildAdvice,
  buildEcho,
  buildFinancialRequest,
  buildReversal,
  isApprovedClass,
  PROCESSING_CODE,
  RESPONSE_CODES,
  type FinancialRequest,
  type IsoMessage,
} from '../../src/iso8583/index.js';
import { until } from '../support/wait.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

let stanCounter = 500;
function request(
  amount: number,
  processingCode: string = PROCESSING_CODE.purchase,
  extra: Partial<FinancialRequest> = {},
): FinancialRequest {
  return {
    processingCode,
    amount,
    currency: '978',
    stan: ++stanCounter,
    transmittedAt: new Date(Date.UTC(2026, 10, 25, 10, 30, 0)),
    terminalId: 'TERM0001',
    merchantId: 'MERCHANT0000001',
    pan: APPROVE_CARDS[0]!,
    expiry: '2812',
    entryMode: '051',
    ...extra,
  };
}

async function setup() {
  const clock = new ManualClock();
  const sim = new AcquirerHostSimulator({ clock });
  const { port } = await sim.start();
  const link = new TcpHostLink({
    host: '127.0.0.1',
    port,
    correlator: isoCorrelator,
    clock,
    responseTimeoutMs: 30_000,
    connectTimeoutMs: 5_000,
  });
  link.start();
  await until(() => link.isUp(), 'link up');
  cleanups.push(
    () => link.stop(),
    () => sim.stop(),
  );
  const client = new AcquirerClient(link);
  const send = (message: IsoMessage) => client.send(message);
  return { sim, client, send };
}

const reversalOf = (r: FinancialRequest, repeat = false) =>
  buildReversal(r, { repeat, transmittedAt: new Date(Date.UTC(2026, 10, 25, 10, 31, 0)) });
const voidOf = (original: FinancialRequest, amount = original.amount) =>
  request(amount, PROCESSING_CODE.void, { originalStan: original.stan });

describe('host simulator: told answers', () => {
  it('answers a told code once, to the MTI (and STAN) named, then goes back to its rules', async () => {
    const { sim, send } = await setup();
    const first = request(1_000);
    const second = request(1_000);
    sim.answerOnce({ mti: '0210', responseCode: '08', stan: second.stan });
    sim.answerOnce({ mti: '0200', responseCode: '51' });
    expect((await send(buildFinancialRequest(first))).responseCode).toBe('51');
    expect((await send(buildFinancialRequest(second))).responseCode).toBe('08');
    expect((await send(buildFinancialRequest(request(1_000)))).responseCode).toBe('00');
  });

  it('answers every request of an MTI with the code set for all traffic', async () => {
    const { sim, send } = await setup();
    sim.setBehaviour({ responseCodes: { '0210': '11', '0810': '91' } });
    expect((await send(buildFinancialRequest(request(1_000)))).responseCode).toBe('11');
    expect((await send(buildFinancialRequest(request(2_000)))).responseCode).toBe('11');
    expect(
      (await send(buildEcho({ stan: ++stanCounter, terminalId: 'TERM0001', transmittedAt: new Date() }))).responseCode,
    ).toBe('91');
    sim.setBehaviour({ responseCodes: {} });
    expect((await send(buildFinancialRequest(request(1_000)))).responseCode).toBe('00');
  });

  it('moves money for exactly the approved-class answers of the response code table', async () => {
    const { sim, send } = await setup();
    let expected = 0;
    for (const { code } of RESPONSE_CODES) {
      sim.answerOnce({ mti: '0210', responseCode: code });
      const r = request(1_000);
      const reply = await send(buildFinancialRequest(r));
      expect(reply.responseCode).toBe(code);
      if (isApprovedClass(code)) expected += code === '10' ? 500 : 1_000;
      expect(sim.totals().sales.amount, code).toBe(expected);
    }
  });

  it('answers 10 with the smaller approved amount in field 4 (half, or as told)', async () => {
    const { sim, send } = await setup();
    sim.answerOnce({ mti: '0210', responseCode: '10' });
    expect(await send(buildFinancialRequest(request(1_001)))).toMatchObject({ responseCode: '10', amount: 500 });
    sim.answerOnce({ mti: '0210', responseCode: '10', approvedAmount: 250 });
    expect(await send(buildFinancialRequest(request(1_000)))).toMatchObject({ responseCode: '10', amount: 250 });
    // The magic amount 1000.10 answers 10 by the rules.
    expect(await send(buildFinancialRequest(request(RESPONSE_CODE_AMOUNT_BASE + 10)))).toMatchObject({
      responseCode: '10',
      amount: 50_005,
    });
    expect(sim.totals().sales).toEqual({ count: 3, amount: 500 + 250 + 50_005 });
    const out = sim.ledger.filter((e) => e.dir === 'out' && e.mti === '0210').map((e) => e.movedAmount);
    expect(out).toEqual([500, 250, 50_005]);
  });

  it('echoes field 70 in the 0810', async () => {
    const { send } = await setup();
    const reply = await send(buildEcho({ stan: ++stanCounter, terminalId: 'TERM0001', transmittedAt: new Date() }));
    expect(reply.message.fields[70]).toBe('301');
  });

  it('keeps the magic cards and amounts', async () => {
    const { send } = await setup();
    for (const [pan, code] of Object.entries(DECLINE_CARDS))
      expect((await send(buildFinancialRequest(request(1_000, PROCESSING_CODE.purchase, { pan })))).responseCode).toBe(
        code,
      );
    expect((await send(buildFinancialRequest(request(RESPONSE_CODE_AMOUNT_BASE + 8)))).responseCode).toBe('08');
    expect(
      (await send(buildFinancialRequest(request(1_000, PROCESSING_CODE.purchase, { pan: '4761739001010011' }))))
        .responseCode,
    ).toBe('14');
  });
});

describe('host simulator: field 3', () => {
  it('credits a refund and counts it apart from sales', async () => {
    const { sim, send } = await setup();
    await send(buildFinancialRequest(request(5_000)));
    expect((await send(buildFinancialRequest(request(1_200, PROCESSING_CODE.refund)))).responseCode).toBe('00');
    expect(sim.totals()).toMatchObject({
      sales: { count: 1, amount: 5_000 },
      refunds: { count: 1, amount: 1_200 },
      netAmount: 3_800,
    });
    expect(sim.ledger.filter((e) => e.dir === 'out').map((e) => e.processingCode)).toEqual(['000000', '200000']);
  });

  it('cancels the original named by a void (field 62 STAN), and refuses a second void or an unknown original', async () => {
    const { sim, send } = await setup();
    const sale = request(4_000);
    await send(buildFinancialRequest(sale));
    expect((await send(buildFinancialRequest(voidOf(sale)))).responseCode).toBe('00');
    expect(sim.totals()).toMatchObject({ voids: { count: 1, amount: 4_000 }, netAmount: 0 });
    expect((await send(buildFinancialRequest(voidOf(sale)))).responseCode).toBe('12');
    expect(
      (await send(buildFinancialRequest(request(4_000, PROCESSING_CODE.void, { originalStan: 999_999 })))).responseCode,
    ).toBe('25');
    expect(sim.totals()).toMatchObject({ voids: { count: 1, amount: 4_000 }, netAmount: 0 });
  });

  it('finds a void original by its RRN in field 37', async () => {
    const { sim, send } = await setup();
    const sale = request(2_500);
    const answer = await send(buildFinancialRequest(sale));
    const byRrn = buildFinancialRequest(request(2_500, PROCESSING_CODE.void));
    byRrn.fields[37] = answer.rrn!;
    expect((await send(byRrn)).responseCode).toBe('00');
    expect(sim.totals()).toMatchObject({ voids: { count: 1, amount: 2_500 }, netAmount: 0 });
  });

  it('gives the original back when its void is reversed', async () => {
    const { sim, send } = await setup();
    const sale = request(3_000);
    await send(buildFinancialRequest(sale));
    const voiding = voidOf(sale);
    await send(buildFinancialRequest(voiding));
    expect((await send(reversalOf(voiding))).responseCode).toBe('00');
    expect(sim.totals()).toMatchObject({ netAmount: 3_000, reversals: { count: 1, amount: 3_000 } });
    expect((await send(buildFinancialRequest(voidOf(sale)))).responseCode).toBe('00');
    expect(sim.totals().netAmount).toBe(0);
  });
});

describe('host simulator: reversals and advices refused', () => {
  it('moves no money on a reversal answered with a non-success code, and takes the repeat anew', async () => {
    const { sim, send } = await setup();
    const sale = request(1_500);
    await send(buildFinancialRequest(sale));
    sim.answerOnce({ mti: '0410', responseCode: '96' });
    expect((await send(reversalOf(sale))).responseCode).toBe('96');
    expect(sim.totals()).toMatchObject({ reversals: { count: 0, amount: 0 }, netAmount: 1_500, duplicates: 0 });
    expect((await send(reversalOf(sale, true))).responseCode).toBe('00');
    expect(sim.totals()).toMatchObject({ reversals: { count: 1, amount: 1_500 }, netAmount: 0 });
    const answers = sim.ledger
      .filter((e) => e.dir === 'out' && e.mti === '0410')
      .map((e) => [e.responseCode, e.movedAmount]);
    expect(answers).toEqual([
      ['96', 0],
      ['00', 1_500],
    ]);
  });

  it('reverses a partial approval by what it approved', async () => {
    const { sim, send } = await setup();
    sim.answerOnce({ mti: '0210', responseCode: '10', approvedAmount: 400 });
    const sale = request(1_000);
    await send(buildFinancialRequest(sale));
    await send(reversalOf(sale));
    expect(sim.totals()).toMatchObject({
      sales: { count: 1, amount: 400 },
      reversals: { count: 1, amount: 400 },
      netAmount: 0,
    });
  });

  it('captures no advice answered 91, and captures its repeat', async () => {
    const { sim, send } = await setup();
    const offline = { ...request(2_200), approvalCode: 'Y10001' };
    sim.answerOnce({ mti: '0230', responseCode: '91' });
    expect((await send(buildAdvice(offline, { repeat: false }))).responseCode).toBe('91');
    expect(sim.totals()).toMatchObject({ advices: { count: 0, amount: 0 }, adviceCount: 0 });
    expect((await send(buildAdvice(offline, { repeat: true }))).responseCode).toBe('00');
    expect(sim.totals()).toMatchObject({ advices: { count: 1, amount: 2_200 }, netAmount: 2_200 });
  });
});
