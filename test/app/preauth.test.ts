/**
 * Pre-authorization, increment, completion, cancel and expiry against the host simulator, over the ECR wire. The
 * host's holds (what it holds on the card) and books (what money moved) are checked apart from the journal.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { stopAll } from '../durability/harness.js';
import { until } from '../support/wait.js';
import { bootPreauthRig, nextId, type PreauthRig, stopRigs } from './preauth-rig.js';

afterEach(async () => {
  await stopRigs();
  await stopAll();
});

async function preauth(rig: PreauthRig, amount: number) {
  const result = await rig.withCard({ id: nextId(), cmd: 'preauth', amount });
  expect(result).toMatchObject({ type: 'result', outcome: 'approved', kind: 'preauth', amount });
  expect(typeof result['preauthId']).toBe('string');
  return { preauthId: result['preauthId'] as string, stan: result['stan'] as number };
}

/** The answers the host gave to requests of this MTI. */
function answers(rig: PreauthRig, responseMti: string) {
  return rig.ledger().filter((e) => e.dir === 'out' && e.mti === responseMti);
}

describe('pre-authorization', () => {
  it('holds the amount at the host (0100/0110) and moves no money; the journal says preauth', async () => {
    const rig = await bootPreauthRig();
    const { preauthId, stan } = await preauth(rig, 10_000);
    expect(rig.app.hostSim!.heldOf(rig.terminalId, stan)).toBe(10_000);
    expect(answers(rig, '0110')).toEqual([expect.objectContaining({ heldAmount: 10_000, movedAmount: 0 })]);
    expect(rig.ledger().some((e) => e.mti === '0200')).toBe(false);
    expect(rig.app.hostSim!.totals().netAmount).toBe(0);
    expect(rig.app.journal.transactions.get(preauthId)).toMatchObject({ kind: 'preauth', outcome: 'approved' });
    expect(rig.app.journal.preauths.get(preauthId)).toMatchObject({ state: 'open', heldAmount: 10_000, stan });
    // The reversal armed before the 0100 was cleared by its answer.
    expect(rig.app.journal.reversals.forTransaction(preauthId)).toMatchObject({
      originalMti: '0100',
      state: 'cleared',
    });
  });

  it('reads a chip card with online PIN through the states of a sale; the host verifies the ARQC and the PIN', async () => {
    const rig = await bootPreauthRig();
    const states: string[] = [];
    const result = await rig.client.call({ id: nextId(), cmd: 'preauth', amount: 3_000 }, (m) => {
      if (m.type !== 'state') return;
      states.push(m['state'] as string);
      if (m['state'] === 'waitingForCard') void rig.client.call({ cmd: 'sim.card', name: 'emv-online-pin' });
      if (m['state'] === 'enteringPin') void rig.client.call({ cmd: 'sim.pin', pin: '1234' });
    });
    expect(result).toMatchObject({ outcome: 'approved', kind: 'preauth', entryMode: 'chip' });
    expect(states).toEqual(expect.arrayContaining(['startingChip', 'enteringPin', 'authorizing', 'completingChip']));
    expect(answers(rig, '0110')).toEqual([
      expect.objectContaining({ cryptogramValid: true, pinVerified: true, heldAmount: 3_000 }),
    ]);
    expect(rig.app.journal.preauths.get(result['preauthId'] as string)?.state).toBe('open');
  });

  it('a declined pre-authorization opens no hold and gives no id', async () => {
    const rig = await bootPreauthRig();
    rig.app.hostSim!.answerOnce({ mti: '0100', responseCode: '51' });
    const result = await rig.withCard({ id: nextId(), cmd: 'preauth', amount: 5_000 });
    expect(result).toMatchObject({ outcome: 'declined', responseCode: '51' });
    expect(result['preauthId']).toBeUndefined();
    expect(rig.app.journal.preauths.listOpen()).toEqual([]);
    expect(rig.app.hostSim!.holdTotals().open).toEqual({ count: 0, amount: 0 });
  });

  it('a 0100 the host does not answer is reversed (0400 of the 0100): the host releases the hold', async () => {
    const rig = await bootPreauthRig();
    // The simulator withholds its answer to this amount (AMOUNT.silent); the response timeout runs on the clock.
    const pending = rig.withCard({ id: nextId(), cmd: 'preauth', amount: 200_002 });
    await until(() => rig.ledger().some((e) => e.dir === 'in' && e.mti === '0100'), '0100 at the host');
    expect(rig.app.hostSim!.holdTotals().open.amount).toBe(200_002);
    await rig.clock.advance(30_000);
    const result = await pending;
    expect(result['outcome']).toBe('failed');
    for (let i = 0; i < 100 && rig.app.hostSim!.holdTotals().released.count === 0; i++) {
      await rig.clock.advance(1_000);
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(rig.ledger().some((e) => e.dir === 'in' && e.mti === '0400')).toBe(true);
    expect(rig.app.hostSim!.holdTotals()).toMatchObject({
      open: { count: 0, amount: 0 },
      released: { count: 1, amount: 200_002 },
    });
    expect(rig.app.journal.preauths.listOpen()).toEqual([]);
  });
});

describe('incremental authorization', () => {
  it('adds to the hold; a declined increment leaves the hold as it was', async () => {
    const rig = await bootPreauthRig();
    const { preauthId, stan } = await preauth(rig, 10_000);
    const more = await rig.call({ id: nextId(), cmd: 'preauth.increment', preauthId, amount: 2_500 });
    expect(more).toMatchObject({ outcome: 'approved', kind: 'preauth-increment', amount: 2_500 });
    expect(rig.app.hostSim!.heldOf(rig.terminalId, stan)).toBe(12_500);
    expect(rig.app.journal.preauths.get(preauthId)?.heldAmount).toBe(12_500);
    rig.app.hostSim!.answerOnce({ mti: '0100', responseCode: '51' });
    const refused = await rig.call({ id: nextId(), cmd: 'preauth.increment', preauthId, amount: 4_000 });
    expect(refused).toMatchObject({ outcome: 'declined', responseCode: '51' });
    expect(rig.app.hostSim!.heldOf(rig.terminalId, stan)).toBe(12_500);
    expect(rig.app.journal.preauths.get(preauthId)).toMatchObject({ state: 'open', heldAmount: 12_500 });
    expect(rig.app.hostSim!.totals().netAmount).toBe(0);
  });
});

describe('an increment the host does not answer', () => {
  it('is reversed by itself: the host releases the increment and keeps the original hold', async () => {
    const rig = await bootPreauthRig();
    const { preauthId, stan } = await preauth(rig, 5_000);
    rig.app.hostSim!.setBehaviour({ misbehaviour: 'silent' });
    const pending = rig.call({ id: nextId(), cmd: 'preauth.increment', preauthId, amount: 1_000 });
    await until(() => rig.ledger().filter((e) => e.dir === 'in' && e.mti === '0100').length === 2, 'increment sent');
    rig.app.hostSim!.setBehaviour({ misbehaviour: 'none' });
    expect(rig.app.hostSim!.heldOf(rig.terminalId, stan)).toBe(6_000);
    await rig.clock.advance(30_000);
    expect((await pending)['outcome']).toBe('failed');
    for (let i = 0; i < 100 && rig.app.hostSim!.holdTotals().released.count === 0; i++) {
      await rig.clock.advance(1_000);
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(rig.app.hostSim!.heldOf(rig.terminalId, stan)).toBe(5_000);
    expect(rig.app.hostSim!.holdTotals().released).toEqual({ count: 1, amount: 1_000 });
    expect(rig.app.journal.preauths.get(preauthId)).toMatchObject({ state: 'open', heldAmount: 5_000 });
  });
});

describe('completion', () => {
  it('0220 advice with a tip: the host captures the final amount once, the hold closes; a repeat is refused', async () => {
    const rig = await bootPreauthRig();
    const { preauthId, stan } = await preauth(rig, 10_000);
    const done = await rig.call({ id: nextId(), cmd: 'preauth.complete', preauthId, amount: 9_000, tip: 1_500 });
    expect(done).toMatchObject({ outcome: 'approved', kind: 'completion', amount: 10_500, tip: 1_500 });
    await until(() => answers(rig, '0230').length === 1, 'completion advice answered');
    expect(answers(rig, '0230')[0]).toMatchObject({ responseCode: '00', movedAmount: 10_500 });
    expect(rig.app.hostSim!.holdTotals().captured).toEqual({ count: 1, amount: 10_500, tips: 1_500 });
    expect(rig.app.hostSim!.heldOf(rig.terminalId, stan)).toBe(0);
    expect(rig.app.hostSim!.totals().netAmount).toBe(10_500);
    expect(rig.app.journal.preauths.get(preauthId)).toMatchObject({ state: 'completed' });
    const row = rig.app.journal.transactions.get(done['txnRef'] as string);
    expect(row).toMatchObject({ kind: 'completion', amount: 10_500, tipAmount: 1_500, outcome: 'approved' });
    expect(rig.app.journal.saf.forTransaction(row!.txnRef)?.state).toBe('forwarded');
    // A second completion of the same pre-authorization: refused, nothing more reaches the host.
    const again = await rig.call({ id: nextId(), cmd: 'preauth.complete', preauthId, amount: 9_000 });
    expect(again).toMatchObject({ type: 'error', code: 'duplicate' });
    // The same request id again is answered from the journal, not refused and not sent.
    const id = nextId();
    const first = await rig.call({ id, cmd: 'preauth.increment', preauthId, amount: 100 });
    expect(first).toMatchObject({ type: 'error', code: 'not-allowed' });
    expect(answers(rig, '0230')).toHaveLength(1);
    expect(rig.app.hostSim!.totals().netAmount).toBe(10_500);
  });

  it('repeats of a request id are answered from the journal', async () => {
    const rig = await bootPreauthRig();
    const { preauthId } = await preauth(rig, 10_000);
    const id = nextId();
    const done = await rig.call({ id, cmd: 'preauth.complete', preauthId, amount: 10_000 });
    const replay = await rig.call({ id, cmd: 'preauth.complete', preauthId, amount: 10_000 });
    expect(replay).toMatchObject({ type: 'result', replayed: true, txnRef: done['txnRef'], outcome: 'approved' });
    await until(() => answers(rig, '0230').length === 1, 'completion advice answered');
    expect(rig.app.hostSim!.totals().netAmount).toBe(10_000);
  });

  it('refuses bad input with typed errors: unknown id, over the tolerance, after a cancel', async () => {
    const rig = await bootPreauthRig();
    const unknown = await rig.call({ id: nextId(), cmd: 'preauth.complete', preauthId: 'no-such-hold', amount: 100 });
    expect(unknown).toMatchObject({ type: 'error', code: 'not-found', field: 'preauthId' });
    const { preauthId } = await preauth(rig, 10_000);
    // 20% over the hold is the limit (tip included): 12 000 passes the check, 12 001 does not.
    const over = await rig.call({ id: nextId(), cmd: 'preauth.complete', preauthId, amount: 11_000, tip: 1_001 });
    expect(over).toMatchObject({ type: 'error', code: 'invalid-request', field: 'amount' });
    const cancelled = await rig.call({ id: nextId(), cmd: 'preauth.cancel', preauthId });
    expect(cancelled).toMatchObject({ outcome: 'approved', kind: 'preauth-cancel' });
    const late = await rig.call({ id: nextId(), cmd: 'preauth.complete', preauthId, amount: 10_000 });
    expect(late).toMatchObject({ type: 'error', code: 'not-allowed' });
    const bad = await rig.call({ id: nextId(), cmd: 'preauth.complete', preauthId, amount: -5 });
    expect(bad).toMatchObject({ type: 'error', code: 'invalid-request', field: 'amount' });
    expect(rig.ledger().some((e) => e.mti === '0220')).toBe(false);
    expect(rig.app.hostSim!.totals().netAmount).toBe(0);
  });

  it('0200 per host profile: a financial request naming the 0100 captures the hold', async () => {
    const rig = await bootPreauthRig((c) => ({ ...c, host: { ...c.host, completionMessage: '0200' } }));
    const { preauthId, stan } = await preauth(rig, 8_000);
    const done = await rig.call({ id: nextId(), cmd: 'preauth.complete', preauthId, amount: 8_800 });
    expect(done).toMatchObject({ outcome: 'approved', kind: 'completion', amount: 8_800 });
    expect(answers(rig, '0210')).toEqual([expect.objectContaining({ responseCode: '00', movedAmount: 8_800 })]);
    expect(rig.ledger().some((e) => e.mti === '0220')).toBe(false);
    expect(rig.app.hostSim!.heldOf(rig.terminalId, stan)).toBe(0);
    expect(rig.app.hostSim!.totals().netAmount).toBe(8_800);
    expect(rig.app.journal.preauths.get(preauthId)?.state).toBe('completed');
    expect(rig.app.journal.reversals.forTransaction(done['txnRef'] as string)?.state).toBe('cleared');
  });

  it('a 0200 completion left unanswered is reversed: the host reopens the hold, and the next completion captures it once', async () => {
    const rig = await bootPreauthRig((c) => ({ ...c, host: { ...c.host, completionMessage: '0200' } }));
    const { preauthId, stan } = await preauth(rig, 6_000);
    // The host captures the completion but its answer never comes; the terminal times out and reverses it.
    rig.app.hostSim!.setBehaviour({ misbehaviour: 'silent' });
    const pending = rig.call({ id: nextId(), cmd: 'preauth.complete', preauthId, amount: 6_500 });
    await until(() => rig.ledger().some((e) => e.dir === 'in' && e.mti === '0200'), '0200 at the host');
    rig.app.hostSim!.setBehaviour({ misbehaviour: 'none' });
    expect(rig.app.hostSim!.heldOf(rig.terminalId, stan)).toBe(0);
    await rig.clock.advance(30_000);
    expect((await pending)['outcome']).toBe('failed');
    for (let i = 0; i < 100 && !rig.ledger().some((e) => e.dir === 'out' && e.mti === '0410'); i++) {
      await rig.clock.advance(1_000);
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(answers(rig, '0410')).toEqual([expect.objectContaining({ responseCode: '00', movedAmount: 6_500 })]);
    // The capture did not happen: the host holds the 6,000 again, moved nothing, and the terminal's hold is open.
    expect(rig.app.hostSim!.heldOf(rig.terminalId, stan)).toBe(6_000);
    expect(rig.app.hostSim!.holdTotals()).toMatchObject({ open: { count: 1, amount: 6_000 }, captured: { count: 0 } });
    expect(rig.app.hostSim!.totals().netAmount).toBe(0);
    expect(rig.app.journal.preauths.get(preauthId)?.state).toBe('open');

    const again = await rig.call({ id: nextId(), cmd: 'preauth.complete', preauthId, amount: 6_500 });
    expect(again).toMatchObject({ outcome: 'approved', kind: 'completion', amount: 6_500 });
    expect(rig.app.hostSim!.holdTotals()).toMatchObject({ open: { count: 0 }, captured: { count: 1, amount: 6_500 } });
    expect(rig.app.hostSim!.totals().netAmount).toBe(6_500);
    expect(rig.app.journal.preauths.get(preauthId)?.state).toBe('completed');
  });

  it('a completion while the host is away is queued and forwarded once it is back, never lost or doubled', async () => {
    const rig = await bootPreauthRig();
    const { preauthId } = await preauth(rig, 6_000);
    await rig.app.hostSim!.stop();
    await until(() => !rig.app.terminal.status().hostUp, 'host link down');
    const done = await rig.call({ id: nextId(), cmd: 'preauth.complete', preauthId, amount: 6_000 });
    expect(done).toMatchObject({ outcome: 'approved', kind: 'completion' });
    expect(rig.app.journal.saf.forTransaction(done['txnRef'] as string)?.state).toBe('queued');
    await rig.app.hostSim!.start();
    for (let i = 0; i < 200 && answers(rig, '0230').length === 0; i++) {
      await rig.clock.advance(1_000);
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(answers(rig, '0230')).toHaveLength(1);
    expect(rig.app.hostSim!.totals().netAmount).toBe(6_000);
    expect(rig.app.journal.saf.forTransaction(done['txnRef'] as string)?.state).toBe('forwarded');
  });
});

describe('cancel and expiry', () => {
  it('a cancel reverses the 0100 (increments included): the host releases the whole hold', async () => {
    const rig = await bootPreauthRig();
    const { preauthId, stan } = await preauth(rig, 7_000);
    await rig.call({ id: nextId(), cmd: 'preauth.increment', preauthId, amount: 1_000 });
    const done = await rig.call({ id: nextId(), cmd: 'preauth.cancel', preauthId });
    expect(done).toMatchObject({ outcome: 'approved', kind: 'preauth-cancel', amount: 8_000 });
    expect(rig.app.journal.reversals.forTransaction(done['txnRef'] as string)).toMatchObject({
      state: 'acknowledged',
      originalMti: '0100',
      amount: 8_000,
    });
    expect(rig.app.hostSim!.heldOf(rig.terminalId, stan)).toBe(0);
    expect(rig.app.hostSim!.holdTotals().released).toEqual({ count: 1, amount: 8_000 });
    expect(rig.app.journal.preauths.get(preauthId)?.state).toBe('cancelled');
    expect(rig.app.hostSim!.totals().netAmount).toBe(0);
    const again = await rig.call({ id: nextId(), cmd: 'preauth.cancel', preauthId });
    expect(again).toMatchObject({ type: 'error', code: 'not-allowed' });
  });

  it('a hold still open after preauth.expiryDays expires on the clock: anomaly E409, hold released', async () => {
    // Hourly timers only, so a day on the simulated clock is a few dozen steps.
    const HOUR = 3_600_000;
    const rig = await bootPreauthRig((c) => ({
      ...c,
      preauth: { ...c.preauth, expiryDays: 1, expiryCheckIntervalMs: HOUR },
      selftest: { ...c.selftest, intervalMs: HOUR, echoIntervalMs: HOUR },
      forwarding: { ...c.forwarding, intervalMs: HOUR },
      mqtt: { ...c.mqtt, healthIntervalMs: HOUR },
    }));
    const { preauthId, stan } = await preauth(rig, 4_000);
    const hours = async (n: number) => {
      for (let i = 0; i < n; i++) {
        await rig.clock.advance(HOUR);
        await new Promise((r) => setTimeout(r, 2));
      }
    };
    await hours(23);
    expect(rig.app.journal.preauths.get(preauthId)?.state).toBe('open');
    await hours(2);
    expect(rig.app.journal.preauths.get(preauthId)?.state).toBe('expired');
    expect(rig.app.journal.anomalies.list().map((a) => a.code)).toContain('E409');
    for (let i = 0; i < 100 && rig.app.hostSim!.heldOf(rig.terminalId, stan) > 0; i++) {
      await rig.clock.advance(1_000);
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(rig.app.hostSim!.heldOf(rig.terminalId, stan)).toBe(0);
    expect(rig.app.hostSim!.holdTotals().released).toEqual({ count: 1, amount: 4_000 });
    const late = await rig.call({ id: nextId(), cmd: 'preauth.complete', preauthId, amount: 4_000 });
    expect(late).toMatchObject({ type: 'error', code: 'not-allowed' });
  });
});
