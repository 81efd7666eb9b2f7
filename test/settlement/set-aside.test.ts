/**
 * What the host refused for good blocks the end of day until support resolves it, and then the batch settles in
 * balance with the host's own books: the refused offline sale is in neither side's batch.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { JournalError } from '../../src/journal/index.js';
import { reconcile } from '../support/reconcile.js';
import { bootRig, hostBack, hostDown, stopAll, type Rig } from '../durability/harness.js';
import { settle, totalsFromLedger, withClockRunning } from './support.js';

afterEach(stopAll);

/** Waits, on the clock, until the forwarder has had the host's answer to every queued advice. */
async function adviceAnswered(rig: Rig): Promise<void> {
  for (let i = 0; i < 200 && rig.app.journal.counts().safQueued > 0; i++) {
    await rig.clock.advance(1_000);
    await new Promise((r) => setTimeout(r, 3));
  }
  expect(rig.app.journal.counts().safQueued).toBe(0);
}

describe('a refused advice at the end of day', () => {
  it('is money owed until support resolves it; then the batch closes in balance with the host, without it', async () => {
    const rig = await bootRig();
    const tid = rig.config.terminal.id;
    expect((await rig.sale(2_500)).outcome).toBe('approved');
    await hostDown(rig);
    // The terminal cannot know offline that the issuer declines this card: it approves it and queues the advice.
    const refused = await rig.sale(1_700, 'insufficient-funds');
    expect(refused.outcome).toBe('offline-approved');
    expect((await rig.sale(900)).outcome).toBe('offline-approved');
    await hostBack(rig);
    await adviceAnswered(rig);

    const [item, ...others] = rig.app.journal.setAside.list();
    expect(others).toEqual([]);
    expect(item).toMatchObject({ item: 'advice', stan: refused['stan'], amount: 1_700, responseCode: '51' });

    const blocked = await withClockRunning(rig, settle(rig), 5_000);
    expect(blocked).toMatchObject({ type: 'error', code: 'money-owed' });
    expect(String(blocked['message'])).toContain('1 advice set aside');
    expect(rig.received('0500')).toHaveLength(0);

    // Refused as support would type it by mistake: a card number in the note never reaches the journal.
    expect(() => rig.app.journal.setAside.resolve('advice', item!.id, 'card 4761739001010010 refunded')).toThrow(
      JournalError,
    );
    expect(() => rig.app.journal.setAside.resolve('reversal', item!.id, 'wrong kind')).toThrow(/no reversal/);
    rig.app.journal.setAside.resolve('advice', item!.id, 'merchant collected by other means');
    expect(() => rig.app.journal.setAside.resolve('advice', item!.id, 'again')).toThrow(/no advice/);
    expect(rig.app.journal.setAside.list()).toEqual([]);
    expect(rig.app.journal.setAsideTotals().advices).toEqual({ count: 0, total: 0 });
    const events = rig.app.journal.transactions.events(String(item!.txnRef)).map((e) => e.state);
    expect(events).toContain('set-aside-resolved');

    const done = await settle(rig);
    expect(done).toMatchObject({ type: 'done', uploaded: 0 });
    // The host's side, from its ledger alone: the approved sale and the accepted advice, not the refused one.
    const fromLedger = totalsFromLedger(rig.ledger());
    expect(fromLedger.debits).toEqual({ count: 2, amount: 3_400 });
    expect(rig.app.hostSim!.settlements.at(-1)).toMatchObject({
      responseCode: '00',
      terminalTotals: { debitsNumber: 2, debitsAmount: 3_400 },
    });
    expect(rig.app.hostSim!.batchTotals(tid).size).toBe(0);
    expect(
      reconcile(rig.ledger(), rig.app.journal, { expectSetAside: [String(refused['stan']).padStart(6, '0')] }).problems,
    ).toEqual([]);
  });
});
