import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { registerBatchCommands } from '../../src/cli/journal-batches.js';
import { registerJournalCommand } from '../../src/cli/journal-command.js';
import { Journal } from '../../src/journal/index.js';
import { computeBatchTotals } from '../../src/settlement/totals.js';

let dir: string;
let path: string;

function approved(j: Journal, ref: string, kind: 'sale' | 'refund', amount: number): void {
  j.transactions.begin({ txnRef: ref, kind, amount, currency: '978' });
  j.transactions.recordState(ref, 'sending', { stan: j.counters.nextStan(), maskedPan: '411111******1111' });
  j.transactions.recordState(ref, 'approved', { outcome: 'approved', responseCode: '00', approvalCode: 'A00001' });
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pos-batches-'));
  path = join(dir, 'journal.sqlite');
  let now = Date.UTC(2026, 4, 1, 9);
  const j = Journal.open(path, { now: () => (now += 60_000) });
  approved(j, 's1', 'sale', 1_250);
  approved(j, 'r1', 'refund', 300);
  const totals = computeBatchTotals(j, 1, '978');
  j.batches.close(1, totals, { '978': { responseCode: '00', afterUpload: false } });
  approved(j, 's2', 'sale', 4_000);
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
  registerBatchCommands(journal, () => Journal.open(path, { readonly: true }));
  try {
    program.parse(args, { from: 'user' });
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    result.exitCode = err.exitCode;
  }
  return result;
}

describe('pos-terminal journal batches and export', () => {
  it('lists the batches, the closed one with its count and net', () => {
    const r = run(['journal', 'batches']);
    expect(r.exitCode).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^BATCH\s+STATE\s+OPENED/);
    expect(lines[1]).toMatch(/^000002\s+open/);
    expect(lines[2]).toMatch(/^000001\s+closed\s+\S+\s+\S+\s+2\s+9\.50 978/);
    const json = JSON.parse(run(['journal', 'batches', '--format', 'json']).out) as Array<Record<string, unknown>>;
    expect(json.map((b) => [b['number'], b['state']])).toEqual([
      [2, 'open'],
      [1, 'closed'],
    ]);
  });

  it('exports one batch as CSV (its transactions only) and as JSON with its totals', () => {
    const csv = run(['journal', 'export', '--batch', '1', '--format', 'csv']).out.trimEnd().split('\r\n');
    expect(csv).toHaveLength(3);
    expect(csv[0]).toMatch(/^id,txnRef,/);
    expect(csv.slice(1).map((l) => l.split(',')[1])).toEqual(['s1', 'r1']);
    const json = JSON.parse(run(['journal', 'export', '--batch', '1', '--format', 'json']).out) as {
      batch: { state: string; terminalTotals: { currencies: Array<{ net: number }> } };
      transactions: Array<{ txnRef: string; batchNumber: number }>;
    };
    expect(json.batch.state).toBe('closed');
    expect(json.batch.terminalTotals.currencies[0]!.net).toBe(950);
    expect(json.transactions.map((t) => [t.txnRef, t.batchNumber])).toEqual([
      ['s1', 1],
      ['r1', 1],
    ]);
  });

  it('refuses an unknown batch and a bad number with one error line', () => {
    const unknown = run(['journal', 'export', '--batch', '9']);
    expect(unknown.exitCode).toBe(1);
    expect(unknown.err.trimEnd()).toBe('error: no batch 9 in the journal');
    const bad = run(['journal', 'export', '--batch', 'x']);
    expect(bad.exitCode).toBe(2);
    expect(bad.err).toMatch(/batch number/);
  });
});
