/**
 * Every field 39 class as the terminal meets it, through the register, the terminal and the host simulator told what
 * to answer: approved-class answers are honoured (never a decline), a partial approval waits for the register, each
 * decline keeps its meaning in the journal and the fleet's pick-up alert fires on a stolen card.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { anomalyByCode, anomalyForResponse } from '../../src/anomaly/index.js';
import { AlertEngine, type Alert } from '../../src/fleet/alerts.js';
import { decodeTelemetry, type TerminalMessage } from '../../src/fleet/decode.js';
import { FleetState } from '../../src/fleet/state.js';
import { RESPONSE_CODES } from '../../src/iso8583/index.js';
import { Journal } from '../../src/journal/index.js';
import { anomalyEventBody } from '../../src/telemetry/messages.js';
import { wire } from '../../src/telemetry/wire.js';
import type { EcrMessage } from '../../src/ecr/client.js';
import { ManualClock } from '../../hal/clock.js';
import {
  bootRig,
  journalPath,
  newDataDir,
  printedText,
  reversalAcknowledged,
  stopAll,
  type Rig,
} from '../durability/harness.js';
import { header, topic } from '../fleet/support.js';
import { until } from '../support/wait.js';

afterEach(stopAll);

const ofClass = (...classes: string[]) => RESPONSE_CODES.filter((r) => classes.includes(r.class)).map((r) => r.code);

/** A sale the host answers with `code`; a partial approval is answered by `decide` (confirm or cancel). */
async function saleAnswered(rig: Rig, code: string, amount: number, decide: 'confirm' | 'cancel' = 'confirm') {
  rig.app.hostSim!.answerOnce({ mti: '0210', responseCode: code });
  const seen: EcrMessage[] = [];
  const result = await rig.client.call({ cmd: 'sale', amount }, (m) => {
    seen.push(m);
    if (m.type === 'state' && m['state'] === 'waitingForCard') void rig.client.call({ cmd: 'sim.card', name: 'visa' });
    if (m.type === 'state' && m['state'] === 'confirmingDuplicate') void rig.client.call({ cmd: 'confirm' });
    if (m.type === 'partial') void rig.client.call({ cmd: decide });
  });
  return { result, seen, row: rig.app.journal.transactions.get(result['txnRef'] as string)! };
}

describe('approved-class answers are honoured', () => {
  it('approves on every approved-class code (00, 08, 11, 16, Y1, Y3), with no reversal owed', async () => {
    const rig = await bootRig();
    const codes = ofClass('approved');
    expect(codes).toEqual(expect.arrayContaining(['00', '08', '11', '16']));
    let expected = 0;
    for (const [i, code] of codes.entries()) {
      const amount = 1_000 + i;
      const { result, row } = await saleAnswered(rig, code, amount);
      expect(result, code).toMatchObject({ outcome: 'approved', responseCode: code });
      expect(row, code).toMatchObject({ outcome: 'approved', responseCode: code });
      expect(rig.app.journal.reversals.forTransaction(row.txnRef)?.state, code).toBe('cleared');
      expected += amount;
    }
    expect(rig.app.hostSim!.totals().sales).toEqual({ count: codes.length, amount: expected });
  });

  it('boot recovery completes an answered 08 as approved, not declined', async () => {
    const dataDir = newDataDir();
    const journal = Journal.open(journalPath(dataDir));
    journal.transactions.begin({ txnRef: 'T-08', kind: 'sale', amount: 990, currency: '978' });
    const stan = journal.counters.nextStan();
    journal.transactions.recordState('T-08', 'sending', { stan });
    journal.reversals.arm({
      txnRef: 'T-08',
      stan,
      originalMti: '0200',
      processingCode: '000000',
      amount: 990,
      currency: '978',
      transmittedAt: 0,
      terminalId: 'TERM0001',
      merchantId: 'MERCHANT0000001',
    });
    journal.recordAuthorization('T-08', 'authorized', { stan, responseCode: '08', approvalCode: 'A00001' });
    journal.close();
    const rig = await bootRig({ dataDir });
    expect(rig.app.journal.transactions.get('T-08')).toMatchObject({ outcome: 'approved', receiptStatus: 'pending' });
  });
});

