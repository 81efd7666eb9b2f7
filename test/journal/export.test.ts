import { describe, expect, it } from 'vitest';
import {
  formatAnomalies,
  formatTransactions,
  type AnomalyRow,
  type TransactionEventRow,
  type TransactionRow,
} from '../../src/journal/index.js';

const T0 = Date.UTC(2024, 4, 1, 12, 0, 0, 250);

function txn(over: Partial<TransactionRow> = {}): TransactionRow {
  return {
    id: 1,
    txnRef: 'ref-1',
    kind: 'sale',
    state: 'approved',
    outcome: 'approved',
    amount: 1234,
    currency: '978',
    stan: 42,
    maskedPan: '411111******1111',
    entryMode: 'chip',
    responseCode: '00',
    approvalCode: 'A1B2C3',
    rrn: '000000000042',
    anomalyCode: null,
    originalStan: null,
    receiptStatus: 'printed',
    ecrRequestId: 'ecr-1',
    tipAmount: 0,
    requestMti: '0200',
    transmittedAt: T0,
    createdAt: T0,
    updatedAt: T0 + 1500,
    ...over,
  };
}

function anomaly(over: Partial<AnomalyRow> = {}): AnomalyRow {
  return {
    id: 1,
    at: T0,
    code: 'E301',
    class: 'hardware-fault',
    severity: 'error',
    message: 'The printer is out of paper',
    txnRef: 'ref-1',
    stan: 42,
    amount: 1234,
    currency: '978',
    maskedPan: '411111******1111',
    detail: { device: 'printer' },
    ...over,
  };
}

