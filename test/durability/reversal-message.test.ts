/**
 * The whole terminal (embedded host simulator, ECR, journal on disk): a sale the host never answers is reversed with
 * what the original carried. The reversal row holds field 22 of the original, the reason (68: no answer in time),
 * and PAN/expiry sealed by the vault until the host acknowledges, then erased; the journal never holds the PAN.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Journal } from '../../src/journal/index.js';
import {
  AMOUNT,
  bootRig,
  hostReceived,
  journalPath,
  RESPONSE_TIMEOUT_MS,
  reversalAcknowledged,
  stopAll,
  VISA_PAN,
} from './harness.js';
import { databaseBytes } from '../journal/helpers.js';

afterEach(stopAll);

describe('reversal of an unanswered sale, end to end', () => {
  it('arms with field 22 and the sealed card, sends 0400 with the PAN and reason 68, then erases the card data', async () => {
    const rig = await bootRig();
    const sale = rig.sale(AMOUNT.silent);
    const request = await hostReceived(rig, '0200', AMOUNT.silent);
    const txnRef = rig.app.terminal.status().transaction!.txnRef;
    const armed = rig.app.journal.reversals.forTransaction(txnRef)!;
    // The visa test card is read by chip; the default configuration attaches the mock PIN pad: 05 + 1.
    expect(armed).toMatchObject({ state: 'armed', posEntryMode: '051', reasonCode: null });
    expect(Buffer.isBuffer(armed.cardBlob)).toBe(true);
    expect(armed.cardBlob!.toString('latin1')).not.toContain(VISA_PAN);
    expect(rig.app.journal.transactions.get(txnRef)).toMatchObject({
      requestMti: '0200',
      transmittedAt: rig.clock.now(),
    });

    await rig.clock.advance(RESPONSE_TIMEOUT_MS);
    expect(await sale).toMatchObject({ outcome: 'failed' });
    // The forwarder may have sent it already: owed (or acknowledged) with the reason of a timeout.
    expect(rig.app.journal.reversals.forTransaction(txnRef)).toMatchObject({
      reasonCode: '68',
      state: expect.stringMatching(/^(pending|acknowledged)$/),
    });
    await reversalAcknowledged(rig, txnRef);

    const reversal = rig.received('0400').find((e) => e.stan === request.stan);
    // The simulator's ledger masks what field 2 held: the reversal carried the PAN.
    expect(reversal?.pan).toBe('476173******0010');
    expect(rig.app.journal.reversals.forTransaction(txnRef)).toMatchObject({ state: 'acknowledged', cardBlob: null });
    const path = journalPath(rig.dataDir);
    const reader = Journal.open(path, { readonly: true });
    try {
      expect(reader.reversals.pending()).toEqual([]);
    } finally {
      reader.close();
    }
    expect(databaseBytes(path).toString('latin1')).not.toContain(VISA_PAN);
  });

  it('says why in field 39: 17 when the register cancels while the host is silent, 22 when the link drops', async () => {
    const rig = await bootRig();
    const cancelled = rig.sale(AMOUNT.silent);
    await hostReceived(rig, '0200', AMOUNT.silent);
    await rig.client.call({ cmd: 'cancel' });
    const first = await cancelled;
    expect(first).toMatchObject({ outcome: 'cancelled' });
    expect(rig.app.journal.reversals.forTransaction(first['txnRef'] as string)).toMatchObject({ reasonCode: '17' });
    await reversalAcknowledged(rig, first['txnRef'] as string);

    const dropped = await rig.sale(AMOUNT.close);
    expect(dropped).toMatchObject({ outcome: 'failed' });
    expect(rig.app.journal.reversals.forTransaction(dropped['txnRef'] as string)).toMatchObject({
      reasonCode: '22',
      posEntryMode: '051',
    });
  });
});
