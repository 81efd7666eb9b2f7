/**
 * The journal's outside record and the card vault key at boot, on real files in temp data directories: a journal
 * rolled back (lost -wal, older copy), deleted, swapped for another terminal's or corrupted locks the terminal with
 * the cause (E601) and never hands out a STAN the host may have seen; sealed queued sales without their key lock the
 * terminal and stay as they are. Crash images are copies of the data directory taken while the terminal runs (every
 * commit is fsynced, so the copy is what a power cut at that instant leaves).
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../hal/clock.js';
import { startTerminalApp } from '../../src/app/compose.js';
import Database from 'better-sqlite3';
import {
  Journal,
  JournalError,
  RECORD_FILE,
  STAN_BLOCK,
  adoptJournal,
  openRecordedJournal,
  readRecord,
  stanDistance,
  type OutsideRecord,
} from '../../src/journal/index.js';
import { createLogger } from '../../src/util/log.js';
import { startCli } from '../support/cli.js';
import { bootRig, durabilityConfig, journalPath, newDataDir, stopAll, type Rig } from './harness.js';

afterEach(stopAll);

const scratch: string[] = [];
afterEach(() => {
  for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pos-record-'));
  scratch.push(dir);
  return dir;
}

/** Stops the terminal and keeps its data directory (rig.stop removes it). */
async function halt(rig: Rig): Promise<void> {
  await rig.client.close();
  await rig.app.stop();
}

/** What a power cut leaves right now: the data directory as it is on disk, without the rebuildable -shm. */
function crashImage(rig: Rig): string {
  const image = newDataDir();
  rmSync(image, { recursive: true, force: true });
  cpSync(rig.dataDir, image, { recursive: true });
  rmSync(`${journalPath(image)}-shm`, { force: true });
  return image;
}

/** STANs of every request the host received (the embedded host's ledger lives in the data directory). */
function hostStans(dataDir: string): number[] {
  const path = join(dataDir, 'host-ledger.jsonl');
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { dir: string; stan?: string })
    .filter((e) => e.dir === 'in' && e.stan !== undefined)
    .map((e) => Number(e.stan));
}

async function sales(rig: Rig, amounts: number[]): Promise<number[]> {
  const stans: number[] = [];
  for (const amount of amounts) {
    const result = await rig.sale(amount);
    expect(result, JSON.stringify(result)).toMatchObject({ type: 'result' });
    stans.push(result['stan'] as number);
  }
  return stans;
}

/** Offline sales: the network monitor says the link is down, so each is approved offline and queued sealed. */
async function offlineSales(rig: Rig, amounts: number[]): Promise<number[]> {
  rig.app.mocks.network!.setState({ link: 'down' });
  const stans: number[] = [];
  for (const amount of amounts) {
    const result = await rig.sale(amount);
    expect(result, JSON.stringify(result)).toMatchObject({ type: 'result', outcome: 'offline-approved' });
    stans.push(result['stan'] as number);
  }
  return stans;
}

/** Boots on `dataDir` without waiting for the host (a locked terminal may not need it). */
async function boot(dataDir: string): Promise<Rig> {
  return bootRig({ dataDir, waitForHost: false });
}

/** The terminal is locked with an E601 naming `cause`, and says so in status. */
async function expectLocked(rig: Rig, cause: RegExp): Promise<string> {
  const status = await rig.status();
  expect(status['state']).toBe('locked');
  const reasons = (status['lockReasons'] as string[]).join('\n');
  expect(reasons).toMatch(cause);
  const anomaly = rig.app.journal.anomalies.list({ code: 'E601' }).find((a) => cause.test(a.message));
  expect(anomaly, `E601 matching ${String(cause)}`).toBeDefined();
  return reasons;
}

/** No STAN the host saw before `seen` is issued again: neither the next one nor any the locked terminal sent. */
function expectNoReuse(rig: Rig, seen: number[], sentSince: number[]): void {
  const next = rig.app.journal.counters.nextStan();
  for (const stan of [next, ...sentSince]) expect(seen, `STAN ${stan} reused`).not.toContain(stan);
  const record = readRecord(rig.dataDir) as OutsideRecord;
  expect(stanDistance(next, record.stanHighWater)).toBeLessThan(STAN_BLOCK * 2);
}

