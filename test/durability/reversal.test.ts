/**
 * Pre-stored reversals end to end: the assembled terminal, the embedded host simulator on loopback and a ManualClock.
 * Whatever leaves an authorization unanswered (timeout, dropped link, garbled, late or mismatched answer, a cancel,
 * a crash) leaves a reversal that the forwarder brings to the host exactly once; the sale is never captured.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { backoffDelay } from '../../hal/backoff.js';
import { ManualClock } from '../../hal/clock.js';
import { Journal } from '../../src/journal/index.js';
import { until } from '../support/wait.js';
import {
  AMOUNT,
  FORWARDING,
  RESPONSE_TIMEOUT_MS,
  anomalyCodes,
  at,
  bootRig,
  hostReceived,
  journalPath,
  newDataDir,
  reversalAcknowledged,
  stopAll,
  type Rig,
} from './harness.js';

afterEach(stopAll);

/** The sale's reversal reached the host once, was acknowledged, and the host does not count the sale. */
async function expectReversedOnce(rig: Rig, result: Record<string, unknown>, amount: number): Promise<void> {
  const txnRef = result['txnRef'] as string;
  const stan = rig.app.journal.transactions.get(txnRef)!.stan!;
  expect(stan).toBeGreaterThan(0);
  await reversalAcknowledged(rig, txnRef);
  const reversal = rig.app.journal.reversals.forTransaction(txnRef)!;
  expect(reversal).toMatchObject({ state: 'acknowledged', stan, amount, responseCode: '00' });
  const events = rig.app.journal.transactions.events(txnRef);
  expect(events.filter((e) => e.state === 'reversed')).toEqual([
    expect.objectContaining({ detail: { responseCode: '00' } }),
  ]);
  // The sale never turns approved in the journal.
  expect(events.map((e) => e.state)).not.toContain('approved');
  expect(rig.app.journal.transactions.get(txnRef)!.outcome).toBe(result['outcome']);

  const reversals = rig.received('0400').concat(rig.received('0401'));
  expect(reversals.map((e) => [e.mti, Number(e.stan)])).toEqual([['0400', stan]]);
  expect(rig.app.hostSim!.totals()).toMatchObject({
    approvedCount: 0,
    approvedAmount: 0,
    reversedCount: 1,
    duplicates: 0,
  });
  expect(rig.app.journal.reversals.pending()).toEqual([]);
  expect(await rig.status()).toMatchObject({ pendingReversals: 0 });
}

