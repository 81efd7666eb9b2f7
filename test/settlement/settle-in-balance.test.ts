import { afterEach, describe, expect, it } from 'vitest';
import { reconcile } from '../support/reconcile.js';
import { bootRig, printedText, stopAll } from '../durability/harness.js';
import { settle, settlementRequests, totalsFromLedger } from './support.js';

afterEach(stopAll);

describe('settlement in balance', () => {
  it('sends the batch totals the host approved, closes the batch, opens the next and prints the totals', async () => {
    const rig = await bootRig();
    const tid = rig.config.terminal.id;
    for (const amount of [1_000, 2_500, 4_000]) expect((await rig.sale(amount)).outcome).toBe('approved');
    expect((await rig.refund(700)).outcome).toBe('approved');
    const sale = rig.app.journal.transactions.list().find((t) => t.amount === 2_500)!;
    const voided = await rig.client.call({ cmd: 'void', stan: sale.stan, supervisorPin: '1234' }, (m) => {
      if (m.type === 'state' && m['state'] === 'waitingForCard')
        void rig.client.call({ cmd: 'sim.card', name: 'visa' });
    });
    expect(voided.outcome).toBe('approved');

    // The host's side, from its ledger alone.
    const fromLedger = totalsFromLedger(rig.ledger());
    expect(fromLedger.debits).toEqual({ count: 3, amount: 7_500 });
    expect(fromLedger.credits).toEqual({ count: 1, amount: 700 });
    expect(fromLedger.debitReversals).toEqual({ count: 1, amount: 2_500 });
    const hostBooks = rig.app.hostSim!.batchTotals(tid).get('978')!;

    const batchBefore = rig.app.journal.batches.current().number;
    const reply = await settle(rig);
    expect(reply.type).toBe('done');
    expect(reply['batchNumber']).toBe(batchBefore);
    expect(reply['uploaded']).toBe(0);

    // One 0500, answered 00, carrying what the host's ledger says it approved.
    const requests = settlementRequests(rig);
    expect(requests).toHaveLength(1);
    const record = rig.app.hostSim!.settlements.at(-1)!;
    expect(record.responseCode).toBe('00');
    expect(record.terminalTotals).toEqual(hostBooks);
    expect(record.terminalTotals).toMatchObject({
      debitsNumber: fromLedger.debits.count,
      debitsAmount: fromLedger.debits.amount,
      creditsNumber: fromLedger.credits.count,
      creditsAmount: fromLedger.credits.amount,
      debitsReversalNumber: fromLedger.debitReversals.count,
      debitsReversalAmount: fromLedger.debitReversals.amount,
      creditsReversalNumber: 0,
      creditsReversalAmount: 0,
    });

    const closed = rig.app.journal.batches.get(batchBefore)!;
    expect(closed.state).toBe('closed');
    expect(rig.app.journal.batches.current().number).toBe(batchBefore + 1);
    expect(printedText(rig)).toContain(`Batch: ${String(batchBefore).padStart(6, '0')}`);
    expect(printedText(rig)).toContain('SETTLEMENT');

    // A sale after the settlement joins the next batch, on both sides.
    expect((await rig.sale(1_200)).outcome).toBe('approved');
    const next = rig.app.journal.transactions.list().at(-1)!;
    expect(next.batchNumber).toBe(batchBefore + 1);
    expect(rig.app.hostSim!.batchTotals(tid).get('978')).toMatchObject({ debitsNumber: 1, debitsAmount: 1_200 });
    expect(printedText(rig)).toContain(`Batch: ${String(batchBefore + 1).padStart(6, '0')}`);

    expect(reconcile(rig.ledger(), rig.app.journal).problems).toEqual([]);
  });
});
