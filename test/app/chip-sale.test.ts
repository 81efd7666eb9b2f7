/**
 * Chip sales through the whole terminal on mocks: the reader's EMV kernel, the mock PIN pad and the embedded host
 * simulator, which verifies the ARQC and the PIN and answers tag 91. Money is checked against the host's ledger.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TerminalApp } from '../../src/app/compose.js';
import { readLedger, reconcile } from '../support/reconcile.js';
import { bootApp, type BootOptions } from './boot.js';

let ledgerPath = '';
async function boot(emv?: BootOptions['emv']): Promise<TerminalApp> {
  return bootApp([], {
    ...(emv ? { emv } : {}),
    hostLedgerPath: (dataDir) => {
      ledgerPath = join(dataDir, 'host-ledger.jsonl');
      return ledgerPath;
    },
  });
}

/** A sale with this test card; at each PIN prompt the cardholder types the next of `pin` (or cancels). */
async function sale(app: TerminalApp, card: string, amount: number, pin?: string | string[], partial?: 'confirm') {
  const states: string[] = [];
  const pins = Array.isArray(pin) ? [...pin] : pin !== undefined ? [pin] : [];
  const result = await app.commands.run(
    { kind: 'sale', amount },
    {
      client: 'test',
      progress: (event) => {
        // The register answers later, as a real one does, not from inside the terminal's own step.
        if (event.type === 'partial' && partial)
          setTimeout(() => void app.commands.run({ kind: 'confirm' }, { client: 'test' }), 0);
        if (event.type !== 'state') return;
        states.push(event.state);
        if (event.state === 'waitingForCard') app.simulator.run({ kind: 'card', name: card });
        if (event.state === 'enteringPin' && pins.length > 0) {
          const next = pins.shift()!;
          app.simulator.run(next === 'cancel' ? { kind: 'pin', cancel: true } : { kind: 'pin', pin: next });
        }
      },
    },
  );
  if (!result.ok) throw new Error(`sale refused: ${result.message}`);
  await app.terminal.settled();
  return { ...result.value, states };
}

function ledger() {
  return readLedger(ledgerPath);
}

/** Everything the host approved was kept or reversed, and nothing is owed either way. */
async function expectSettled(app: TerminalApp) {
  await app.terminal.settled();
  // The host's answer is in its ledger a moment before the terminal has committed it: wait for what is owed to clear.
  const owed = () => app.journal.reversals.pending().length + app.journal.saf.stats().count;
  for (let i = 0; i < 100 && owed() > 0; i++) await new Promise((r) => setTimeout(r, 20));
  const check = reconcile(ledger(), app.journal);
  expect(check.problems).toEqual([]);
  expect(check.owed).toMatchObject({ inFlight: 0, armedReversals: 0, pendingReversals: 0 });
  return check;
}

