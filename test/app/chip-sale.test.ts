/**
 * Chip sales through the whole terminal on mocks: the reader's EMV kernel, the mock PIN pad and the embedded host
 * simulator, which verifies the ARQC and the PIN and answers tag 91. Money is checked against the host's ledger.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TerminalApp } from '../../src/app/compose.js';
import { readLedger, reconcile } from '../support/reconcile.js';
import { bootApp } from './boot.js';

let ledgerPath = '';
async function boot(): Promise<TerminalApp> {
  return bootApp([], {
    hostLedgerPath: (dataDir) => {
      ledgerPath = join(dataDir, 'host-ledger.jsonl');
      return ledgerPath;
    },
  });
}

/** A sale with this test card; at the PIN prompt the cardholder types `pin` (or cancels). */
async function sale(app: TerminalApp, card: string, amount: number, pin?: string | 'cancel') {
  const states: string[] = [];
  const result = await app.commands.run(
    { kind: 'sale', amount },
    {
      client: 'test',
      progress: (event) => {
        if (event.type !== 'state') return;
        states.push(event.state);
        if (event.state === 'waitingForCard') app.simulator.run({ kind: 'card', name: card });
        if (event.state === 'enteringPin' && pin !== undefined)
          app.simulator.run(pin === 'cancel' ? { kind: 'pin', cancel: true } : { kind: 'pin', pin });
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

  it('declines a wrong PIN (55) and charges nothing', async () => {
    const app = await boot();
    const done = await sale(app, 'emv-online-pin', 2000, '9999');
    expect(done).toMatchObject({ outcome: 'declined', responseCode: '55', anomaly: { name: 'declined-pin' } });
    const check = await expectSettled(app);
    expect(check.money.host).toBe(0);
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