/** A strict RFC 4180 reader, to check what we write rather than trust it. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
        continue;
      }
      if (c === '"') {
        quoted = false;
        i++;
        continue;
      }
      field += c;
      i++;
      continue;
    }
    if (c === '"' && field === '') {
      quoted = true;
      i++;
      continue;
    }
    if (c === ',') {
      row.push(field);
      field = '';
      i++;
      continue;
    }
    if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i += 2;
      continue;
    }
    if (c === '"' || c === '\n' || c === '\r') throw new Error(`bare ${JSON.stringify(c)} at ${i}`);
    field += c;
    i++;
  }
  if (field !== '' || row.length > 0) throw new Error('last record not terminated by CRLF');
  return rows;
}

describe('transactions', () => {
  const tricky = txn({
    id: 2,
    txnRef: 'ref-2',
    ecrRequestId: 'a,"b"\nc',
    state: 'sending',
    outcome: null,
    stan: null,
    maskedPan: null,
  });

  it('writes RFC 4180 CSV that reads back field for field', () => {
    const rows = parseCsv(formatTransactions([txn(), tricky], 'csv'));
    expect(rows[0]).toContain('amountDecimal');
    expect(rows).toHaveLength(3);
    const header = rows[0]!;
    const record = (r: string[]) => Object.fromEntries(header.map((h, i) => [h, r[i]]));
    expect(record(rows[1]!)).toMatchObject({
      txnRef: 'ref-1',
      amount: '1234',
      amountDecimal: '12.34',
      stan: '42',
      createdAt: '2024-05-01T12:00:00.250Z',
      outcome: 'approved',
    });
    expect(record(rows[2]!)).toMatchObject({ ecrRequestId: 'a,"b"\nc', outcome: '', stan: '', maskedPan: '' });
    expect(rows.every((r) => r.length === header.length)).toBe(true);
  });

  it('writes JSON Lines that parse back to the rows, with ISO times', () => {
    const text = formatTransactions([txn(), tricky], 'jsonl');
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    const back = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(back[1]).toEqual({
      ...tricky,
      createdAt: '2024-05-01T12:00:00.250Z',
      updatedAt: '2024-05-01T12:00:01.750Z',
    });
    expect(Date.parse(back[0]!.createdAt as string)).toBe(T0);
  });

  it('includes events when given', () => {
    const events: TransactionEventRow[] = [
      { id: 1, txnRef: 'ref-1', at: T0, state: 'created', detail: null, changes: null },
      {
        id: 2,
        txnRef: 'ref-1',
        at: T0 + 1000,
        state: 'approved',
        detail: { hostMs: 80 },
        changes: { outcome: 'approved' },
      },
    ];
    const map = new Map([['ref-1', events]]);
    const json = JSON.parse(formatTransactions([txn()], 'jsonl', { events: map })) as { events: unknown[] };
    expect(json.events).toEqual([
      { at: '2024-05-01T12:00:00.250Z', state: 'created', detail: null, changes: null },
      { at: '2024-05-01T12:00:01.250Z', state: 'approved', detail: { hostMs: 80 }, changes: { outcome: 'approved' } },
    ]);
    const csv = parseCsv(formatTransactions([txn()], 'csv', { events: map }));
    expect(JSON.parse(csv[1]!.at(-1)!)).toEqual(json.events);
    const table = formatTransactions([txn()], 'table', { events: map });
    expect(table).toMatch(
      /\n {4}2024-05-01T12:00:01Z {2}approved {2}set \{"outcome":"approved"\} {2}\{"hostMs":80\}\n/,
    );
  });

  it('aligns the table columns, with minor units and a decimal amount', () => {
    const table = formatTransactions(
      [txn(), txn({ id: 3, txnRef: 'a-much-longer-reference', amount: 5, state: 'declined', outcome: 'declined' })],
      'table',
    );
    const lines = table.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    const header = lines[0]!;
    for (const title of ['KIND', 'STATE', 'OUTCOME', 'CUR', 'STAN', 'CARD']) {
      const col = header.indexOf(title);
      expect(col).toBeGreaterThan(0);
      for (const line of lines.slice(1)) expect(line[col - 1], `${title} in ${line}`).toBe(' ');
    }
    const amountEnd = header.indexOf('AMOUNT') + 'AMOUNT'.length;
    expect(lines[1]!.slice(0, amountEnd)).toMatch(/1234\s+12\.34$/);
    expect(lines[2]!.slice(0, amountEnd)).toMatch(/\s5\s+0\.05$/);
    expect(lines[1]).toContain('2024-05-01T12:00:00Z');
    expect(lines[1]).toContain('000042');
  });

  it('keeps control characters out of the table', () => {
    const table = formatTransactions([txn({ ecrRequestId: 'x\u001b[2Jy\nz' })], 'table');
    expect(table).not.toContain('\u001b');
    expect(table.trimEnd().split('\n')).toHaveLength(2);
  });

  it('says so when there is nothing to show', () => {
    expect(formatTransactions([], 'table')).toBe('(no transactions)\n');
    expect(formatTransactions([], 'jsonl')).toBe('');
    expect(parseCsv(formatTransactions([], 'csv'))).toHaveLength(1);
  });
});

describe('anomalies', () => {
  const rows = [
    anomaly(),
    anomaly({
      id: 2,
      code: 'E101',
      message: 'Timeout, "30 s"\nretrying',
      txnRef: null,
      stan: null,
      amount: null,
      currency: null,
      maskedPan: null,
      detail: null,
    }),
  ];

  it('writes CSV with quoting and a decimal amount', () => {
    const csv = parseCsv(formatAnomalies(rows, 'csv'));
    const header = csv[0]!;
    const rec = (r: string[]) => Object.fromEntries(header.map((h, i) => [h, r[i]]));
    expect(rec(csv[1]!)).toMatchObject({
      code: 'E301',
      at: '2024-05-01T12:00:00.250Z',
      amount: '1234',
      amountDecimal: '12.34',
      detail: '{"device":"printer"}',
    });
    expect(rec(csv[2]!)).toMatchObject({ code: 'E101', message: 'Timeout, "30 s"\nretrying', amount: '', detail: '' });
  });

  it('writes JSON Lines that parse back', () => {
    const back = formatAnomalies(rows, 'jsonl')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as AnomalyRow & { at: string });
    expect(back[0]).toEqual({ ...rows[0], at: '2024-05-01T12:00:00.250Z' });
    expect(back[1]?.message).toBe('Timeout, "30 s"\nretrying');
  });

  it('renders a table', () => {
    const table = formatAnomalies(rows, 'table');
    expect(table.split('\n')[0]).toMatch(/^TIME \(UTC\)\s+CODE\s+CLASS\s+SEVERITY/);
    expect(table).toContain('12.34');
    expect(table).toContain('Timeout, "30 s" retrying');
    expect(formatAnomalies([], 'table')).toBe('(no anomalies)\n');
  });
});
