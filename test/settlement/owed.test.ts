import { afterEach, describe, expect, it } from 'vitest';
import { reconcile } from '../support/reconcile.js';
import {
  AMOUNT,
  RESPONSE_TIMEOUT_MS,
  bootRig,
  hostBack,
  hostDown,
  hostReceived,
  stopAll,
} from '../durability/harness.js';
import { settle, totalsFromLedger, withClockRunning } from './support.js';

afterEach(stopAll);

/** A sale the host approves but whose answer never comes: the terminal owes its reversal. */
async function unansweredSale(rig: Awaited<ReturnType<typeof bootRig>>): Promise<string> {
  const sale = rig.sale(AMOUNT.silent);
  await hostReceived(rig, '0200', AMOUNT.silent);
  const txnRef = rig.app.terminal.status().transaction!.txnRef;
  await rig.clock.advance(RESPONSE_TIMEOUT_MS);
  expect((await sale).outcome).toBe('failed');
  return txnRef;
}

describe('nothing owed stays behind a settlement', () => {
  it('forwards an owed reversal before the 0500, and the totals leave the reversed sale out on both sides', async () => {
    const rig = await bootRig();
    const tid = rig.config.terminal.id;
    expect((await rig.sale(1_000)).outcome).toBe('approved');
    // The host refuses reversals for now (91): the reversal stays owed.
    rig.app.hostSim!.setBehaviour({ responseCodes: { '0410': '91' } });
    const txnRef = await unansweredSale(rig);
    for (let i = 0; i < 20 && rig.received('0400').length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(rig.app.journal.reversals.forTransaction(txnRef)?.state).toBe('pending');

    rig.app.hostSim!.setBehaviour({ responseCodes: {} });
    const reply = await settle(rig);
    expect(reply).toMatchObject({ type: 'done', uploaded: 0 });
    expect(rig.app.journal.reversals.forTransaction(txnRef)?.state).toBe('acknowledged');

    // In the host's ledger the acknowledged reversal comes before the settlement request.
    const ledger = rig.ledger();
    const lastAck = ledger.findLastIndex((e) => e.dir === 'out' && e.mti === '0410' && e.responseCode === '00');
    const settlement = ledger.findIndex((e) => e.dir === 'in' && e.mti === '0500');
    expect(lastAck).toBeGreaterThanOrEqual(0);
    expect(lastAck).toBeLessThan(settlement);
    const fromLedger = totalsFromLedger(ledger);
    expect(fromLedger.debits).toEqual({ count: 1, amount: 1_000 });
    expect(rig.app.hostSim!.settlements[0]).toMatchObject({
      responseCode: '00',
      terminalTotals: { debitsNumber: 1, debitsAmount: 1_000 },
    });
    expect(rig.app.hostSim!.batchTotals(tid).size).toBe(0);
    expect(reconcile(rig.ledger(), rig.app.journal).problems).toEqual([]);
  });

  it('host away: the settlement waits (bounded tries on the Clock), answers host-unavailable with what is owed, and settles once the host is back', async () => {
    const rig = await bootRig();
    expect((await rig.sale(2_000)).outcome).toBe('approved');
    await hostDown(rig);
    expect((await rig.sale(1_500)).outcome).toBe('offline-approved');
    const batch = rig.app.journal.batches.current().number;

    const reply = await withClockRunning(rig, settle(rig), 5_000);
    expect(reply).toMatchObject({ type: 'error', code: 'host-unavailable' });
    expect(String(reply['message'])).toContain('1 advice owed');
    expect(rig.app.journal.batches.current()).toMatchObject({ number: batch, state: 'open' });
    expect(rig.app.journal.batches.current().reason).toContain('1 advice owed');
    expect(rig.received('0500')).toHaveLength(0);
    // Sales go on meanwhile, in the same batch.
    expect((await rig.sale(900)).outcome).toBe('offline-approved');

    await hostBack(rig);
    const again = await settle(rig);
    expect(again).toMatchObject({ type: 'done', batchNumber: batch });
    const ledger = rig.ledger();
    const lastAdvice = ledger.findLastIndex((e) => e.dir === 'out' && e.mti === '0230');
    expect(lastAdvice).toBeLessThan(ledger.findIndex((e) => e.dir === 'in' && e.mti === '0500'));
    const fromLedger = totalsFromLedger(ledger);
    expect(fromLedger.debits).toEqual({ count: 3, amount: 4_400 });
    expect(rig.app.hostSim!.settlements.at(-1)).toMatchObject({
      responseCode: '00',
      terminalTotals: { debitsNumber: 3, debitsAmount: 4_400 },
    });
    expect(reconcile(rig.ledger(), rig.app.journal).problems).toEqual([]);
  });

  it('a reversal the host refused for good is money owed: the batch does not close', async () => {
    const rig = await bootRig();
    rig.app.hostSim!.setBehaviour({ responseCodes: { '0410': '05' } });
    const txnRef = await unansweredSale(rig);
    for (let i = 0; i < 50 && rig.app.journal.setAsideTotals().reversals.count === 0; i++)
      await new Promise((r) => setTimeout(r, 5));
    expect(rig.app.journal.reversals.forTransaction(txnRef)?.state).toBe('pending');

    const reply = await settle(rig);
    expect(reply).toMatchObject({ type: 'error', code: 'money-owed' });
    expect(String(reply['message'])).toContain('1 reversal set aside owed');
    expect(rig.received('0500')).toHaveLength(0);
    expect(rig.app.journal.batches.current().state).toBe('open');
  });
});
