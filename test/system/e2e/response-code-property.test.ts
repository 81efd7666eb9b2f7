/**
 * The money invariant under any field 39 answer, checked against the host simulator's own ledger: every two-character
 * value is drawn for every message type the terminal sends (0200 sale, 0400/0401 reversal, 0220/0221 advice).
 * - each STAN the host approved is journaled approved and the register was told so, or the host reversed it;
 * - nothing the terminal took as done (a reversal acknowledged, an advice forwarded) is undone at the host;
 * - a retry-later answer (91, 96...) to a reversal or an advice is retried until the host has it.
 * One terminal and host for the whole run (ManualClock, loopback), the host told each answer once.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EcrMessage } from '../../../src/ecr/client.js';
import type { LedgerEntry } from '../../../src/acquirer-sim/simulator.js';
import { RESPONSE_CODES, responseClass } from '../../../src/iso8583/index.js';
import { AMOUNT, bootRig, stopAll, type Rig } from '../../durability/harness.js';
import { EVERY_TWO_CHARACTER_CODE } from '../../support/field39.js';

const RUNS = Number(process.env['POS_PROPERTY_RUNS'] ?? 40);
const SEED = Number(process.env['POS_PROPERTY_SEED'] ?? 20261202);
/** Any value a host may send, with the table's codes drawn often enough to meet each class. */
const anyCode = fc.oneof(
  fc.constantFrom(...RESPONSE_CODES.map((r) => r.code)),
  fc.constantFrom(...EVERY_TWO_CHARACTER_CODE),
);

let rig: Rig;
beforeAll(async () => {
  rig = await bootRig();
});
afterAll(stopAll);

let amounts = 0;
/** A fresh amount each time (no duplicate check in the way), under the offline floor limit. */
const nextAmount = () => 1_000 + (++amounts % 20_000);

async function sale(amount: number, decide: 'confirm' | 'cancel' = 'confirm'): Promise<EcrMessage> {
  // Runs of failed sales trip the lockout policy (that is its job); a supervisor clears it between draws.
  if (rig.app.terminal.isLocked())
    expect(await rig.client.call({ cmd: 'unlock', supervisorPin: '1234' })).toMatchObject({ type: 'done' });
  return rig.client.call({ cmd: 'sale', amount }, (m) => {
    if (m.type === 'state' && m['state'] === 'waitingForCard') void rig.client.call({ cmd: 'sim.card', name: 'visa' });
    if (m.type === 'state' && m['state'] === 'confirmingDuplicate') void rig.client.call({ cmd: 'confirm' });
    if (m.type === 'partial') void rig.client.call({ cmd: decide });
  });
}

/**
 * Lets the forwarder run (backoff, retries, periodic drains) until nothing is owed for this transaction. A reversal
 * the host refused for good stays 'pending' in its row but is set aside (no longer in pendingReversals): nothing more
 * is owed to the host then, the operator settles it. Time moves in 1 s steps with a real pause between, so a loopback
 * answer always arrives long before its 30 s response timeout comes due; after each timer the clock waits for a
 * self-test it started (real file I/O) to finish, as a real clock would, instead of firing its 2 s deadline at once.
 */