describe('partial approval (10)', () => {
  it('tells the register, and on confirm stands for the approved amount in the result, the journal and the receipt', async () => {
    const rig = await bootRig();
    const { result, seen, row } = await saleAnswered(rig, '10', 10_000, 'confirm');
    expect(seen.find((m) => m.type === 'partial')).toMatchObject({
      requestedAmount: 10_000,
      approvedAmount: 5_000,
      currency: '978',
    });
    expect(result).toMatchObject({
      outcome: 'approved',
      amount: 5_000,
      requestedAmount: 10_000,
      approvedAmount: 5_000,
      responseCode: '10',
    });
    expect(row).toMatchObject({ outcome: 'approved', amount: 5_000 });
    expect(rig.app.journal.reversals.forTransaction(row.txnRef)?.state).toBe('cleared');
    expect(printedText(rig)).toContain('50.00');
    expect(printedText(rig)).not.toContain('100.00');
    expect(rig.app.hostSim!.totals().netAmount).toBe(5_000);
  });

  it('reverses when the register does not decide within partialApprovalTimeoutMs (the customer did not agree)', async () => {
    const rig = await bootRig();
    rig.app.hostSim!.answerOnce({ mti: '0210', responseCode: '10' });
    let asked = false;
    const pending = rig.client.call({ cmd: 'sale', amount: 8_000 }, (m) => {
      if (m.type === 'state' && m['state'] === 'waitingForCard')
        void rig.client.call({ cmd: 'sim.card', name: 'visa' });
      if (m.type === 'partial') asked = true;
    });
    await until(() => asked, 'partial approval asked');
    await rig.clock.advance(rig.config.transaction.partialApprovalTimeoutMs - 1);
    expect(rig.app.terminal.status().transaction?.state).toBe('confirmingPartial');
    await rig.clock.advance(1);
    const result = await pending;
    expect(result).toMatchObject({
      outcome: 'cancelled',
      requestedAmount: 8_000,
      approvedAmount: 4_000,
      anomaly: { code: 'E403' },
    });
    await reversalAcknowledged(rig, result['txnRef'] as string);
    expect(rig.app.hostSim!.totals()).toMatchObject({ reversals: { count: 1, amount: 4_000 }, netAmount: 0 });
  });

  it('answers a register retrying the same request id from the journal, with the approved amount', async () => {
    const rig = await bootRig();
    rig.app.hostSim!.answerOnce({ mti: '0210', responseCode: '10' });
    const first = await rig.client.call({ id: 'REG-P1', cmd: 'sale', amount: 6_000 }, (m) => {
      if (m.type === 'state' && m['state'] === 'waitingForCard')
        void rig.client.call({ cmd: 'sim.card', name: 'visa' });
      if (m.type === 'partial') void rig.client.call({ cmd: 'confirm' });
    });
    expect(first).toMatchObject({ outcome: 'approved', amount: 3_000 });
    expect(await rig.client.call({ id: 'REG-P1', cmd: 'sale', amount: 6_000 })).toMatchObject({
      type: 'result',
      replayed: true,
      outcome: 'approved',
      amount: 3_000,
      stan: first['stan'],
    });
    expect(rig.app.hostSim!.totals().sales).toEqual({ count: 1, amount: 3_000 });
  });

  it('on cancel reverses the approved part at the host', async () => {
    const rig = await bootRig();
    const { result, row } = await saleAnswered(rig, '10', 10_000, 'cancel');
    expect(result).toMatchObject({ outcome: 'cancelled', requestedAmount: 10_000, approvedAmount: 5_000 });
    await reversalAcknowledged(rig, row.txnRef);
    expect(rig.app.hostSim!.totals()).toMatchObject({
      sales: { count: 1, amount: 5_000 },
      reversals: { count: 1, amount: 5_000 },
      netAmount: 0,
    });
  });
});

