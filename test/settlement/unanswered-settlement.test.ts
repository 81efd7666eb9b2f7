/**
 * A settlement request the host took (and agreed to: it closed its batch) whose answer never reached the terminal:
 * the terminal cannot know the batch is closed at the host. A sale made then would join the batch the host closed,
 * and no settlement of it could ever agree (the host's batch has the new sale only, the terminal's both). So the
 * batch stays settling and takes no transaction until a settlement is answered: the next 0500 repeats the same
 * totals, the host recognises the batch it closed, and the sale goes into the next batch.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { reconcile } from '../support/reconcile.js';
import { bootRig, stopAll } from '../durability/harness.js';
import { settle, withClockRunning } from './support.js';

afterEach(stopAll);

describe('a settlement whose answer was lost', () => {
  it('keeps new sales out of the batch the host may have closed until a settlement is answered', async () => {
    const rig = await bootRig();
    const sim = rig.app.hostSim!;
    const tid = rig.config.terminal.id;
    expect((await rig.sale(1_000)).outcome).toBe('approved');
    const batch = rig.app.journal.batches.current().number;
    // The host takes the 0500, agrees and closes its batch, but its answers are withheld.
    sim.setBehaviour({ misbehaviour: 'silent' });
    const lost = await withClockRunning(rig, settle(rig), 5_000);
    expect(lost).toMatchObject({ type: 'error', code: 'host-unavailable' });
    expect(sim.settlements.map((s) => s.responseCode)).toContain('00');
    expect(sim.batchTotals(tid).size).toBe(0);
    expect(rig.app.journal.batches.current()).toMatchObject({ number: batch, state: 'settling' });
    sim.setBehaviour({ misbehaviour: 'none' });
    // The host counts as down after the unanswered tries; an answered echo brings it back.
    for (let i = 0; i < 60 && !rig.app.terminal.status().hostUp; i++) {
      await rig.clock.advance(1_000);
      await new Promise((resolve) => setTimeout(resolve, 3));
    }
    expect(rig.app.terminal.status().hostUp).toBe(true);

    const refused = await rig.client.call({ cmd: 'sale', amount: 2_000 });
    expect(refused).toMatchObject({ type: 'error', code: 'busy' });
    expect(String(refused['message'])).toMatch(/no answer/);
    // The repeat of the same totals: the host agrees to the batch it closed, and the terminal closes it too.
    const again = await withClockRunning(rig, settle(rig), 5_000);
    expect(again).toMatchObject({ type: 'done', batchNumber: batch, uploaded: 0 });
    expect(rig.app.journal.batches.get(batch)!.state).toBe('closed');

    expect(['approved', 'offline-approved']).toContain((await rig.sale(2_000)).outcome);
    const next = await withClockRunning(rig, settle(rig), 5_000);
    expect(next).toMatchObject({ type: 'done', batchNumber: batch + 1, uploaded: 0 });
    // The host agreed to the first batch (once, then to its repeats) and to the next one, nothing else.
    const agreed = sim.settlements.filter((s) => s.responseCode === '00').map((s) => s.batchNumber);
    expect(agreed.at(-1)).toBe(batch + 1);
    expect(new Set(agreed.slice(0, -1))).toEqual(new Set([batch]));
    expect(sim.batchTotals(tid).size).toBe(0);
    expect(reconcile(rig.ledger(), rig.app.journal).problems).toEqual([]);
  });
});
