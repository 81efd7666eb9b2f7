import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseIsoDate, registerJournalCommand } from '../../src/cli/journal-command.js';
import { Journal, JournalError, type AnomalyRow, type TransactionRow } from '../../src/journal/index.js';
import { steppingClock, tempDir } from './helpers.js';

let tmp: ReturnType<typeof tempDir>;
let path: string;

beforeEach(() => {
  tmp = tempDir();
  path = join(tmp.dir, 'journal.sqlite');
  const clock = steppingClock(Date.UTC(2024, 4, 1, 10), 60_000);
  const j = Journal.open(path, { now: clock.now });
  const sale = (ref: string, day: number, outcome: 'approved' | 'declined', amount: number) => {
    clock.set(Date.UTC(2024, 4, day, 10));
    j.transactions.begin({ txnRef: ref, kind: 'sale', amount, currency: '978' });
    j.transactions.recordState(ref, 'sending', { stan: j.counters.nextStan(), maskedPan: '411111******1111' });
    j.transactions.recordState(
      ref,
      outcome,
      { outcome, responseCode: outcome === 'approved' ? '00' : '05' },
      { hostMs: 90 },
    );
  };
  sale('s1', 1, 'approved', 1000);
  sale('s2', 2, 'declined', 2000);
  sale('s3', 3, 'approved', 3050);
  clock.set(Date.UTC(2024, 4, 2, 11));
  j.anomalies.record({
    code: 'E201',
    class: 'declined',
    severity: 'info',
    message: 'Declined: 05 Do not honour',
    txnRef: 's2',
    amount: 2000,
    currency: '978',
  });
  j.anomalies.record({
    code: 'E301',
    class: 'hardware-fault',
    severity: 'error',
    message: 'The printer is out of paper, "roll"',
  });
  j.anomalies.record({ code: 'E302', class: 'hardware-fault', severity: 'warning', message: 'Paper low' });
  j.close();
});

afterEach(() => tmp.cleanup());

interface Result {
  out: string;
  err: string;
  exitCode: number;
  opened: { config?: string }[];
  journals: Journal[];
}

function run(
  args: string[],
  opts: { rootConfig?: boolean; opener?: (o: { config?: string }) => Journal } = {},
): Result {
  const result: Result = { out: '', err: '', exitCode: 0, opened: [], journals: [] };
  const program = new Command()
    .name('pos-terminal')
    .exitOverride()
    .configureOutput({ writeOut: (s) => (result.out += s), writeErr: (s) => (result.err += s) });
  if (opts.rootConfig) program.option('--config <file>', 'configuration overlay');
  registerJournalCommand(program, (o) => {
    result.opened.push(o);
    const j = opts.opener ? opts.opener(o) : Journal.open(path, { readonly: true });
    result.journals.push(j);
    return j;
  });
  try {
    program.parse(args, { from: 'user' });
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    result.exitCode = err.exitCode;
  }
  return result;
}

function expectUsageError(r: Result, pattern: RegExp): void {
  expect(r.exitCode).toBe(2);
  expect(r.out).toBe('');
  const lines = r.err.trimEnd().split('\n');
  expect(lines, r.err).toHaveLength(1);
  expect(lines[0]).toMatch(/^error: /);
  expect(lines[0]).toMatch(pattern);
  expect(r.err).not.toMatch(/\n\s+at /);
}

describe('journal transactions', () => {
  it('prints a table by default and closes the journal', () => {
    const r = run(['journal', 'transactions']);
    expect(r.exitCode).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^TIME \(UTC\)\s+REF\s+KIND/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[1])).toEqual(['s1', 's2', 's3']);
    expect(r.out).toContain('30.50');
    expect(r.journals.every((j) => !j.isOpen)).toBe(true);
  });

  it('filters by outcome, state, dates and limit', () => {
    const refs = (r: Result) =>
      r.out
        .trimEnd()
        .split('\n')
        .map((l) => (JSON.parse(l) as TransactionRow).txnRef);
    expect(refs(run(['journal', 'transactions', '--format', 'jsonl', '--outcome', 'approved']))).toEqual(['s1', 's3']);
    expect(refs(run(['journal', 'transactions', '--format', 'jsonl', '--state', 'declined']))).toEqual(['s2']);
    expect(
      refs(run(['journal', 'transactions', '--format', 'jsonl', '--from', '2024-05-02', '--to', '2024-05-02'])),
    ).toEqual(['s2']);
    expect(refs(run(['journal', 'transactions', '--format', 'jsonl', '--from', '2024-05-02T00:00:00Z']))).toEqual([
      's2',
      's3',
    ]);
    expect(refs(run(['journal', 'transactions', '--format', 'jsonl', '--to', '2024-05-02T10:00:00+02:00']))).toEqual([
      's1',
    ]);
    expect(refs(run(['journal', 'transactions', '--format', 'jsonl', '--limit', '1']))).toEqual(['s3']);
  });

  it('exports CSV and includes events on request', () => {
    const csv = run(['journal', 'transactions', '--format', 'csv', '--events', '--limit', '1']);
    const [header, row] = csv.out.split('\r\n');
    expect(header?.split(',').at(-1)).toBe('events');
    expect(row).toContain('s3');
    expect(row).toContain('""state"":""sending""');

    const jsonl = JSON.parse(run(['journal', 'transactions', '--format', 'jsonl', '--events', '--limit', '1']).out) as {
      events: { state: string }[];
    };
    expect(jsonl.events.map((e) => e.state)).toEqual(['created', 'sending', 'approved']);

    const table = run(['journal', 'transactions', '--events', '--limit', '1']).out;
    expect(table).toMatch(
      /\n {4}\S+ {2}approved {2}set \{"responseCode":"00","outcome":"approved"\} {2}\{"hostMs":90\}/,
    );
  });
});