describe('a reversal for every authorization left unanswered', () => {
  it('response timeout: failed E101, reversal pending, then 0400 acknowledged and the sale reversed at the host', async () => {
    const rig = await bootRig();
    const sale = rig.sale(AMOUNT.silent);
    const request = await hostReceived(rig, '0200', AMOUNT.silent);

    // Armed before the request left, still armed while the host is silent.
    const txnRef = rig.app.terminal.status().transaction!.txnRef;
    expect(rig.app.journal.reversals.forTransaction(txnRef)).toMatchObject({
      state: 'armed',
      stan: Number(request.stan),
    });

    await rig.clock.advance(RESPONSE_TIMEOUT_MS - 1);
    expect(rig.app.terminal.status().transaction?.txnRef).toBe(txnRef);
    await rig.clock.advance(1);
    const result = await sale;
    expect(result).toMatchObject({
      type: 'result',
      outcome: 'failed',
      stan: Number(request.stan),
      anomaly: { code: 'E101', name: 'host-timeout' },
    });
    expect(rig.app.journal.transactions.get(txnRef)).toMatchObject({ outcome: 'failed', anomalyCode: 'E101' });
    expect(anomalyCodes(rig, txnRef)).toEqual(['E101']);

    await expectReversedOnce(rig, result, AMOUNT.silent);
    // The reversal went as soon as the sale failed, not on the next periodic pass.
    expect(at(rig.received('0400')[0]!) - at(request)).toBe(RESPONSE_TIMEOUT_MS);
  });

  it('link drop: failed E103 link-lost, the reversal goes when the link is back', async () => {
    const rig = await bootRig();
    const sale = rig.sale(AMOUNT.close);
    await hostReceived(rig, '0200', AMOUNT.close);
    const result = await sale;
    expect(result).toMatchObject({ outcome: 'failed', anomaly: { code: 'E103', name: 'link-lost' } });
    const txnRef = result['txnRef'] as string;
    expect(rig.app.journal.reversals.forTransaction(txnRef)).toMatchObject({ state: 'pending' });
    expect(rig.received('0400')).toEqual([]);

    await expectReversedOnce(rig, result, AMOUNT.close);
  });

  it('garbled response: journaled E605, then the timeout E101 and the reversal', async () => {
    const rig = await bootRig();
    const sale = rig.sale(AMOUNT.garbled);
    await hostReceived(rig, '0200', AMOUNT.garbled);
    await until(() => anomalyCodes(rig).includes('E605'), 'garbled answer journaled');
    // Unreadable bytes are not an answer: the sale is still waiting.
    const txnRef = rig.app.terminal.status().transaction!.txnRef;
    expect(rig.app.journal.reversals.forTransaction(txnRef)).toMatchObject({ state: 'armed' });

    await rig.clock.advance(RESPONSE_TIMEOUT_MS);
    const result = await sale;
    expect(result).toMatchObject({ txnRef, outcome: 'failed', anomaly: { code: 'E101' } });
    await expectReversedOnce(rig, result, AMOUNT.garbled);
  });

  it('mismatched response (wrong amount): failed E606 mismatched-response, reversal sent', async () => {
    const rig = await bootRig();
    const result = await rig.sale(AMOUNT.wrongAmount);
    expect(result).toMatchObject({ outcome: 'failed', anomaly: { code: 'E606', name: 'mismatched-response' } });
    expect(result['approvalCode']).toBeUndefined();
    expect(rig.app.journal.reversals.forTransaction(result['txnRef'] as string)).toMatchObject({ state: 'pending' });
    await expectReversedOnce(rig, result, AMOUNT.wrongAmount);
  });

  it('cancel by the cash register while waiting for the host: cancelled E403, reversal sent', async () => {
    const rig = await bootRig();
    const sale = rig.sale(AMOUNT.silent);
    await hostReceived(rig, '0200', AMOUNT.silent);
    expect(await rig.client.call({ cmd: 'cancel' })).toMatchObject({ type: 'done', cmd: 'cancel' });
    const result = await sale;
    expect(result).toMatchObject({ outcome: 'cancelled', anomaly: { code: 'E403' } });
    const txnRef = result['txnRef'] as string;
    await until(
      () => rig.app.journal.reversals.forTransaction(txnRef)?.state === 'pending',
      'reversal pending after the cancel',
    );
    expect(rig.app.journal.transactions.get(txnRef)).toMatchObject({ outcome: 'cancelled' });
    await expectReversedOnce(rig, result, AMOUNT.silent);
  });

  it('late approval: times out at 30 s; the 0210 at 35 s is journaled E608 and never approves; the reversal stands', async () => {
    const rig = await bootRig();
    const sale = rig.sale(AMOUNT.late);
    const request = await hostReceived(rig, '0200', AMOUNT.late);
    await rig.clock.advance(RESPONSE_TIMEOUT_MS);
    const result = await sale;
    expect(result).toMatchObject({ outcome: 'failed', anomaly: { code: 'E101' } });
    const txnRef = result['txnRef'] as string;
    await reversalAcknowledged(rig, txnRef);

    await rig.clock.advance(5_000);
    await until(() => anomalyCodes(rig).includes('E608'), 'late answer journaled');
    const late = rig.app.journal.anomalies.list({ code: 'E608' });
    expect(late).toHaveLength(1);
    expect(late[0]!.message).toMatch(/late response/);
    const answer = rig.ledger().find((e) => e.dir === 'out' && e.mti === '0210' && e.stan === request.stan)!;
    expect(at(answer) - at(request)).toBe(35_000);
    expect(answer.responseCode).toBe('00');

    expect(rig.app.journal.transactions.get(txnRef)).toMatchObject({ outcome: 'failed', approvalCode: null });
    await expectReversedOnce(rig, result, AMOUNT.late);
  });
});

