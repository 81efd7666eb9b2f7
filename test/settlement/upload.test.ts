import { afterEach, describe, expect, it } from 'vitest';
import { reconcile } from '../support/reconcile.js';
import { type Rig, anomalyCodes, bootRig, stopAll } from '../durability/harness.js';
import { settle, totalsFromLedger } from './support.js';

afterEach(stopAll);

async function sales(rig: Rig, amounts: number[]): Promise<void> {
  for (const amount of amounts) expect((await rig.sale(amount)).outcome).toBe('approved');
}

/** The 0320/0321 the host took (not answered from memory), by STAN. */
function uploadsByStan(rig: Rig): Map<string, number> {
  const taken = new Map<string, number>();
  for (const e of rig.ledger()) {
    if (e.dir !== 'in' || (e.mti !== '0320' && e.mti !== '0321') || e.duplicate) continue;
    taken.set(e.stan!, (taken.get(e.stan!) ?? 0) + 1);
  }
  return taken;
}

describe('batch upload', () => {
  it('the host disagrees once (95): every transaction is uploaded once, the second 0500 (96) agrees and the batch closes', async () => {
    const rig = await bootRig();
    await sales(rig, [1_100, 2_200, 3_300]);
    expect((await rig.refund(500)).outcome).toBe('approved');
    rig.app.hostSim!.setSettlementBehaviour({ disagree: 'once' });
    const batch = rig.app.journal.batches.current().number;

    const reply = await settle(rig);
    expect(reply).toMatchObject({ type: 'done', batchNumber: batch, uploaded: 4, afterUpload: true });

    const settlements = rig.app.hostSim!.settlements;
    expect(settlements.map((s) => [s.responseCode, s.afterUpload])).toEqual([
      ['95', false],
      ['00', true],
    ]);
    expect(rig.received('0500').map((e) => e.processingCode)).toEqual(['920000', '960000']);
    // One upload per approved transaction of the batch, each STAN once, with its own processing code and amount.
    const approved = rig.app.journal.transactions.list().filter((t) => t.outcome === 'approved');
    const uploads = uploadsByStan(rig);
    expect([...uploads.keys()].sort()).toEqual(approved.map((t) => String(t.stan).padStart(6, '0')).sort());
    expect([...uploads.values()].every((n) => n === 1)).toBe(true);
    const refundUpload = rig.received('0320').find((e) => e.amount === 500)!;
    expect(refundUpload.processingCode).toBe('200000');
    // What the host agreed to is what its own ledger says it approved.
    const fromLedger = totalsFromLedger(rig.ledger());
    expect(settlements[1]!.terminalTotals).toMatchObject({
      debitsNumber: fromLedger.debits.count,
      debitsAmount: fromLedger.debits.amount,
      creditsNumber: fromLedger.credits.count,
      creditsAmount: fromLedger.credits.amount,
    });
    expect(rig.app.journal.batches.get(batch)!.state).toBe('closed');
    expect(reconcile(rig.ledger(), rig.app.journal).problems).toEqual([]);
  });

  it('the host lost an approved sale from its totals: the first 0500 differs, the upload restores it, the second agrees', async () => {
    const rig = await bootRig();
    const tid = rig.config.terminal.id;
    await sales(rig, [1_000]);
    rig.app.hostSim!.loseNextApproved(1);
    await sales(rig, [2_000, 3_000]);
    // The host's books now miss the 2 000 sale its own ledger shows it approved.
    expect(rig.app.hostSim!.batchTotals(tid).get('978')).toMatchObject({ debitsNumber: 2, debitsAmount: 4_000 });
    expect(totalsFromLedger(rig.ledger()).debits).toEqual({ count: 3, amount: 6_000 });

    const reply = await settle(rig);
    expect(reply).toMatchObject({ type: 'done', uploaded: 3, afterUpload: true });
    const [first, second] = rig.app.hostSim!.settlements;
    expect(first).toMatchObject({
      responseCode: '95',
      terminalTotals: { debitsNumber: 3, debitsAmount: 6_000 },
      hostTotals: { debitsNumber: 2, debitsAmount: 4_000 },
    });
    expect(second).toMatchObject({
      responseCode: '00',
      afterUpload: true,
      hostTotals: { debitsNumber: 3, debitsAmount: 6_000 },
    });
    expect(anomalyCodes(rig)).not.toContain('E613');
  });

  it('a difference that remains after the upload is anomaly E613 with both totals, and the batch stays open for sales', async () => {
    const rig = await bootRig();
    await sales(rig, [1_500, 2_500]);
    rig.app.hostSim!.setSettlementBehaviour({ disagree: 'always' });
    const batch = rig.app.journal.batches.current().number;

    const reply = await settle(rig);
    expect(reply).toMatchObject({ type: 'error', code: 'out-of-balance' });
    expect(String(reply['message'])).toContain('terminal: debits 2/4000');
    const anomaly = rig.app.journal.anomalies.list({ code: 'E613' })[0]!;
    expect(anomaly.detail).toMatchObject({
      batchNumber: batch,
      terminal: { debitsNumber: 2, debitsAmount: 4_000 },
      host: { debitsNumber: 2, debitsAmount: 4_000 },
    });
    const row = rig.app.journal.batches.current();
    expect(row.number).toBe(batch);
    expect(row.state).toBe('open');
    expect(row.reason).toContain('differ');
    // Sales go on in the same batch.
    await sales(rig, [700]);
    expect(rig.app.journal.transactions.list().at(-1)!.batchNumber).toBe(batch);

    // Once the host agrees again, the next settlement closes the batch, and no STAN was ever uploaded twice.
    rig.app.hostSim!.setSettlementBehaviour({ disagree: 'never' });
    const again = await settle(rig);
    expect(again).toMatchObject({ type: 'done', batchNumber: batch });
    expect([...uploadsByStan(rig).values()].every((n) => n === 1)).toBe(true);
  });
});