describe('a partial approval not taken reverses what the host approved', () => {
  // Not half of the amount asked: the reversal must carry exactly what the host gave back.
  const REQUESTED = 9_000;
  const APPROVED = 3_700;
  for (const how of ['cancel', 'timeout'] as const) {
    it(`on ${how}: the 0400's field 4 and the journal's reversal row are the approved ${APPROVED}, not the ${REQUESTED} asked`, async () => {
      const rig = await bootRig();
      rig.app.hostSim!.answerOnce({ mti: '0210', responseCode: '10', approvedAmount: APPROVED });
      let asked = false;
      const pending = rig.client.call({ cmd: 'sale', amount: REQUESTED }, (m) => {
        if (m.type === 'state' && m['state'] === 'waitingForCard')
          void rig.client.call({ cmd: 'sim.card', name: 'visa' });
        if (m.type === 'partial') {
          asked = true;
          if (how === 'cancel') void rig.client.call({ cmd: 'cancel' });
        }
      });
      await until(() => asked, 'partial approval asked');
      if (how === 'timeout') await rig.clock.advance(rig.config.transaction.partialApprovalTimeoutMs);
      const result = await pending;
      expect(result).toMatchObject({ outcome: 'cancelled', requestedAmount: REQUESTED, approvedAmount: APPROVED });
      const txnRef = result['txnRef'] as string;
      await reversalAcknowledged(rig, txnRef);
      const stan = result['stan'] as number;
      const reversals = rig.received('0400').filter((e) => Number(e.stan) === stan);
      expect(reversals.map((e) => e.amount)).toEqual([APPROVED]);
      expect(rig.app.journal.reversals.forTransaction(txnRef)).toMatchObject({
        state: 'acknowledged',
        amount: APPROVED,
      });
      expect(rig.app.hostSim!.totals()).toMatchObject({
        sales: { count: 1, amount: APPROVED },
        reversals: { count: 1, amount: APPROVED },
        netAmount: 0,
      });
    });
  }
});

describe('declines keep their meaning', () => {
  it('journals each non-approved code with the anomaly its class and code name (51 E202, 43 E206, 91/96 E105, 30/94 E609)', async () => {
    const rig = await bootRig();
    expect(anomalyForResponse('51')?.code).toBe('E202');
    expect(anomalyForResponse('43')?.code).toBe('E206');
    expect(anomalyForResponse('91')?.code).toBe('E105');
    expect(anomalyForResponse('96')?.code).toBe('E105');
    expect(anomalyForResponse('30')?.code).toBe('E609');
    expect(anomalyForResponse('94')?.code).toBe('E609');
    const codes = ofClass('declined', 'refer', 'pick-up', 'retry-later', 'error');
    for (const [i, code] of codes.entries()) {
      const { result, row } = await saleAnswered(rig, code, 2_000 + i);
      const expected = anomalyForResponse(code)!.code;
      expect(result, code).toMatchObject({ outcome: 'declined', responseCode: code, anomaly: { code: expected } });
      expect(row.anomalyCode, code).toBe(expected);
      expect(rig.app.journal.reversals.forTransaction(row.txnRef)?.state, code).toBe('cleared');
    }
    expect(rig.app.hostSim!.totals().netAmount).toBe(0);
  });

  it('does not trust an unknown code: the sale fails and is reversed', async () => {
    const rig = await bootRig();
    const { result, row } = await saleAnswered(rig, 'Q7', 3_000);
    expect(result).toMatchObject({ outcome: 'failed' });
    expect(rig.app.journal.reversals.forTransaction(row.txnRef)?.state).toMatch(/pending|acknowledged/);
    expect(rig.app.journal.anomalies.list({ code: 'E607' })).toHaveLength(1);
  });

  it('a stolen card (43) raises E206 and the fleet pick-up alert fires on its event', async () => {
    const rig = await bootRig();
    const result = await rig.sale(4_300, 'stolen-card');
    expect(result).toMatchObject({ outcome: 'declined', responseCode: '43', anomaly: { code: 'E206' } });
    const row = rig.app.journal.anomalies.list({ code: 'E206' })[0]!;
    // The event the terminal publishes for that journal entry, decoded by the fleet and run through its alert rules.
    const body = anomalyEventBody(
      {
        definition: anomalyByCode(row.code)!,
        row,
        context: { txnRef: row.txnRef ?? '', ...(row.maskedPan ? { maskedPan: row.maskedPan } : {}) },
      },
      row.at,
    );
    const clock = new ManualClock(row.at);
    const state = new FleetState({ clock, healthIntervalMs: 60_000 });
    const alerts: Alert[] = [];
    const engine = new AlertEngine({
      rules: [{ type: 'event-burst', name: 'pick-up', code: 'E206', moreThan: 0, withinMinutes: 60 }],
      state,
      clock,
      onAlert: (a) => alerts.push(a),
    });
    const bytes = wire.Event.encode({
      header: header({ seq: 1, sentAtMs: row.at, terminalId: 'TERM0042' }),
      ...body,
    }).finish();
    const message = decodeTelemetry(topic('event', 'TERM0042'), bytes) as TerminalMessage;
    engine.observe(message, state.ingest(message));
    engine.stop();
    expect(alerts).toMatchObject([{ state: 'raised', rule: 'pick-up', terminalId: 'TERM0042' }]);
  });
});