describe('the forwarder', () => {
  /** A sale the host never answers, with the host silent to everything from then on; resolves once the 0400 left. */
  async function unansweredReversal(rig: Rig): Promise<string> {
    const sale = rig.sale(AMOUNT.silent);
    await hostReceived(rig, '0200', AMOUNT.silent);
    rig.app.hostSim!.setBehaviour({ misbehaviour: 'silent' });
    await rig.clock.advance(RESPONSE_TIMEOUT_MS);
    const result = await sale;
    await until(() => rig.received('0400').length === 1, 'first reversal sent');
    return result['txnRef'] as string;
  }

  const ceiling = (attempt: number) => Math.min(FORWARDING.maxDelayMs, FORWARDING.initialDelayMs * 2 ** (attempt - 1));
  const reversalsSent = (rig: Rig) =>
    rig
      .received('0400')
      .concat(rig.received('0401'))
      .sort((a, b) => at(a) - at(b));

  it('repeats an unanswered reversal as 0401, never before its backoff time, until the host acknowledges it once', async () => {
    const rig = await bootRig();
    const txnRef = await unansweredReversal(rig);
    const failures = 5;
    // Second by second, as long as it takes (the periodic pass included), until the sixth send.
    for (let step = 0; step < 1_000 && reversalsSent(rig).length <= failures; step++) {
      await rig.clock.advance(1_000);
      await new Promise((resolve) => setTimeout(resolve, 3));
      const sent = reversalsSent(rig);
      // After the fifth unanswered attempt the host answers again.
      if (sent.length === failures && rig.clock.now() >= at(sent[failures - 1]!) + RESPONSE_TIMEOUT_MS) {
        rig.app.hostSim!.setBehaviour({ misbehaviour: 'none' });
      }
    }
    await until(() => rig.app.journal.reversals.forTransaction(txnRef)!.state === 'acknowledged', 'acknowledged');

    const sent = reversalsSent(rig);
    expect(sent.map((e) => e.mti)).toEqual(['0400', '0401', '0401', '0401', '0401', '0401']);
    for (let attempt = 1; attempt <= failures; attempt++) {
      const failedAt = at(sent[attempt - 1]!) + RESPONSE_TIMEOUT_MS;
      expect(at(sent[attempt]!) - failedAt, `wait after failed attempt ${attempt}`).toBeGreaterThanOrEqual(
        ceiling(attempt) / 2,
      );
    }
    expect(rig.app.journal.reversals.forTransaction(txnRef)).toMatchObject({
      state: 'acknowledged',
      responseCode: '00',
      nextAttemptAt: null,
    });
    expect(rig.app.journal.transactions.events(txnRef).filter((e) => e.state === 'reversed')).toHaveLength(1);
    // The host reversed once and counted every repeat as a duplicate.
    expect(rig.app.hostSim!.totals()).toMatchObject({
      approvedCount: 0,
      approvedAmount: 0,
      reversedCount: 1,
      duplicates: failures,
    });

    // Nothing more is sent once acknowledged.
    await rig.clock.advance(FORWARDING.intervalMs * 2);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(reversalsSent(rig)).toHaveLength(failures + 1);
  });

  it('retries at its backoff time: growing from initialDelayMs/2, capped at maxDelayMs, without waiting for the periodic pass', async () => {
    const rig = await bootRig();
    const txnRef = await unansweredReversal(rig);
    const delays: number[] = [];
    const failures = 5;
    for (let attempt = 1; attempt <= failures; attempt++) {
      const sentAt = at(reversalsSent(rig)[attempt - 1]!);
      // The host stays silent: the attempt fails at the response timeout.
      await rig.clock.advance(sentAt + RESPONSE_TIMEOUT_MS - rig.clock.now());
      await until(
        () => /^timeout/.test(rig.app.journal.reversals.forTransaction(txnRef)!.reason ?? ''),
        `attempt ${attempt} recorded as failed`,
      );
      const row = rig.app.journal.reversals.forTransaction(txnRef)!;
      expect(row).toMatchObject({ state: 'pending', attempts: attempt });
      const failedAt = rig.clock.now();
      const delay = row.nextAttemptAt! - failedAt;
      expect(delay).toBeGreaterThanOrEqual(ceiling(attempt) / 2);
      expect(delay).toBeLessThanOrEqual(ceiling(attempt));
      delays.push(delay);

      if (attempt === failures) rig.app.hostSim!.setBehaviour({ misbehaviour: 'none' });
      await rig.clock.advance(delay - 1);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(reversalsSent(rig)).toHaveLength(attempt);
      await rig.clock.advance(1);
      await until(() => reversalsSent(rig).length === attempt + 1, `retry ${attempt} sent at its backoff time`, 1_000);
      const retry = reversalsSent(rig)[attempt]!;
      expect(retry.mti).toBe('0401');
      expect(at(retry)).toBe(failedAt + delay);
    }
    // Each delay sits in its own window [ceiling/2, ceiling]; the windows grow until the cap (checked above), so the
    // delays grow up to the cap, where jitter may order them either way.
    expect(delays.slice(0, 3)).toEqual([...delays.slice(0, 3)].sort((a, b) => a - b));
    expect(Math.max(...delays)).toBeLessThanOrEqual(FORWARDING.maxDelayMs);
    await until(() => rig.app.journal.reversals.forTransaction(txnRef)!.state === 'acknowledged', 'acknowledged');
    expect(rig.app.hostSim!.totals()).toMatchObject({ reversedCount: 1, duplicates: failures });
  });

  it('sends a pending reversal before the next authorization', async () => {
    const rig = await bootRig();
    const first = rig.sale(AMOUNT.silent);
    await hostReceived(rig, '0200', AMOUNT.silent);
    rig.app.hostSim!.setBehaviour({ misbehaviour: 'silent' });
    await rig.clock.advance(RESPONSE_TIMEOUT_MS);
    const failed = await first;
    // The first reversal attempt is unanswered: still owed when the next sale starts.
    await until(() => rig.received('0400').length === 1, 'reversal sent');
    await rig.clock.advance(RESPONSE_TIMEOUT_MS);
    await until(
      () => /^timeout/.test(rig.app.journal.reversals.forTransaction(failed['txnRef'] as string)!.reason ?? ''),
      'reversal attempt failed',
    );
    expect(rig.app.journal.reversals.pending()).toHaveLength(1);
    rig.app.hostSim!.setBehaviour({ misbehaviour: 'none' });

    const second = await rig.sale(1_234);
    expect(second).toMatchObject({ outcome: 'approved' });
    expect(rig.app.journal.reversals.forTransaction(failed['txnRef'] as string)).toMatchObject({
      state: 'acknowledged',
    });
    const order = rig
      .ledger()
      .filter((e) => e.dir === 'in' && e.mti !== '0800')
      .map((e) => `${e.mti}:${Number(e.stan)}`);
    expect(order).toEqual([
      `0200:${failed['stan']}`,
      `0400:${failed['stan']}`,
      `0401:${failed['stan']}`,
      `0200:${second['stan']}`,
    ]);
    expect(rig.app.hostSim!.totals()).toMatchObject({ approvedCount: 1, approvedAmount: 1_234, reversedCount: 1 });
  });
});