async function drain(txnRef: string): Promise<void> {
  const { journal, terminal } = rig.app;
  for (let i = 0; i < 150; i++) {
    const owed =
      journal.reversals.forTransaction(txnRef)?.state === 'armed' ||
      journal.reversals.pending().some((r) => r.txnRef === txnRef);
    const queued = journal.saf.queue().some((q) => q.txnRef === txnRef);
    if (!owed && !queued) return;
    terminal.status();
    await rig.clock.advance(1_000, () => terminal.settled());
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const out = (mti: string, stan: number): LedgerEntry[] =>
  rig.ledger().filter((e) => e.dir === 'out' && e.mti === mti && Number(e.stan) === stan && !e.duplicate);
const moved = (mti: string, stan: number) => out(mti, stan).some((e) => (e.movedAmount ?? 0) > 0);

/**
 * The invariant for a sale's STAN, from the host's ledger and the terminal's journal and reply. `reversalCode` is the
 * drawn answer to its reversal: one that means "never again" may leave the reversal set aside for the operator (never
 * taken as done); any other must have reached the host.
 */
function checkSale(stan: number, reply: EcrMessage, reversalCode?: string): void {
  const approvedAtHost = moved('0210', stan);
  const reversedAtHost = moved('0410', stan);
  const row = rig.app.journal.transactions.findByStan(stan, 'sale');
  const reversal = rig.app.journal.reversals.forTransaction(row!.txnRef);
  const neverAgain =
    reversalCode !== undefined &&
    responseClass(reversalCode) !== 'retry-later' &&
    responseClass(reversalCode) !== 'approved';
  const setAsideForOperator =
    neverAgain && reversal !== undefined && !['acknowledged', 'cleared', 'armed'].includes(reversal.state);
  if (approvedAtHost && !reversedAtHost && !setAsideForOperator) {
    expect(row?.outcome, `STAN ${stan} approved at the host`).toBe('approved');
    expect(reply['outcome'], `STAN ${stan}: the register was told`).toBe('approved');
  }
  if (row?.outcome === 'approved')
    expect(approvedAtHost && !reversedAtHost, `STAN ${stan} journaled approved`).toBe(true);
  // A reversal the terminal took as acknowledged is one the host took.
  if (rig.app.journal.reversals.forTransaction(row!.txnRef)?.state === 'acknowledged' && approvedAtHost)
    expect(reversedAtHost, `STAN ${stan} reversal acknowledged`).toBe(true);
}

describe('money invariant under any field 39 answer', () => {
  it('0210: any answer to a sale', async () => {
    await fc.assert(
      fc.asyncProperty(anyCode, fc.boolean(), async (code, accept) => {
        rig.app.hostSim!.answerOnce({ mti: '0210', responseCode: code });
        const reply = await sale(nextAmount(), accept ? 'confirm' : 'cancel');
        const stan = reply['stan'] as number;
        await drain(reply['txnRef'] as string);
        checkSale(stan, reply);
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });

  // The next three hold because the forwarder settles a reversal or an advice only on a success and retries the
  // retry-later codes (src/durability/answer-policy.ts); before that, any 0410 acknowledged and a 0230 other than 00
  // was set aside for good.
  it('0410: any answer to a reversal of a sale the host approved', async () => {
    await fc.assert(
      fc.asyncProperty(anyCode, async (code) => {
        // The host approves and answers with a wrong amount: the terminal reverses.
        rig.app.hostSim!.answerOnce({ mti: '0410', responseCode: code });
        const reply = await sale(AMOUNT.wrongAmount);
        const stan = reply['stan'] as number;
        await drain(reply['txnRef'] as string);
        checkSale(stan, reply, code);
        if (responseClass(code) === 'retry-later')
          expect(moved('0410', stan), `reversal answered ${code} retried`).toBe(true);
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });

  // Drawn rarely by the default seed, so named here: "original not found" to the reversal of a sale the host did
  // answer (with a wrong amount) contradicts the host's own answer; taking it as done would leave the money taken.
  for (const code of ['25', '76']) {
    it(`0410: ${code} to the reversal of a sale the host answered is never taken as done`, async () => {
      rig.app.hostSim!.answerOnce({ mti: '0410', responseCode: code });
      const reply = await sale(AMOUNT.wrongAmount);
      const stan = reply['stan'] as number;
      await drain(reply['txnRef'] as string);
      checkSale(stan, reply, code);
      expect(rig.app.journal.reversals.forTransaction(reply['txnRef'] as string)?.state).not.toBe('acknowledged');
      expect(rig.app.journal.reversals.listSetAside().map((r) => r.stan)).toContain(stan);
    });
  }

  it('0401: any answer to a repeated reversal', async () => {
    await fc.assert(
      fc.asyncProperty(anyCode, async (code) => {
        // The first 0400 is refused 96 (nothing moves), the repeat gets the drawn answer.
        rig.app.hostSim!.answerOnce({ mti: '0410', responseCode: '96' });
        rig.app.hostSim!.answerOnce({ mti: '0410', responseCode: code });
        const reply = await sale(AMOUNT.wrongAmount);
        const stan = reply['stan'] as number;
        await drain(reply['txnRef'] as string);
        checkSale(stan, reply, code);
        expect(
          rig.ledger().some((e) => e.dir === 'in' && e.mti === '0401' && Number(e.stan) === stan),
          `a 0401 for ${stan}`,
        ).toBe(true);
        rig.app.hostSim!.clearOverrides();
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });

  it('0230: any answer to an advice, first (0220) or repeated (0221)', async () => {
    await fc.assert(
      fc.asyncProperty(anyCode, fc.boolean(), async (code, onRepeat) => {
        rig.app.mocks.network!.setState({ link: 'down' });
        const reply = await sale(nextAmount());
        expect(reply['outcome'], JSON.stringify(reply)).toBe('offline-approved');
        const stan = reply['stan'] as number;
        if (onRepeat) rig.app.hostSim!.answerOnce({ mti: '0230', responseCode: '96', stan });
        rig.app.hostSim!.answerOnce({ mti: '0230', responseCode: code, stan });
        rig.app.mocks.network!.setState({ link: 'up' });
        rig.app.terminal.status();
        await drain(reply['txnRef'] as string);
        const captured = moved('0230', stan);
        expect(rig.app.journal.transactions.findByStan(stan, 'sale')?.outcome).toBe('offline-approved');
        // Taken as forwarded only when the host captured it; a retry-later answer is retried until it is.
        const forwarded =
          !rig.app.journal.saf.queue().some((q) => q.stan === stan) &&
          out('0230', stan).some((e) => e.responseCode === '00');
        if (forwarded) expect(captured, `advice ${stan} forwarded`).toBe(true);
        if (captured)
          expect(
            rig.app.journal.anomalies.list({ code: 'E609' }).some((a) => a.stan === stan),
            `advice ${stan} captured but set aside`,
          ).toBe(false);
        if (responseClass(code) === 'retry-later' || (onRepeat && responseClass(code) === 'approved'))
          expect(captured, `advice answered ${code} retried`).toBe(true);
        rig.app.hostSim!.clearOverrides();
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });
});