describe('journal anomalies', () => {
  it('filters by code, name, class, dates and limit', () => {
    const codes = (r: Result) =>
      r.out
        .trimEnd()
        .split('\n')
        .filter(Boolean)
        .map((l) => (JSON.parse(l) as AnomalyRow).code);
    expect(codes(run(['journal', 'anomalies', '--format', 'jsonl']))).toEqual(['E201', 'E301', 'E302']);
    expect(codes(run(['journal', 'anomalies', '--format', 'jsonl', '--code', 'e301']))).toEqual(['E301']);
    expect(codes(run(['journal', 'anomalies', '--format', 'jsonl', '--code', 'printer-paper-near-end']))).toEqual([
      'E302',
    ]);
    expect(
      codes(run(['journal', 'anomalies', '--format', 'jsonl', '--class', 'hardware-fault', '--limit', '1'])),
    ).toEqual(['E302']);
    expect(codes(run(['journal', 'anomalies', '--format', 'jsonl', '--from', '2030-01-01']))).toEqual([]);
  });

  it('prints CSV with quoted fields and a table', () => {
    const csv = run(['journal', 'anomalies', '--format', 'csv', '--code', 'E301']).out;
    expect(csv).toContain('"The printer is out of paper, ""roll"""');
    const table = run(['journal', 'anomalies']).out;
    expect(table.split('\n')[0]).toMatch(/^TIME \(UTC\)\s+CODE/);
    expect(table).toContain('20.00');
  });
});

describe('options and failures', () => {
  it('passes --config to the opener, from the subcommand or the program', () => {
    expect(run(['journal', 'anomalies', '--config', 'a.json']).opened).toEqual([{ config: 'a.json' }]);
    expect(run(['journal', 'anomalies', '--config', 'b.json'], { rootConfig: true }).opened).toEqual([
      { config: 'b.json' },
    ]);
    expect(run(['--config', 'c.json', 'journal', 'transactions'], { rootConfig: true }).opened).toEqual([
      { config: 'c.json' },
    ]);
    expect(run(['journal', 'anomalies']).opened).toEqual([{}]);
  });

  it('rejects bad option values with one line and exit code 2', () => {
    expectUsageError(run(['journal', 'transactions', '--format', 'xml']), /format must be one of table, jsonl, csv/);
    expectUsageError(run(['journal', 'transactions', '--from', 'yesterday']), /ISO 8601/);
    expectUsageError(run(['journal', 'transactions', '--to', '2024-02-30']), /not a real date/);
    expectUsageError(run(['journal', 'transactions', '--limit', '0']), /whole number/);
    expectUsageError(run(['journal', 'transactions', '--limit', '2.5']), /whole number/);
    expectUsageError(run(['journal', 'transactions', '--outcome', 'maybe']), /outcome must be one of/);
    expectUsageError(run(['journal', 'anomalies', '--class', 'weird']), /class must be one of/);
    expectUsageError(run(['journal', 'anomalies', '--code', 'X1']), /anomaly code/);
    expectUsageError(run(['journal', 'anomalies', '--bogus']), /unknown option/);
    expectUsageError(
      run(['journal', 'transactions', '--from', '2024-05-03', '--to', '2024-05-01']),
      /--from must be earlier than --to/,
    );
    expectUsageError(run(['journal', 'transactions', '--limit']), /argument missing/);
  });

  it('opens nothing when the options are bad', () => {
    expect(run(['journal', 'transactions', '--format', 'xml']).opened).toEqual([]);
  });

  it('reports a journal failure in one line with exit code 1', () => {
    const r = run(['journal', 'transactions'], {
      opener: () => {
        throw new JournalError('storage-fault', 'open journal /x: SQLITE_CANTOPEN: unable to open database file');
      },
    });
    expect(r.exitCode).toBe(1);
    expect(r.err).toBe('error: journal: open journal /x: SQLITE_CANTOPEN: unable to open database file\n');
    expect(r.out).toBe('');
  });

  it('reports a missing journal file without a stack trace', () => {
    const r = run(['journal', 'anomalies'], {
      opener: () => Journal.open(join(tmp.dir, 'none.sqlite'), { readonly: true }),
    });
    expect(r.exitCode).toBe(1);
    expect(r.err).toMatch(/^error: journal: .*SQLITE_CANTOPEN/);
    expect(r.err.trimEnd().split('\n')).toHaveLength(1);
  });
});

