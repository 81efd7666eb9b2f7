/**
 * A void of an offline sale never reaches the host before that sale's advice: an advice that never left is
 * cancelled with the void in one commit (neither reaches the host); one that may have left goes first. Host
 * simulator on loopback, ManualClock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../support/wait.js';
import { RESPONSE_TIMEOUT_MS, at, bootRig, hostBack, hostDown, stopAll, type Rig } from './harness.js';

afterEach(stopAll);

const voidOf = (rig: Rig, stan: unknown) => rig.client.call({ cmd: 'void', stan, supervisorPin: '1234' });
const hostRequests = (rig: Rig) =>
  rig
    .ledger()
    .filter((e) => e.dir === 'in' && e.mti !== '0800')
    .map((e) => `${e.mti}:${Number(e.stan)}`);

describe('a void of an offline sale', () => {
  it('whose advice never left: the advice is cancelled and the void approved locally; neither reaches the host', async () => {
    const rig = await bootRig();
    await hostDown(rig);
    const sale = await rig.sale(1_000);
    expect(sale).toMatchObject({ outcome: 'offline-approved' });
    const [advice] = rig.app.journal.saf.queue();
    expect(advice).toMatchObject({ txnRef: sale['txnRef'], attempts: 0 });

    const voided = await voidOf(rig, sale['stan']);
    expect(voided).toMatchObject({
      type: 'result',
      kind: 'void',
      outcome: 'offline-approved',
      amount: 1_000,
      responseCode: 'Y1',
    });
    expect(rig.app.journal.saf.item(advice!.id)).toMatchObject({ state: 'cancelled', cardBlob: null });
    expect(rig.app.journal.saf.stats().count).toBe(0);
    expect(rig.app.journal.transactions.events(sale['txnRef'] as string).map((e) => e.state)).toContain(
      'advice-cancelled',
    );
    // One commit: the void's answer is in the same event row set as the cancellation.
    const voidEvents = rig.app.journal.transactions.events(voided['txnRef'] as string);
    expect(voidEvents.find((e) => e.state === 'authorized')?.detail).toEqual({ cancelledAdvice: sale['txnRef'] });
    // A second void of the same sale is refused locally.
    expect(await voidOf(rig, sale['stan'])).toMatchObject({ kind: 'void', outcome: 'declined' });

    await hostBack(rig);
    for (let i = 0; i < 20; i++) {
      await rig.clock.advance(5_000);
      await new Promise((resolve) => setTimeout(resolve, 3));
    }
    expect(hostRequests(rig)).toEqual([]);
    expect(rig.app.hostSim!.totals()).toMatchObject({ adviceCount: 0, approvedCount: 0 });
  });

  it('whose advice may have left: the advice goes first (0221), then the void', async () => {
    const rig = await bootRig();
    await hostDown(rig);
    const sale = await rig.sale(1_000);
    const [advice] = rig.app.journal.saf.queue();
    // The host is back but silent: the advice leaves and goes unanswered.
    rig.app.hostSim!.setBehaviour({ misbehaviour: 'silent' });
    await hostBack(rig);
    await until(() => rig.received('0220').length === 1, 'advice sent');
    await rig.clock.advance(at(rig.received('0220')[0]!) + RESPONSE_TIMEOUT_MS - rig.clock.now());
    await until(() => /^timeout/.test(rig.app.journal.saf.item(advice!.id)!.reason ?? ''), 'advice unanswered');
    expect(rig.app.journal.saf.item(advice!.id)).toMatchObject({ state: 'queued', attempts: 1 });

    rig.app.hostSim!.setBehaviour({ misbehaviour: 'none' });
    const voided = await voidOf(rig, sale['stan']);
    expect(voided).toMatchObject({ kind: 'void', outcome: 'approved' });
    expect(rig.app.journal.saf.item(advice!.id)).toMatchObject({ state: 'forwarded' });
    expect(hostRequests(rig)).toEqual([`0220:${sale['stan']}`, `0221:${sale['stan']}`, `0200:${voided['stan']}`]);
  });

  it('whose advice may have left while the host cannot take it: the void is declined, the advice stays owed', async () => {
    const rig = await bootRig();
    await hostDown(rig);
    const sale = await rig.sale(1_000);
    const [advice] = rig.app.journal.saf.queue();
    rig.app.hostSim!.setBehaviour({ misbehaviour: 'silent' });
    await hostBack(rig);
    await until(() => rig.received('0220').length === 1, 'advice sent');
    await rig.clock.advance(at(rig.received('0220')[0]!) + RESPONSE_TIMEOUT_MS - rig.clock.now());
    await until(() => /^timeout/.test(rig.app.journal.saf.item(advice!.id)!.reason ?? ''), 'advice unanswered');
    await hostDown(rig);

    const voided = await voidOf(rig, sale['stan']);
    expect(voided).toMatchObject({ kind: 'void', outcome: 'declined' });
    expect(rig.app.journal.saf.item(advice!.id)).toMatchObject({ state: 'queued', attempts: 1 });
    expect(rig.received('0200')).toEqual([]);
  });
});