describe('crash recovery', () => {
  it('treats an armed reversal as sent: the transaction fails E104, E602 is journaled, the reversal reaches the host', async () => {
    const dataDir = newDataDir();
    const clock = new ManualClock();
    // What a process killed between arming the reversal and the answer leaves behind.
    const journal = Journal.open(journalPath(dataDir), { now: () => clock.now() });
    journal.transactions.begin({ txnRef: 'T-ARMED', kind: 'sale', amount: 4_200, currency: '978' });
    const armedStan = journal.counters.nextStan();
    journal.transactions.recordState('T-ARMED', 'sending', {
      stan: armedStan,
      maskedPan: '476173******0010',
      entryMode: 'chip',
    });
    journal.reversals.arm({
      txnRef: 'T-ARMED',
      stan: armedStan,
      originalMti: '0200',
      processingCode: '000000',
      amount: 4_200,
      currency: '978',
      transmittedAt: clock.now(),
      terminalId: 'SIM00001',
      merchantId: 'SIMMERCHANT0001',
      maskedPan: '476173******0010',
    });
    // And one whose approval was committed just before the kill: the answer stands.
    journal.transactions.begin({ txnRef: 'T-ANSWERED', kind: 'sale', amount: 1_500, currency: '978' });
    const answeredStan = journal.counters.nextStan();
    journal.transactions.recordState('T-ANSWERED', 'sending', { stan: answeredStan });
    journal.reversals.arm({
      txnRef: 'T-ANSWERED',
      stan: answeredStan,
      originalMti: '0200',
      processingCode: '000000',
      amount: 1_500,
      currency: '978',
      transmittedAt: clock.now(),
      terminalId: 'SIM00001',
      merchantId: 'SIMMERCHANT0001',
    });
    journal.recordAuthorization('T-ANSWERED', 'authorized', {
      stan: answeredStan,
      responseCode: '00',
      approvalCode: 'A00042',
    });
    journal.close();

    const rig = await bootRig({ dataDir, clock });
    const { journal: j } = rig.app;
    expect(j.transactions.get('T-ARMED')).toMatchObject({ outcome: 'failed', anomalyCode: 'E104' });
    expect(j.transactions.events('T-ARMED').map((e) => e.state)).toContain('recovered');
    expect(j.transactions.get('T-ANSWERED')).toMatchObject({
      outcome: 'approved',
      receiptStatus: 'pending',
      approvalCode: 'A00042',
    });
    expect(j.reversals.forTransaction('T-ANSWERED')).toMatchObject({ state: 'cleared' });
    const recovered = j.anomalies.list({ code: 'E602' });
    expect(recovered.map((a) => a.txnRef).sort()).toEqual(['T-ANSWERED', 'T-ARMED']);
    expect(j.transactions.inFlight()).toEqual([]);

    await reversalAcknowledged(rig, 'T-ARMED');
    expect(j.transactions.events('T-ARMED').filter((e) => e.state === 'reversed')).toHaveLength(1);
    const reversals = rig.received('0400').concat(rig.received('0401'));
    expect(reversals.map((e) => [e.mti, Number(e.stan), e.amount])).toEqual([['0400', armedStan, 4_200]]);
    // The host never had the sale, so it has nothing to capture.
    expect(rig.app.hostSim!.totals()).toMatchObject({ approvedCount: 0, approvedAmount: 0 });

    // The next sale takes a fresh STAN.
    const next = await rig.sale(700);
    expect(next).toMatchObject({ outcome: 'approved' });
    expect(next['stan']).toBeGreaterThan(answeredStan);
  });
});

describe('backoff policy used by the forwarder', () => {
  it('is equal jitter between half and all of the capped ceiling', () => {
    const policy = { initialDelayMs: FORWARDING.initialDelayMs, maxDelayMs: FORWARDING.maxDelayMs };
    expect([1, 2, 3, 4, 5, 9].map((n) => backoffDelay(n, policy, () => 0))).toEqual([
      500, 1_000, 2_000, 4_000, 4_000, 4_000,
    ]);
    expect([1, 2, 3, 4, 5, 9].map((n) => backoffDelay(n, policy, () => 0.999_999))).toEqual([
      1_000, 2_000, 4_000, 8_000, 8_000, 8_000,
    ]);
  });
});