describe('a chip sale through the EMV kernel', () => {
  it('sends field 55 with a cryptogram the host verifies, and completes with the card TC', async () => {
    const app = await boot();
    const done = await sale(app, 'emv-online-approve', 1250);
    expect(done.outcome).toBe('approved');
    expect(done.states).toEqual(expect.arrayContaining(['startingChip', 'authorizing', 'completingChip', 'approved']));
    const answer = ledger().find((e) => e.dir === 'out' && e.mti === '0210');
    expect(answer).toMatchObject({ field55: true, cryptogramValid: true, pinPresent: false });
    const check = await expectSettled(app);
    expect(check.money.host).toBe(1250);
  });

  it('takes an online PIN that the host deciphers and verifies', async () => {
    const app = await boot();
    const done = await sale(app, 'emv-online-pin', 2000, '1234');
    expect(done.outcome).toBe('approved');
    expect(done.states).toContain('enteringPin');
    expect(ledger().find((e) => e.dir === 'out' && e.mti === '0210')).toMatchObject({
      field55: true,
      cryptogramValid: true,
      pinPresent: true,
      pinVerified: true,
    });
    // Field 22: read from the chip (05), and the terminal has a PIN pad attached (1).
    expect(ledger().find((e) => e.dir === 'in' && e.mti === '0200')).toMatchObject({ posEntryMode: '051' });
    await expectSettled(app);
  });

  it('declines a wrong PIN (55) and charges nothing when one try is configured', async () => {
    const app = await boot({ onlinePinTries: 1 });
    const done = await sale(app, 'emv-online-pin', 2000, '9999');
    expect(done).toMatchObject({ outcome: 'declined', responseCode: '55', anomaly: { name: 'declined-pin' } });
    const check = await expectSettled(app);
    expect(check.money.host).toBe(0);
  });

  it('asks again after a wrong PIN (55): the attempt keeps its own STAN and row, the second PIN is approved', async () => {
    const app = await boot();
    const done = await sale(app, 'emv-online-pin', 2100, ['9999', '1234']);
    expect(done).toMatchObject({ outcome: 'approved', responseCode: '00' });
    expect(done.states.filter((s) => s === 'enteringPin')).toHaveLength(2);
    expect(done.states).toContain('retryingPin');
    const answers = ledger().filter((e) => e.dir === 'out' && e.mti === '0210');
    expect(answers.map((e) => e.responseCode)).toEqual(['55', '00']);
    expect(new Set(answers.map((e) => e.stan)).size).toBe(2);
    const rows = app.journal.transactions.list({ limit: 10 });
    // The sale's row was made first; the attempt set apart after it.
    expect(rows.map((r) => [r.outcome, r.responseCode])).toEqual([
      ['approved', '00'],
      ['declined', '55'],
    ]);
    expect(rows[1]!.txnRef).toBe(`${rows[0]!.txnRef}.pin1`);
    expect(app.journal.anomalies.list({ limit: 10 }).map((a) => a.txnRef)).toContain(rows[1]!.txnRef);
    const check = await expectSettled(app);
    expect(check.money.host).toBe(2100);
  });

  it('a cancel at the second PIN prompt ends the sale with nothing charged', async () => {
    const app = await boot();
    const done = await sale(app, 'emv-online-pin', 2300, ['9999', 'cancel']);
    expect(done.outcome).toBe('cancelled');
    const check = await expectSettled(app);
    expect(check.money.host).toBe(0);
  });

  it("ends at the issuer's limit: two wrong PINs answered 55, the third 75, nothing charged", async () => {
    const app = await boot();
    const done = await sale(app, 'emv-online-pin', 2200, ['1111', '2222', '3333']);
    expect(done).toMatchObject({ outcome: 'declined', responseCode: '75' });
    const answers = ledger().filter((e) => e.dir === 'out' && e.mti === '0210');
    expect(answers.map((e) => e.responseCode)).toEqual(['55', '55', '75']);
    const check = await expectSettled(app);
    expect(check.money.host).toBe(0);
  });

  it('gives a partial approval (10) to the card first, then lets the register accept it', async () => {
    const app = await boot();
    app.hostSim!.answerOnce({ mti: '0210', responseCode: '10', approvedAmount: 1500 });
    const done = await sale(app, 'emv-online-approve', 4000, undefined, 'confirm');
    expect(done).toMatchObject({ outcome: 'approved', amount: 1500 });
    expect(done.states).toContain('confirmingPartial');
    expect(done.states.indexOf('completingChip')).toBeGreaterThan(-1);
    expect(done.states.indexOf('completingChip')).toBeLessThan(done.states.indexOf('confirmingPartial'));
    const check = await expectSettled(app);
    expect(check.money.host).toBe(1500);
  });

  it('reverses an approval the card refuses at its second decision', async () => {
    const app = await boot();
    const done = await sale(app, 'emv-decline-after-approval', 3000);
    expect(done).toMatchObject({ outcome: 'declined', anomaly: { name: 'card-declined-after-approval' } });
    for (let i = 0; i < 100 && !ledger().some((e) => e.dir === 'in' && e.mti === '0400'); i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(ledger().filter((e) => e.dir === 'in' && e.mti === '0400')).toHaveLength(1);
    const check = await expectSettled(app);
    expect(check.money.host).toBe(0);
  });

  it('reverses an approval when the card is removed before it decided', async () => {
    const app = await boot();
    const done = await sale(app, 'emv-removed', 4000);
    expect(done).toMatchObject({ outcome: 'declined', anomaly: { name: 'card-removed-before-completion' } });
    for (let i = 0; i < 100 && !ledger().some((e) => e.dir === 'in' && e.mti === '0400'); i++)
      await new Promise((r) => setTimeout(r, 20));
    const check = await expectSettled(app);
    expect(check.money.host).toBe(0);
  });

  it('tells the card a host decline, and the sale is declined with nothing owed', async () => {
    const app = await boot();
    const done = await sale(app, 'emv-online-decline', 1500);
    expect(done).toMatchObject({ outcome: 'declined', responseCode: '05' });
    expect(done.states).toContain('completingChip');
    await expectSettled(app);
  });

  it('approves offline (Y3) when the host is away, and the advice carries the card TC the host verifies', async () => {
    const app = await boot();
    app.mocks.network?.setState({ link: 'down' });
    const done = await sale(app, 'visa', 1800);
    expect(done.outcome).toBe('offline-approved');
    app.mocks.network?.setState({ link: 'up' });
    for (let i = 0; i < 200 && !ledger().some((e) => e.dir === 'out' && e.mti === '0230'); i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(ledger().find((e) => e.dir === 'out' && e.mti === '0230')).toMatchObject({
      field55: true,
      cryptogramValid: true,
    });
    const check = await expectSettled(app);
    expect(check.money.host).toBe(1800);
  });

  it('keeps card data out of field 55 and the journal', async () => {
    const app = await boot();
    await sale(app, 'emv-online-approve', 990);
    const request = ledger().find((e) => e.dir === 'in' && e.mti === '0200');
    expect(request?.pan).toMatch(/^\d{6}\*+\d{4}$/);
    const row = app.journal.transactions.list({ limit: 1 })[0]!;
    expect(JSON.stringify(row)).not.toMatch(/4761739001020019/);
  });
});
