/**
 * Tips: with a sale (charged with it, journaled apart), at a completion (see preauth.test.ts), and adjusted on an
 * approved sale by a 0220 advice naming it. The host simulator's books say what moved.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { stopAll } from '../durability/harness.js';
import { until } from '../support/wait.js';
import { bootPreauthRig, nextId, type PreauthRig, stopRigs } from './preauth-rig.js';

afterEach(async () => {
  await stopRigs();
  await stopAll();
});

function answers(rig: PreauthRig, responseMti: string) {
  return rig.ledger().filter((e) => e.dir === 'out' && e.mti === responseMti);
}

describe('tips', () => {
  it('a tip with the sale is charged with it (field 4) and journaled apart', async () => {
    const rig = await bootPreauthRig();
    const sale = await rig.withCard({ id: nextId(), cmd: 'sale', amount: 1_000, tip: 200 });
    expect(sale).toMatchObject({ outcome: 'approved', amount: 1_200, tip: 200 });
    expect(answers(rig, '0210')).toEqual([expect.objectContaining({ amount: 1_200, movedAmount: 1_200 })]);
    expect(rig.app.journal.transactions.get(sale['txnRef'] as string)).toMatchObject({ amount: 1_200, tipAmount: 200 });
    expect(rig.app.hostSim!.totals().netAmount).toBe(1_200);
  });

  it('tip adjust: a 0220 naming the sale moves the tip; a second adjust or an unknown STAN is refused', async () => {
    const rig = await bootPreauthRig();
    const sale = await rig.withCard({ id: nextId(), cmd: 'sale', amount: 2_000 });
    expect(sale['outcome']).toBe('approved');
    const stan = sale['stan'] as number;
    const adjust = await rig.call({ id: nextId(), cmd: 'tipAdjust', stan, tip: 300 });
    expect(adjust).toMatchObject({ outcome: 'approved', kind: 'tip-adjust', amount: 300, tip: 300 });
    await until(() => answers(rig, '0230').length === 1, 'tip adjustment answered');
    // The advice carries the new total; the host moves the difference.
    expect(rig.ledger().find((e) => e.dir === 'in' && e.mti === '0220')).toMatchObject({ amount: 2_300 });
    expect(answers(rig, '0230')[0]).toMatchObject({ responseCode: '00', movedAmount: 300 });
    expect(rig.app.hostSim!.totals().netAmount).toBe(2_300);
    expect(rig.app.hostSim!.holdTotals().tipAdjustments).toEqual({ count: 1, amount: 300 });
    expect(rig.app.journal.transactions.get(adjust['txnRef'] as string)).toMatchObject({
      kind: 'tip-adjust',
      amount: 300,
      tipAmount: 300,
      originalStan: stan,
    });
    const again = await rig.call({ id: nextId(), cmd: 'tipAdjust', stan, tip: 100 });
    expect(again).toMatchObject({ type: 'error', code: 'duplicate' });
    const unknown = await rig.call({ id: nextId(), cmd: 'tipAdjust', stan: 999_999, tip: 100 });
    expect(unknown).toMatchObject({ type: 'error', code: 'not-found', field: 'stan' });
    expect(rig.app.hostSim!.totals().netAmount).toBe(2_300);
  });

  it('a tip adjust while the host is away is queued and forwarded once it is back', async () => {
    const rig = await bootPreauthRig();
    const sale = await rig.withCard({ id: nextId(), cmd: 'sale', amount: 1_500 });
    await rig.app.hostSim!.stop();
    await until(() => !rig.app.terminal.status().hostUp, 'host link down');
    const adjust = await rig.call({ id: nextId(), cmd: 'tipAdjust', stan: sale['stan'], tip: 250 });
    expect(adjust['outcome']).toBe('approved');
    expect(rig.app.journal.saf.forTransaction(adjust['txnRef'] as string)?.state).toBe('queued');
    await rig.app.hostSim!.start();
    for (let i = 0; i < 200 && answers(rig, '0230').length === 0; i++) {
      await rig.clock.advance(1_000);
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(answers(rig, '0230')).toEqual([expect.objectContaining({ movedAmount: 250 })]);
    expect(rig.app.hostSim!.totals().netAmount).toBe(1_750);
  });
});

describe('tips and completions at the end of the day', () => {
  it('settle in balance with a tipped sale, a tip adjust and a completion; a settled sale takes no tip adjust', async () => {
    const rig = await bootPreauthRig();
    const sale = await rig.withCard({ id: nextId(), cmd: 'sale', amount: 1_000, tip: 200 });
    const adjust = await rig.call({ id: nextId(), cmd: 'tipAdjust', stan: sale['stan'], tip: 300 });
    expect(adjust['outcome']).toBe('approved');
    const hold = await rig.withCard({ id: nextId(), cmd: 'preauth', amount: 5_000 });
    const completed = await rig.call({
      id: nextId(),
      cmd: 'preauth.complete',
      preauthId: hold['preauthId'],
      amount: 4_000,
      tip: 500,
    });
    expect(completed['outcome']).toBe('approved');
    const settled = await rig.call({ id: nextId(), cmd: 'settle' });
    expect(settled, JSON.stringify(settled)).toMatchObject({ type: 'done', uploaded: 0 });
    const record = rig.app.hostSim!.settlements.at(-1)!;
    expect(record.responseCode).toBe('00');
    // The host's own books: 1,200 + 300 + 4,500 debited, in three items; the hold itself moved nothing.
    expect(record.terminalTotals).toMatchObject({ debitsNumber: 3, debitsAmount: 6_000, creditsNumber: 0 });
    expect(rig.app.hostSim!.totals().netAmount).toBe(6_000);
    // The batch's totals carry the tips apart: 200 with the sale, 300 adjusted, 500 at the completion.
    const closed = rig.app.journal.batches.get(rig.app.journal.batches.current().number - 1)!;
    expect(JSON.stringify(closed.terminalTotals)).toContain('"tips":{"count":3,"amount":1000}');
    const late = await rig.call({ id: nextId(), cmd: 'tipAdjust', stan: sale['stan'], tip: 100 });
    expect(late).toMatchObject({ type: 'error', code: 'not-allowed' });
  });
});
