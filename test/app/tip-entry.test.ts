/**
 * A tip typed by the cardholder on the PIN pad before the card (`tips.prompt`), on the assembled terminal against the
 * host simulator: what the host received (field 4 and field 54), the journal's row, and the closed batch's tips.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { EcrMessage } from '../../src/ecr/client.js';
import { stopAll } from '../durability/harness.js';
import { reconcile } from '../support/reconcile.js';
import { until } from '../support/wait.js';
import { bootPreauthRig, nextId, type PreauthRig, stopRigs } from './preauth-rig.js';

afterEach(async () => {
  await stopRigs();
  await stopAll();
});

const tipping = () => bootPreauthRig((c) => ({ ...c, tips: { prompt: true, maxPercent: 30, timeoutMs: 45_000 } }));

/** A sale where the cardholder answers the tip prompt with `tip` (a number, 'cancel', or nothing: the pad times out). */
async function saleWithTip(rig: PreauthRig, amount: number, tip?: number | 'cancel'): Promise<EcrMessage> {
  const states: string[] = [];
  const result = rig.client.call({ id: nextId(), cmd: 'sale', amount }, (m) => {
    if (m.type !== 'state') return;
    states.push(String(m['state']));
    if (m['state'] === 'enteringTip' && tip !== undefined)
      void rig.client.call(tip === 'cancel' ? { cmd: 'sim.tip', cancel: true } : { cmd: 'sim.tip', amount: tip });
    if (m['state'] === 'waitingForCard') void rig.client.call({ cmd: 'sim.card', name: 'visa' });
  });
  if (tip === undefined) {
    await until(() => states.includes('enteringTip'), 'tip prompt shown');
    await rig.clock.advance(45_000);
  }
  const reply = await result;
  return { ...reply, states };
}

function financialRequests(rig: PreauthRig) {
  return rig.ledger().filter((e) => e.dir === 'in' && e.mti === '0200');
}

describe('tip entry on the PIN pad', () => {
  it('adds the typed tip to the amount: field 4 the total, field 54 the tip, the journal and the batch keep it apart', async () => {
    const rig = await tipping();
    const reply = await saleWithTip(rig, 10_000, 1_500);
    expect(reply).toMatchObject({ type: 'result', outcome: 'approved', amount: 11_500, tip: 1_500 });
    expect(reply['states']).toEqual(expect.arrayContaining(['enteringTip', 'waitingForCard']));
    expect(financialRequests(rig)).toEqual([expect.objectContaining({ amount: 11_500, tipAmount: 1_500 })]);
    const row = rig.app.journal.transactions.get(String(reply['txnRef']));
    expect(row).toMatchObject({ amount: 11_500, tipAmount: 1_500, outcome: 'approved' });
    expect(rig.app.journal.transactions.events(String(reply['txnRef'])).map((e) => e.state)).toContain('tipEntered');

    const settled = await rig.call({ id: nextId(), cmd: 'settle' });
    expect(settled).toMatchObject({ type: 'done' });
    const batch = rig.app.journal.batches.get(Number(settled['batchNumber']));
    const totals = batch?.terminalTotals as { currencies: Array<{ tips: unknown; net: number }> };
    expect(totals.currencies[0]).toMatchObject({ tips: { count: 1, amount: 1_500 }, net: 11_500 });
    expect(reconcile(rig.ledger(), rig.app.journal).problems).toEqual([]);
  });

  it('OK alone is no tip; a tip over the largest one is refused by the pad and the prompt stays', async () => {
    const rig = await tipping();
    expect(await saleWithTip(rig, 2_000, 0)).toMatchObject({ outcome: 'approved', amount: 2_000 });
    expect(financialRequests(rig)[0]).not.toHaveProperty('tipAmount');

    // 30% of 10,000: 3,000 at most. The register hears the refusal; the cardholder types again.
    const states: string[] = [];
    const pending = rig.client.call({ id: nextId(), cmd: 'sale', amount: 10_000 }, (m) => {
      if (m.type === 'state') states.push(String(m['state']));
      if (m.type === 'state' && m['state'] === 'waitingForCard')
        void rig.client.call({ cmd: 'sim.card', name: 'visa' });
    });
    await until(() => states.includes('enteringTip'), 'tip prompt shown');
    expect(await rig.call({ cmd: 'sim.tip', amount: 3_001 })).toMatchObject({ type: 'error', code: 'invalid-request' });
    expect(await rig.call({ cmd: 'sim.tip', amount: 3_000 })).toMatchObject({ type: 'done', cmd: 'sim.tip' });
    expect(await pending).toMatchObject({ outcome: 'approved', amount: 13_000, tip: 3_000 });
  });

  it('Cancel at the tip cancels the sale before any card or message; a pad that times out lets the sale go on untipped', async () => {
    const rig = await tipping();
    const cancelled = await saleWithTip(rig, 4_000, 'cancel');
    expect(cancelled).toMatchObject({ type: 'result', outcome: 'cancelled' });
    expect(cancelled['states']).not.toContain('waitingForCard');
    expect(financialRequests(rig)).toEqual([]);

    const untipped = await saleWithTip(rig, 4_100);
    expect(untipped).toMatchObject({ outcome: 'approved', amount: 4_100 });
    expect(untipped).not.toHaveProperty('tip');
    expect(financialRequests(rig)).toEqual([expect.objectContaining({ amount: 4_100 })]);
  });

  it('asks nothing when the register sent the tip', async () => {
    const rig = await tipping();
    const states: string[] = [];
    const reply = await rig.client.call({ id: nextId(), cmd: 'sale', amount: 5_000, tip: 500 }, (m) => {
      if (m.type === 'state') states.push(String(m['state']));
      if (m.type === 'state' && m['state'] === 'waitingForCard')
        void rig.client.call({ cmd: 'sim.card', name: 'visa' });
    });
    expect(reply).toMatchObject({ outcome: 'approved', amount: 5_500, tip: 500 });
    expect(states).not.toContain('enteringTip');
    expect(financialRequests(rig)).toEqual([expect.objectContaining({ amount: 5_500, tipAmount: 500 })]);
  });
});
