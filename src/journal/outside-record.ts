/**
 * The journal's outside record: a small file beside the database (journal.record.json) that knows which journal
 * belongs here (a random journal id stored in both), how many times its STAN reservation moved on (the generation,
 * stored in both) and the highest STAN that may have left the terminal (the high-water mark). A lost -wal file, an
 * older copy, a deleted or a swapped database cannot rewind the file too, so at boot a journal behind its record,
 * missing, or replaced is seen, and the terminal locks instead of reusing STANs the host has already seen.
 *
 * STANs are reserved in blocks: the record is written once per block (one fsync per STAN_BLOCK STANs, not per sale),
 * always before a STAN of the block can be issued, and every boot starts a new block above the old mark, so even a
 * rollback the record cannot see never hands out a STAN that may have left.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Journal } from './journal.js';
import type { JournalIdentity } from './stores/counters.js';
import { STAN_MAX, stanAdvance, stanDistance } from './stan.js';
import { JournalError } from './schema.js';
import { writeFileAtomically } from '../util/durable-file.js';

export const JOURNAL_FILE = 'journal.sqlite';
export const RECORD_FILE = 'journal.record.json';
/** STANs reserved per record write (a sale writes about 50 pages to the -wal file, so a block is some 10 MB of it). */
export const STAN_BLOCK = 50;
/**
 * The journal checkpoints right before each generation moves on, so the newest generation is always in the -wal
 * file and a lost -wal file always shows as a journal behind its record. SQLite's own checkpoint (default 1000
 * pages) would move it into the database file within a block; it stays only as a backstop for long runs without
 * STANs (a large store-and-forward drain), 20 MB of -wal file.
 */
const AUTO_CHECKPOINT_PAGES = 5_000;
const FORMAT = 'pos-terminal journal record';

export type JournalFaultCause =
  | 'journal-behind'
  | 'journal-missing'
  | 'journal-replaced'
  | 'record-missing'
  | 'record-unreadable';

export interface JournalFault {
  cause: JournalFaultCause;
  /** One line: what disagrees with what, and what to do. */
  message: string;
}

export interface OutsideRecord {
  journalId: number;
  generation: number;
  /** No STAN after this one has left the terminal. */
  stanHighWater: number;
  /** Set when a boot found a fault: the terminal stays locked until `pos-terminal journal adopt`. */
  hold?: JournalFault & { since: string };
  writtenAt: string;
}

export interface RecordedJournal {
  journal: Journal;
  /** Present when the journal disagrees with its record: the terminal must stay locked. */
  fault?: JournalFault;
  recordPath: string;
  /** The record as last written. */
  record(): OutsideRecord;
}

export interface RecordedJournalOptions {
  now?: () => number;
  stanBlock?: number;
}

export function journalFiles(dataDir: string): { db: string; wal: string; shm: string; record: string } {
  const db = join(dataDir, JOURNAL_FILE);
  return { db, wal: `${db}-wal`, shm: `${db}-shm`, record: join(dataDir, RECORD_FILE) };
}

export function formatJournalId(id: number | null): string {
  return id === null ? 'none' : id.toString(16).padStart(12, '0');
}

function newJournalId(): number {
  return randomBytes(6).readUIntBE(0, 6);
}

/** Of STANs a and b (each at most a block or so apart), the one further on, across the wrap. */
function further(a: number, b: number): number {
  return stanDistance(a, b) < STAN_MAX / 2 ? b : a;
}

function nonEmpty(path: string): boolean {
  try {
    return statSync(path).size > 0;
  } catch {
    return false;
  }
}