describe('the outside record (journal level)', () => {
  it('creates the journal and the record in a fresh data directory, both with the same journal id', () => {
    const dir = tempDir();
    const { journal, fault, record } = openRecordedJournal(dir);
    try {
      expect(fault).toBeUndefined();
      expect(journal.counters.nextStan()).toBe(1);
      const onDisk = readRecord(dir) as OutsideRecord;
      expect(onDisk).toMatchObject({
        journalId: journal.counters.identity().journalId,
        generation: 1,
        stanHighWater: STAN_BLOCK,
      });
      expect(record()).toMatchObject(onDisk);
    } finally {
      journal.close();
    }
  });

  it('writes the record once per block of STANs, always before a STAN of the block is issued', () => {
    const dir = tempDir();
    const { journal } = openRecordedJournal(dir);
    try {
      const writes = new Set<number>();
      for (let i = 0; i < 3 * STAN_BLOCK + 5; i++) {
        const stan = journal.counters.nextStan();
        const record = readRecord(dir) as OutsideRecord;
        // The record on disk covers the STAN just issued: it never runs ahead of the mark.
        expect(stanDistance(stan, record.stanHighWater)).toBeLessThan(STAN_BLOCK);
        writes.add(record.generation);
      }
      // 305 STANs: the boot block and three more, so 4 record writes rather than 305.
      expect([...writes]).toEqual([1, 2, 3, 4]);
    } finally {
      journal.close();
    }
  });

  it('sees a lost -wal file even after more was written than SQLite would have checkpointed on its own', () => {
    const dir = tempDir();
    openRecordedJournal(dir).journal.close();
    const { journal } = openRecordedJournal(dir);
    const image = tempDir();
    try {
      // Thousands of -wal pages: past SQLite's default auto-checkpoint (1,000 pages), inside one STAN block.
      const note = 'x'.repeat(150);
      for (let i = 0; i < 200; i++)
        journal.transactions.begin({
          txnRef: `T${i}`,
          kind: 'sale',
          amount: i,
          currency: '978',
          ecrRequestId: `${note}${i}`,
        });
      for (let i = 0; i < 10; i++) journal.counters.nextStan();
      expect(statSync(join(dir, 'journal.sqlite-wal')).size).toBeGreaterThan(1_000 * 4_096);
      cpSync(dir, image, { recursive: true });
    } finally {
      journal.close();
    }
    rmSync(join(image, 'journal.sqlite-wal'));
    rmSync(join(image, 'journal.sqlite-shm'), { force: true });
    const after = openRecordedJournal(image);
    try {
      expect(after.fault?.cause).toBe('journal-behind');
      expect(after.journal.counters.nextStan()).toBeGreaterThan(2 * STAN_BLOCK);
    } finally {
      after.journal.close();
    }
  });

  it('a crash while the record was written leaves the old record and a temp file, removed at the next boot', () => {
    const dir = tempDir();
    openRecordedJournal(dir).journal.close();
    const before = readRecord(dir) as OutsideRecord;
    writeFileSync(join(dir, `${RECORD_FILE}.4242.tmp`), '{"half');
    const again = openRecordedJournal(dir);
    try {
      expect(again.fault).toBeUndefined();
      expect((readRecord(dir) as OutsideRecord).generation).toBe(before.generation + 1);
      expect(existsSync(join(dir, `${RECORD_FILE}.4242.tmp`))).toBe(false);
    } finally {
      again.journal.close();
    }
  });

  it('starts each boot above the old mark, so a rollback inside a block still reuses no STAN', () => {
    const dir = tempDir();
    const first = openRecordedJournal(dir);
    for (let i = 0; i < 7; i++) first.journal.counters.nextStan();
    first.journal.close();
    const second = openRecordedJournal(dir);
    try {
      expect(second.fault).toBeUndefined();
      expect(second.journal.counters.nextStan()).toBe(STAN_BLOCK + 1);
    } finally {
      second.journal.close();
    }
  });

  it('holds across the wrap from 999999 to 1', () => {
    const dir = tempDir();
    const first = openRecordedJournal(dir);
    first.journal.counters.stampIdentity({ stan: 999_950, stanReserved: 999_990 });
    const stans = Array.from({ length: 60 }, () => first.journal.counters.nextStan());
    expect(stans.slice(47, 50)).toEqual([999_998, 999_999, 1]);
    // 999990 moved on by a block across the wrap: 9 steps to 999999, the rest from 1.
    expect((readRecord(dir) as OutsideRecord).stanHighWater).toBe(STAN_BLOCK - 9);
    first.journal.close();
  });

  it('refuses a corrupt journal without changing, deleting or recreating its files, and says what to do', () => {
    const dir = tempDir();
    const { journal } = openRecordedJournal(dir);
    for (let i = 0; i < 50; i++)
      journal.transactions.begin({ txnRef: `T${i}`, kind: 'sale', amount: 100 + i, currency: '978' });
    journal.close();
    const path = join(dir, 'journal.sqlite');
    const bytes = readFileSync(path);
    // Page 2 onwards holds the tables' b-trees: garbage there is what a failing flash page leaves.
    bytes.fill(0xa5, 4096 + 8, 4096 + 400);
    writeFileSync(path, bytes);
    const record = readFileSync(join(dir, RECORD_FILE));
    let error: unknown;
    try {
      openRecordedJournal(dir).journal.close();
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(JournalError);
    const message = (error as Error).message;
    expect(message).toMatch(/quick_check|malformed|not a database/);
    expect(message).toContain(path);
    expect(message).toMatch(/files were left as they are/);
    expect(message).toMatch(/pos-terminal journal adopt --yes/);
    expect(readFileSync(path).equals(bytes)).toBe(true);
    expect(readFileSync(join(dir, RECORD_FILE)).equals(record)).toBe(true);
  });
  it('accepts a journal one generation ahead of its record (a crash between the journal commit and the record write)', () => {
    const dir = tempDir();
    const first = openRecordedJournal(dir);
    const id = first.journal.counters.identity();
    first.journal.counters.stampIdentity({ generation: id.generation + 1, stanReserved: 250 });
    first.journal.close();
    const again = openRecordedJournal(dir);
    try {
      expect(again.fault).toBeUndefined();
      expect(again.journal.counters.nextStan()).toBe(251);
    } finally {
      again.journal.close();
    }
  });

  it("adopt with --stan-after moves the counter past the acquirer's last STAN when the record knew less", () => {
    const dir = tempDir();
    openRecordedJournal(dir).journal.close();
    rmSync(join(dir, RECORD_FILE));
    const result = adoptJournal(dir, { stanAfter: 5_000 });
    expect(result.previous?.cause).toBe('record-missing');
    expect(result.stanFrom).toBe(5_000);
    const after = openRecordedJournal(dir);
    try {
      expect(after.fault).toBeUndefined();
      expect(after.journal.counters.nextStan()).toBeGreaterThan(5_000);
    } finally {
      after.journal.close();
    }
  });
});

describe('a journal that disagrees with its record locks the terminal (assembled terminal)', () => {
  it('after the -wal file is lost: locked as journal-behind, the queued offline sales are seen missing, no STAN reused', async () => {
    const rig = await bootRig();
    await sales(rig, [1_000, 1_100]);
    await halt(rig);
    // A second run whose commits are all in the -wal file: the boot's reservation and three offline sales.
    const again = await bootRig({ dataDir: rig.dataDir });
    const queued = await offlineSales(again, [1_200, 1_300, 1_400]);
    const image = crashImage(again);
    rmSync(`${journalPath(image)}-wal`);
    const seen = [...hostStans(image), ...queued];

    const after = await boot(image);
    const sentBefore = hostStans(image).length;
    expectNoReuse(after, seen, hostStans(image).slice(sentBefore));
    const reasons = await expectLocked(after, /journal-behind/);
    expect(reasons).toMatch(/generation 1 < 2/);
    // The three queued sales are not in this journal: the lock is what tells the operator.
    expect(after.app.journal.saf.stats().count).toBe(0);
    const refused = await after.sale(1_500);
    expect(refused).toMatchObject({ type: 'error' });
    expect(String(refused['message'])).toMatch(/journal-behind/);
    // Unlock is no way out: only the supervised adopt is.
    await expect(after.client.call({ cmd: 'unlock', supervisorPin: '1234' })).resolves.toMatchObject({ type: 'error' });
    expect(after.app.terminal.status().state).toBe('locked');
    expectNoReuse(after, seen, hostStans(image).slice(sentBefore));
  });

  it('a power cut with the -wal file intact is no fault: ready, the queued sales there, STANs above the mark', async () => {
    const rig = await bootRig();
    await sales(rig, [900]);
    await halt(rig);
    const again = await bootRig({ dataDir: rig.dataDir });
    const queued = await offlineSales(again, [910, 920]);
    const image = crashImage(again);
    const mark = (readRecord(image) as OutsideRecord).stanHighWater;

    const after = await boot(image);
    expect((await after.status())['state']).toBe('ready');
    expect(after.app.journal.saf.queue().map((r) => r.stan)).toEqual(queued);
    expect(after.app.journal.counters.nextStan()).toBeGreaterThan(mark);
  });

  it('after the journal was replaced by an older copy: locked as journal-behind, no STAN reused', async () => {
    const rig = await bootRig();
    await sales(rig, [2_000]);
    await halt(rig);
    const old = readFileSync(journalPath(rig.dataDir));
    const again = await bootRig({ dataDir: rig.dataDir });
    await sales(again, [2_100, 2_200]);
    await halt(again);
    writeFileSync(journalPath(rig.dataDir), old);
    const seen = hostStans(rig.dataDir);

    const after = await boot(rig.dataDir);
    expectNoReuse(after, seen, []);
    await expectLocked(after, /journal-behind/);
  });

  it('after the journal was deleted: locked as journal-missing, no STAN reused, and still locked at the next boot', async () => {
    const rig = await bootRig();
    await sales(rig, [3_000, 3_100]);
    await halt(rig);
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${journalPath(rig.dataDir)}${suffix}`, { force: true });
    const seen = hostStans(rig.dataDir);

    const after = await boot(rig.dataDir);
    await expectLocked(after, /journal-missing/);
    expectNoReuse(after, seen, []);
    await halt(after);
    // The new empty journal made for the locked run is not taken for the lost one at the next start.
    const later = await boot(rig.dataDir);
    await expectLocked(later, /journal-missing/);
    expectNoReuse(later, [...seen, ...hostStans(rig.dataDir)], []);
  });

  it("after another terminal's journal was swapped in: locked as journal-replaced, no STAN reused", async () => {
    const mine = await bootRig();
    await sales(mine, [4_000]);
    await halt(mine);
    const other = await bootRig();
    await sales(other, [4_100]);
    await halt(other);
    cpSync(journalPath(other.dataDir), journalPath(mine.dataDir));
    const seen = hostStans(mine.dataDir);

    const after = await boot(mine.dataDir);
    await expectLocked(after, /journal-replaced/);
    expectNoReuse(after, seen, []);
  });

  it('a corrupt journal refuses the start with the files named and kept', async () => {
    const rig = await bootRig();
    await sales(rig, [5_000]);
    await halt(rig);
    const path = journalPath(rig.dataDir);
    const bytes = readFileSync(path);
    bytes.fill(0x5a, 4096 + 8, 4096 + 300);
    writeFileSync(path, bytes);
    const error = await startTerminalApp(durabilityConfig(rig.dataDir), {
      clock: new ManualClock(),
      log: createLogger('silent'),
    }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(JournalError);
    expect((error as Error).message).toContain(path);
    expect((error as Error).message).toMatch(/to recover: stop the terminal/);
    expect(readFileSync(path).equals(bytes)).toBe(true);
  });

  it('adopt takes a restored backup: the terminal comes up ready with its STANs past the record mark', async () => {
    const rig = await bootRig();
    await sales(rig, [6_000]);
    await halt(rig);
    const backup = readFileSync(journalPath(rig.dataDir));
    const again = await bootRig({ dataDir: rig.dataDir });
    await sales(again, [6_100, 6_200]);
    await halt(again);
    writeFileSync(journalPath(rig.dataDir), backup);
    const mark = (readRecord(rig.dataDir) as OutsideRecord).stanHighWater;

    const result = adoptJournal(rig.dataDir);
    expect(result.previous?.cause).toBe('journal-behind');
    expect(result.stanFrom).toBe(mark);
    const after = await bootRig({ dataDir: rig.dataDir });
    expect((await after.status())['state']).toBe('ready');
    const [stan] = await sales(after, [6_300]);
    expect(stan).toBeGreaterThan(mark);
  });
});

describe('counting sealed cards', () => {
  it('counts queued offline sales with a blob, and reversals too once their table carries a BLOB column', () => {
    const dir = tempDir();
    const path = join(dir, 'journal.sqlite');
    const journal = Journal.open(path);
    journal.transactions.begin({ txnRef: 'R1', kind: 'sale', amount: 100, currency: '978' });
    journal.reversals.arm({
      txnRef: 'R1',
      stan: 1,
      originalMti: '0200',
      processingCode: '000000',
      amount: 100,
      currency: '978',
      transmittedAt: 0,
      terminalId: 'T1',
      merchantId: 'M1',
    });
    expect(journal.sealedCards.count()).toBe(0);
    journal.close();
    const raw = new Database(path);
    raw.exec("ALTER TABLE reversals ADD COLUMN sealed_card BLOB; UPDATE reversals SET sealed_card = x'01ff'");
    raw.close();
    const again = Journal.open(path);
    try {
      expect(again.sealedCards.count()).toBe(1);
    } finally {
      again.close();
    }
  });
});

describe('the card vault key with sealed cards waiting', () => {
  const keyPath = (dataDir: string) => join(dataDir, 'keys', 'saf.key');

  async function queuedSales(): Promise<{ dataDir: string; rows: unknown[] }> {
    const rig = await bootRig();
    await offlineSales(rig, [1_500, 1_600]);
    const rows = rig.app.journal.saf.queue();
    expect(rows).toHaveLength(2);
    await halt(rig);
    return { dataDir: rig.dataDir, rows };
  }

  async function expectUntouched(rig: Rig, rows: unknown[]): Promise<void> {
    // Time for the forwarder's drain and the host to reconnect: nothing is sent, set aside or erased.
    for (let i = 0; i < 5; i++) {
      await rig.clock.advance(60_000);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(rig.app.journal.saf.queue()).toEqual(rows);
    expect(rig.received('0220')).toEqual([]);
  }

  it('a missing key locks the terminal with the cause, makes no new key and leaves the queued sales intact', async () => {
    const { dataDir, rows } = await queuedSales();
    rmSync(keyPath(dataDir));
    const rig = await boot(dataDir);
    await expectUntouched(rig, rows);
    await expectLocked(rig, /vault key-missing/);
    expect(existsSync(keyPath(dataDir))).toBe(false);
  });

  it('a wrong key locks the terminal with the cause and leaves the queued sales intact', async () => {
    const { dataDir, rows } = await queuedSales();
    writeFileSync(keyPath(dataDir), randomBytes(32), { mode: 0o600 });
    const rig = await boot(dataDir);
    await expectUntouched(rig, rows);
    await expectLocked(rig, /vault wrong-key/);
  });

  it('with the right key back, the queued sales go to the host', async () => {
    const { dataDir } = await queuedSales();
    const key = readFileSync(keyPath(dataDir));
    rmSync(keyPath(dataDir));
    const locked = await boot(dataDir);
    await expectLocked(locked, /vault key-missing/);
    await halt(locked);
    writeFileSync(keyPath(dataDir), key, { mode: 0o600 });
    const rig = await bootRig({ dataDir });
    for (let i = 0; i < 50 && rig.app.journal.saf.stats().count > 0; i++) {
      await rig.clock.advance(1_000);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(rig.app.journal.saf.stats().count).toBe(0);
    expect(rig.received('0220')).toHaveLength(2);
  });

  it('a missing key with nothing sealed makes a new key and the terminal starts ready', async () => {
    const rig = await bootRig();
    await sales(rig, [1_700]);
    await halt(rig);
    const old = readFileSync(keyPath(rig.dataDir));
    rmSync(keyPath(rig.dataDir));
    const after = await bootRig({ dataDir: rig.dataDir });
    expect((await after.status())['state']).toBe('ready');
    expect(existsSync(keyPath(rig.dataDir))).toBe(true);
    expect(readFileSync(keyPath(rig.dataDir)).equals(old)).toBe(false);
  });
});

describe('pos-terminal journal check / adopt', () => {
  async function cli(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
    const run = startCli('pos-terminal', args);
    const code = await run.exited;
    return { code, out: run.stdout(), err: run.stderr() };
  }

  it('check names the fault and exits 1; adopt wants --yes, then takes the journal; check is clean after', async () => {
    const dir = tempDir();
    const dataDir = join(dir, 'data');
    const first = openRecordedJournal(dataDir);
    for (let i = 0; i < 3; i++) first.journal.counters.nextStan();
    first.journal.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${join(dataDir, 'journal.sqlite')}${suffix}`, { force: true });
    const config = join(dir, 'terminal.json');
    writeFileSync(config, JSON.stringify({ dataDir }));

    const check = await cli(['journal', 'check', '--config', config]);
    expect(check.code).toBe(1);
    expect(check.out).toMatch(/fault {5}journal-missing: /);
    const dry = await cli(['journal', 'adopt', '--config', config]);
    expect(dry.code).toBe(2);
    expect(dry.out).toMatch(/run again with --yes/);
    const adopt = await cli(['journal', 'adopt', '--yes', '--config', config]);
    expect(adopt.code, adopt.err).toBe(0);
    expect(adopt.out).toMatch(new RegExp(`STANs {5}continue after ${STAN_BLOCK}`));
    const clean = await cli(['journal', 'check', '--config', config]);
    expect(clean.code, clean.out).toBe(0);
    expect(clean.out).toMatch(/fault {5}none/);
  }, 30_000);
});
