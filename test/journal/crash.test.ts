/**
 * Crash consistency: a child process writes through the real Journal and is killed with SIGKILL mid-write, three
 * times over the same file. After each kill the reopened journal must be sound: every sale the child reported as
 * committed is complete, every transaction has its events, and row state and events agree (one SQLite
 * transaction per write, so there is no half-applied state change).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Journal } from '../../src/journal/index.js';
import { buildJournalModule, repoRoot, tempDir } from './helpers.js';

const writer = join(repoRoot, 'test', 'journal', 'fixtures', 'crash-writer.mjs');

interface Run {
  committed: Map<string, number>;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Runs the writer until it has reported `after` commits, then kills it with SIGKILL. */
function runAndKill(moduleUrl: string, db: string, prefix: string, after: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [writer, moduleUrl, db, prefix], { stdio: ['ignore', 'pipe', 'pipe'] });
    const committed = new Map<string, number>();
    let buffered = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const [ref, stan] = line.split(' ');
        if (ref && stan) committed.set(ref, Number(stan));
      }
      if (committed.size >= after) child.kill('SIGKILL');
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (_code, signal) => resolve({ committed, signal, stderr }));
  });
}

let tmp: ReturnType<typeof tempDir>;
let moduleUrl: string;

beforeAll(() => {
  tmp = tempDir();
  moduleUrl = buildJournalModule(join(tmp.dir, 'build'));
});

afterAll(() => tmp.cleanup());

describe('journal after SIGKILL', () => {
  it('is consistent after repeated kills mid-write', async () => {
    const db = join(tmp.dir, 'crash', 'journal.sqlite');
    const allCommitted = new Map<string, number>();

    for (const [round, after] of [
      [0, 40],
      [1, 75],
      [2, 120],
    ] as const) {
      const run = await runAndKill(moduleUrl, db, `r${round}`, after);
      expect(run.stderr).toBe('');
      expect(run.signal).toBe('SIGKILL');
      for (const [ref, stan] of run.committed) allCommitted.set(ref, stan);

      const journal = Journal.open(db);
      try {
        expect(journal.integrityCheck()).toEqual(['ok']);

        // Every sale reported as committed is there, complete.
        for (const [ref, stan] of allCommitted) {
          const row = journal.transactions.get(ref);
          expect(row, ref).toMatchObject({
            state: 'approved',
            outcome: 'approved',
            stan,
            maskedPan: '411111******1111',
            responseCode: '00',
            receiptStatus: 'printed',
          });
          expect(journal.transactions.events(ref).map((e) => e.state)).toEqual([
            'created',
            'card-read',
            'sending',
            'approved',
          ]);
        }

        // Every transaction, including the one cut short, has events, and its row matches its last event.
        const rows = journal.transactions.list();
        for (const row of rows) {
          const events = journal.transactions.events(row.txnRef);
          expect(events.length, row.txnRef).toBeGreaterThan(0);
          expect(events.at(-1)?.state).toBe(row.state);
          expect(row.stan !== null, row.txnRef).toBe(events.some((e) => e.state === 'sending'));
          expect(row.outcome !== null).toBe(row.state === 'approved');
        }
        // At most the sale being written when the kill came is unfinished in each round.
        expect(journal.transactions.inFlight().length).toBeLessThanOrEqual(round + 1);

        // STANs are never reused: the counter is past every STAN on record.
        const used = rows.map((r) => r.stan).filter((s): s is number => s !== null);
        expect(new Set(used).size).toBe(used.length);
        const next = journal.counters.nextStan();
        expect(used.every((s) => s < next)).toBe(true);
      } finally {
        journal.close();
      }
    }
    expect(allCommitted.size).toBeGreaterThanOrEqual(40 + 75 + 120);
  }, 60_000);
});