describe('parseIsoDate', () => {
  it('reads dates as UTC days and times with offsets', () => {
    expect(parseIsoDate('2024-05-01', 'from')).toBe(Date.UTC(2024, 4, 1));
    expect(parseIsoDate('2024-05-01', 'to')).toBe(Date.UTC(2024, 4, 2));
    expect(parseIsoDate('2024-05-01T13:45', 'to')).toBe(Date.UTC(2024, 4, 1, 13, 45));
    expect(parseIsoDate('2024-05-01T13:45:10.5Z', 'from')).toBe(Date.UTC(2024, 4, 1, 13, 45, 10, 500));
    expect(parseIsoDate('2024-05-01T13:45:00-05:30', 'from')).toBe(Date.UTC(2024, 4, 1, 19, 15));
    expect(() => parseIsoDate('2023-02-29', 'from')).toThrow(/not a real date/);
    expect(() => parseIsoDate('2024-05-01T24:00', 'from')).toThrow(/not a real date/);
  });
});

describe('journal summary', () => {
  it('shows pending reversals and the offline queue (depth, total, oldest age)', () => {
    const j = Journal.open(path);
    j.transactions.begin({ txnRef: 'r1', kind: 'sale', amount: 700, currency: '978' });
    const stan = j.counters.nextStan();
    j.reversals.arm({
      txnRef: 'r1',
      stan,
      originalMti: '0200',
      processingCode: '000000',
      amount: 700,
      currency: '978',
      transmittedAt: Date.now(),
      terminalId: 'TERM0001',
      merchantId: 'MERCHANT0000001',
    });
    j.reversals.markPending('r1', 'timeout');
    j.transactions.begin({ txnRef: 'o1', kind: 'sale', amount: 1250, currency: '978' });
    const offlineStan = j.counters.nextStan();
    j.recordOfflineApproval(
      'o1',
      'offline-approved',
      { stan: offlineStan, responseCode: 'Y1', approvalCode: 'Y10001' },
      {
        stan: offlineStan,
        processingCode: '000000',
        amount: 1250,
        currency: '978',
        approvalCode: 'Y10001',
        entryMode: 'chip',
        maskedPan: '476173******0010',
        transmittedAt: Date.now(),
        terminalId: 'TERM0001',
        merchantId: 'MERCHANT0000001',
        cardBlob: Buffer.from([1, 2, 3, 4]),
      },
    );
    j.close();
    const json = run(['journal', 'summary', '--format', 'json']);
    expect(json.exitCode).toBe(0);
    expect(JSON.parse(json.out)).toMatchObject({
      pendingReversals: 1,
      offlineQueue: { count: 1, total: 1250, oldestAgeMs: expect.any(Number) },
    });
    const table = run(['journal', 'summary']);
    expect(table.out).toMatch(/pending reversals\s+1/);
    expect(table.out).toMatch(/offline queue\s+1 sales, total 1250/);
  });

  it('shows what the host refused for good: reversals possibly owed, advices not collected', () => {
    const j = Journal.open(path);
    j.transactions.begin({ txnRef: 'r1', kind: 'sale', amount: 700, currency: '978' });
    const stan = j.counters.nextStan();
    j.reversals.arm({
      txnRef: 'r1',
      stan,
      originalMti: '0200',
      processingCode: '000000',
      amount: 700,
      currency: '978',
      transmittedAt: Date.now(),
      terminalId: 'TERM0001',
      merchantId: 'MERCHANT0000001',
    });
    const { id } = j.reversals.markPending('r1', 'timeout');
    j.reversals.setAside(id, '30', 'reversal refused (host answered 30)');
    j.close();
    const json = run(['journal', 'summary', '--format', 'json']);
    expect(JSON.parse(json.out)).toMatchObject({
      setAside: { reversals: { count: 1, total: 700 }, advices: { count: 0, total: 0 } },
    });
    expect(run(['journal', 'summary']).out).toMatch(
      /set aside\s+1 reversals possibly owed \(total 700\), 0 advices not collected/,
    );
  });
});
