import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { registerJournalCommand } from '../../src/cli/journal-command.js';
import { registerSetAsideCommands } from '../../src/cli/journal-set-aside.js';
import { Journal } from '../../src/journal/index.js';

let dir: string;
let path: string;
const TERMINAL = { terminalId: 'TERM0001', merchantId: 'MERCHANT0000001' };

/** A reversal the host refused for good (05) and an offline sale whose advice it rejected (51). */
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pos-set-aside-'));
  path = join(dir, 'journal.sqlite');
  let now = Date.UTC(2026, 4, 1, 9);
  const j = Journal.open(path, { now: () => (now += 60_000) });
  j.transactions.begin({ txnRef: 'r1', kind: 'sale', amount: 700, currency: '978' });
  const stan = j.counters.nextStan();
  j.transactions.recordState('r1', 'sending', { stan });
  j.reversals.arm({
    txnRef: 'r1',
    stan,
    originalMti: '0200',
    processingCode: '000000',
    amount: 700,
    currency: '978',
    transmittedAt: now,
    maskedPan: '476173******0010',
    ...TERMINAL,
  });
  j.reversals.markPending('r1', 'timeout');
  j.reversals.setAside(j.reversals.forTransaction('r1')!.id, '05', 'reversal refused (do not honour)');
  j.transactions.begin({ txnRef: 'o1', kind: 'sale', amount: 1_250, currency: '978' });
  const offlineStan = j.counters.nextStan();
  const { saf } = j.recordOfflineApproval(
    'o1',
    'offline-approved',
    { stan: offlineStan, responseCode: 'Y1', approvalCode: 'Y10001' },
    {
      stan: offlineStan,
      processingCode: '000000',
      amount: 1_250,
      currency: '978',
      approvalCode: 'Y10001',
      entryMode: 'chip',
      maskedPan: '476173******0010',
      transmittedAt: now,
      cardBlob: Buffer.from([1, 2, 3, 4]),
      ...TERMINAL,
    },
  );
  j.saf.setAside(saf.id, '51', 'host answered 51 to the offline sale');
  j.close();
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[]): { out: string; err: string; exitCode: number } {
  const result = { out: '', err: '', exitCode: 0 };
  const program = new Command()
    .name('pos-terminal')
    .exitOverride()
    .configureOutput({ writeOut: (s) => (result.out += s), writeErr: (s) => (result.err += s) });
  const journal = registerJournalCommand(program, () => Journal.open(path, { readonly: true }));
  registerSetAsideCommands(
    journal,
    () => Journal.open(path, { readonly: true }),
    () => Journal.open(path),
  );
  try {
    program.parse(args, { from: 'user' });
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    result.exitCode = err.exitCode;
  }
  return result;
}

describe('pos-terminal journal set-aside and resolve', () => {
  it('lists both kinds, resolves each once, and the owed totals follow', () => {
    const table = run(['journal', 'set-aside']);
    expect(table.exitCode).toBe(0);
    const lines = table.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ITEM\s+ID\s+STAN\s+AMOUNT\s+CARD\s+ANSWER/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 6))).toEqual([
      ['reversal', '1', '000001', '7.00', '978', '476173******0010'],
      ['advice', '1', '000002', '12.50', '978', '476173******0010'],
    ]);

    expect(run(['journal', 'resolve', '--advice', '1', '--note', 'loss written off']).out).toBe(
      'resolved advice 1 (STAN 000002, 12.50 978)\n',
    );
    const again = run(['journal', 'resolve', '--advice', '1', '--note', 'twice']);
    expect(again.exitCode).toBe(1);
    expect(again.err).toContain('no advice 1 is set aside');
    expect(run(['journal', 'resolve', '--note', 'which?']).exitCode).toBe(2);
    expect(run(['journal', 'resolve', '--reversal', '1', '--advice', '1', '--note', 'both']).exitCode).toBe(2);
    expect(run(['journal', 'resolve', '--reversal', '1', '--note', '   ']).exitCode).toBe(2);

    const json = JSON.parse(run(['journal', 'set-aside', '--format', 'json']).out) as Array<Record<string, unknown>>;
    expect(json.map((r) => [r['item'], r['id']])).toEqual([['reversal', 1]]);
    expect(run(['journal', 'resolve', '--reversal', '1', '--note', 'refunded by hand']).exitCode).toBe(0);
    expect(run(['journal', 'set-aside']).out).toBe('nothing is set aside\n');

    const j = Journal.open(path, { readonly: true });
    try {
      expect(j.setAsideTotals()).toEqual({ reversals: { count: 0, total: 0 }, advices: { count: 0, total: 0 } });
      // The items keep their rows and states; the resolution is journaled on each transaction.
      expect(j.reversals.forTransaction('r1')?.state).toBe('pending');
      expect(j.transactions.events('o1').at(-1)).toMatchObject({ state: 'set-aside-resolved' });
      expect(j.transactions.events('r1').at(-1)).toMatchObject({ state: 'set-aside-resolved' });
    } finally {
      j.close();
    }
  });
});