/** Temp file, fsync, rename over the old one, fsync the directory: a crash leaves the old record or the new one. */
export function writeRecord(
  dataDir: string,
  record: Omit<OutsideRecord, 'writtenAt'>,
  now: number = Date.now(),
): OutsideRecord {
  const path = join(dataDir, RECORD_FILE);
  const full: OutsideRecord = { ...record, writtenAt: new Date(now).toISOString() };
  const text = `${JSON.stringify({ format: FORMAT, version: 1, ...full, journalId: formatJournalId(full.journalId) }, null, 2)}\n`;
  try {
    writeFileAtomically(path, text, { mode: 0o600 });
  } catch (err) {
    throw new JournalError('storage-fault', `cannot write the journal record ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return full;
}

/** A crash in the middle of writeRecord leaves its temp file (the record itself is the old one or the new one). */
function removeStaleTemps(dataDir: string): void {
  try {
    for (const name of readdirSync(dataDir)) {
      if (name.startsWith(`${RECORD_FILE}.`) && name.endsWith('.tmp')) rmSync(join(dataDir, name), { force: true });
    }
  } catch {
    // A directory that cannot be listed fails the open right after, with a better message.
  }
}

/** undefined: no record; a string: why the file there is not a record. */
export function readRecord(dataDir: string): OutsideRecord | undefined | string {
  const path = join(dataDir, RECORD_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return `cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`;
  }
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return 'is not valid JSON';
  }
  if (raw === null || typeof raw !== 'object' || raw['format'] !== FORMAT || raw['version'] !== 1)
    return 'is not a journal record (format or version)';
  const id =
    typeof raw['journalId'] === 'string' && /^[0-9a-f]{12}$/.test(raw['journalId'])
      ? parseInt(raw['journalId'], 16)
      : undefined;
  const generation = raw['generation'];
  const mark = raw['stanHighWater'];
  if (id === undefined || !Number.isSafeInteger(generation) || (generation as number) < 0)
    return 'has no valid journalId or generation';
  if (!Number.isSafeInteger(mark) || (mark as number) < 0 || (mark as number) > STAN_MAX)
    return 'has no valid stanHighWater';
  const hold = raw['hold'] as OutsideRecord['hold'] | undefined;
  return {
    journalId: id,
    generation: generation as number,
    stanHighWater: mark as number,
    ...(hold && typeof hold === 'object' && typeof hold.message === 'string' ? { hold } : {}),
    writtenAt: String(raw['writtenAt'] ?? ''),
  };
}

/** What an operator does when the journal cannot be used or disagrees with its record. */
export function recoverySteps(dataDir: string): string {
  const f = journalFiles(dataDir);
  return (
    `to recover: stop the terminal; copy the whole data directory ${dataDir} aside; put back the journal files ` +
    `(${f.db}, with ${f.wal} if it was backed up with it) from the latest backup of this terminal, or keep the ones there if ` +
    `they are the right ones; then run \`pos-terminal journal adopt --yes\`, which takes that journal and moves its STAN ` +
    `counter past the record's mark; reconcile with the acquirer what the lost part of the journal held`
  );
}

/**
 * A journal file that cannot be opened or fails PRAGMA quick_check: nothing is written, deleted or created over it.
 * Read-only, so SQLite does not checkpoint or remove the -wal file either.
 */
function checkExistingFile(dataDir: string): void {
  const f = journalFiles(dataDir);
  let problems: string[];
  try {
    const db = new Database(f.db, { readonly: true, fileMustExist: true });
    try {
      problems = (db.pragma('quick_check') as { quick_check: string }[]).map((r) => r.quick_check);
    } finally {
      db.close();
    }
  } catch (err) {
    problems = [(err as Error).message];
  }
  if (problems.length === 1 && problems[0] === 'ok') return;
  throw unusable(dataDir, `fails PRAGMA quick_check: ${problems.slice(0, 3).join('; ')}`);
}

function unusable(dataDir: string, why: string, cause?: unknown): JournalError {
  const f = journalFiles(dataDir);
  const kept = [f.db, f.wal, f.shm, f.record].filter((p) => existsSync(p));
  return new JournalError(
    'storage-fault',
    `journal ${f.db} cannot be used: it ${why}. The files were left as they are (${kept.join(', ') || 'none'}); ${recoverySteps(dataDir)}`,
    cause === undefined ? {} : { cause },
  );
}

function open(dataDir: string, options: RecordedJournalOptions): Journal {
  const f = journalFiles(dataDir);
  if (nonEmpty(f.db) || nonEmpty(f.wal)) checkExistingFile(dataDir);
  try {
    return Journal.open(f.db, options.now ? { now: options.now } : {});
  } catch (err) {
    throw unusable(dataDir, `cannot be opened (${(err as Error).message})`, err);
  }
}

/** What the journal and its record say, compared. undefined: they agree (or this is a fresh data directory). */
function compare(
  dataDir: string,
  existed: boolean,
  id: JournalIdentity,
  record: OutsideRecord | undefined | string,
): JournalFault | undefined {
  const f = journalFiles(dataDir);
  const steps = 'the terminal stays locked; see `pos-terminal journal adopt`';
  if (typeof record === 'string')
    return { cause: 'record-unreadable', message: `journal record ${f.record} ${record}; ${steps}` };
  if (record === undefined) {
    if (id.journalId === null) return undefined;
    return {
      cause: 'record-missing',
      message: `journal record ${f.record} is missing, but journal ${formatJournalId(id.journalId)} (generation ${id.generation}) had one: the data directory was partly restored or the record deleted; ${steps}`,
    };
  }
  if (record.hold) return { cause: record.hold.cause, message: `${record.hold.message} (since ${record.hold.since})` };
  if (!existed || id.journalId === null) {
    return {
      cause: 'journal-missing',
      message: `journal ${f.db} is missing or new, but its record shows journal ${formatJournalId(record.journalId)} at generation ${record.generation}, STANs up to ${record.stanHighWater}: the database was deleted or lost, with every queued offline sale and owed reversal in it; ${steps}`,
    };
  }
  if (id.journalId !== record.journalId) {
    return {
      cause: 'journal-replaced',
      message: `journal ${f.db} is journal ${formatJournalId(id.journalId)}, but the record names journal ${formatJournalId(record.journalId)}: the database was swapped (another terminal's, or a backup of another); ${steps}`,
    };
  }
  if (id.generation < record.generation) {
    return {
      cause: 'journal-behind',
      message: `journal ${f.db} is behind its record: generation ${id.generation} < ${record.generation} (STAN counter ${id.stan}, record high-water ${record.stanHighWater}): commits were lost (a lost -wal file or an older copy), and offline sales or reversals queued after that point may be missing; ${steps}`,
    };
  }
  return undefined;
}

/**
 * Opens the data directory's journal and checks it against its record. A journal that cannot be opened or fails
 * quick_check throws a JournalError naming the files and the recovery steps (nothing is changed). A fresh data
 * directory gets both. A fault (behind, missing, replaced, record gone) is returned and held in the record, so every
 * later boot stays locked until `adopt`; STANs go on above the record's mark meanwhile (echo tests use them too).
 */
export function openRecordedJournal(dataDir: string, options: RecordedJournalOptions = {}): RecordedJournal {
  const files = journalFiles(dataDir);
  removeStaleTemps(dataDir);
  const existed = nonEmpty(files.db) || nonEmpty(files.wal);
  const block = options.stanBlock ?? STAN_BLOCK;
  const now = options.now ?? Date.now;
  const found = readRecord(dataDir);
  const journal = open(dataDir, options);
  try {
    journal.setAutoCheckpoint(AUTO_CHECKPOINT_PAGES);
    const id = journal.counters.identity();
    const fault = compare(dataDir, existed, id, found);
    const recordMark = typeof found === 'object' ? found.stanHighWater : 0;
    const base = further(further(id.stan, id.stanReserved ?? id.stan), recordMark);
    let current: OutsideRecord;
    if (fault) {
      // The journal is evidence now: its generation and id stay, only its STAN counter moves past every mark.
      const held = typeof found === 'object' ? found : undefined;
      const stamped = journal.counters.stampIdentity({ stan: base, stanReserved: stanAdvance(base, block) });
      current = writeRecord(
        dataDir,
        {
          journalId: held?.journalId ?? id.journalId ?? newJournalId(),
          generation: Math.max(held?.generation ?? 0, id.generation),
          stanHighWater: stamped.stanReserved!,
          hold: held?.hold ?? { ...fault, since: new Date(now()).toISOString() },
        },
        now(),
      );
    } else {
      // The journal first, then the record: a crash between them leaves the journal ahead, which is accepted.
      journal.checkpoint();
      const stamped = journal.counters.stampIdentity({
        journalId: id.journalId ?? newJournalId(),
        generation: id.generation + 1,
        stan: base,
        stanReserved: stanAdvance(base, block),
      });
      current = writeRecord(
        dataDir,
        { journalId: stamped.journalId!, generation: stamped.generation, stanHighWater: stamped.stanReserved! },
        now(),
      );
    }
    journal.counters.reserveStansWith(() => {
      const before = journal.counters.identity();
      const mark = stanAdvance(before.stanReserved ?? before.stan, block);
      // A held journal keeps its generation, so the fault is still seen at the next boot.
      if (!current.hold) journal.checkpoint();
      const after = journal.counters.stampIdentity({
        stanReserved: mark,
        ...(current.hold ? {} : { generation: before.generation + 1 }),
      });
      current = writeRecord(
        dataDir,
        { ...current, generation: current.hold ? current.generation : after.generation, stanHighWater: mark },
        now(),
      );
    });
    return { journal, ...(fault ? { fault } : {}), recordPath: files.record, record: () => current };
  } catch (err) {
    journal.close();
    throw err;
  }
}

export interface AdoptResult {
  journalId: string;
  previous: JournalFault | undefined;
  /** The next STAN will be after this one. */
  stanFrom: number;
  transactions: number;
  safQueued: number;
  pendingReversals: number;
}

/**
 * The supervised way out: the operator has put the journal they want in place (a restored backup, say) and takes it
 * as this terminal's, with its STAN counter moved past every mark the record and the journal know, and a new
 * generation in both. The terminal must be stopped. Refuses a journal that cannot be opened or fails quick_check.
 */
export function adoptJournal(
  dataDir: string,
  options: RecordedJournalOptions & { stanAfter?: number } = {},
): AdoptResult {
  if (
    options.stanAfter !== undefined &&
    (!Number.isInteger(options.stanAfter) || options.stanAfter < 1 || options.stanAfter > STAN_MAX)
  ) {
    throw new JournalError('invalid-record', `stanAfter must be an integer from 1 to ${STAN_MAX}`);
  }
  const files = journalFiles(dataDir);
  const existed = nonEmpty(files.db) || nonEmpty(files.wal);
  const found = readRecord(dataDir);
  const journal = open(dataDir, options);
  try {
    const id = journal.counters.identity();
    const previous = compare(dataDir, existed, id, found);
    const record = typeof found === 'object' ? found : undefined;
    // Past the record's mark, and a block beyond it: the mark of an unreadable record is not known.
    const known = stanAdvance(
      further(further(id.stan, id.stanReserved ?? id.stan), record?.stanHighWater ?? 0),
      record ? 0 : STAN_BLOCK,
    );
    // The acquirer's last STAN for this terminal, when the operator has it (a whole data directory restored).
    const base = options.stanAfter === undefined ? known : further(known, options.stanAfter);
    const generation = Math.max(id.generation, record?.generation ?? 0) + 1;
    const block = options.stanBlock ?? STAN_BLOCK;
    const stamped = journal.counters.stampIdentity({
      journalId: id.journalId ?? newJournalId(),
      generation,
      stan: base,
      stanReserved: stanAdvance(base, block),
    });
    writeRecord(
      dataDir,
      { journalId: stamped.journalId!, generation, stanHighWater: stamped.stanReserved! },
      (options.now ?? Date.now)(),
    );
    const counts = journal.counts();
    return {
      journalId: formatJournalId(stamped.journalId),
      previous,
      stanFrom: base,
      transactions: counts.transactions,
      safQueued: counts.safQueued,
      pendingReversals: counts.pendingReversals,
    };
  } finally {
    journal.close();
  }
}

/** The comparison alone, read-only (for `journal check`): nothing is stamped or written. */
export function checkRecordedJournal(dataDir: string): {
  fault: JournalFault | undefined;
  identity: JournalIdentity;
  record: OutsideRecord | undefined | string;
} {
  const files = journalFiles(dataDir);
  const existed = nonEmpty(files.db) || nonEmpty(files.wal);
  if (existed) checkExistingFile(dataDir);
  const record = readRecord(dataDir);
  if (!existed) {
    const identity: JournalIdentity = { journalId: null, generation: 0, stan: 0, stanReserved: null };
    return { fault: compare(dataDir, false, identity, record), identity, record };
  }
  const journal = Journal.open(files.db, { readonly: true });
  try {
    const identity = journal.counters.identity();
    return { fault: compare(dataDir, true, identity, record), identity, record };
  } finally {
    journal.close();
  }
}
