/**
 * The journal's size under retention, measured: the whole terminal (mock devices, the embedded host simulator) on a
 * simulated clock takes `salesPerDay` approved sales a day, settles every evening and purges settled batches older
 * than `retentionDays`, for `days` days. The journal's bytes on disk (file and WAL, after a checkpoint) are read at
 * the end of each day. Once the first batch has been purged the size stops growing: the steady size, divided by the
 * transactions it holds (retentionDays + 1 days of them), is the bound per transaction, and the bound of a terminal
 * doing 1,000 a day with the default 90 days follows. Beside it, same run: the bytes per transaction before any purge.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { ManualClock } from '../hal/clock.js';
import { startTerminalApp } from '../src/app/compose.js';
import { loadConfig, type PosConfig } from '../src/config/index.js';
import { EcrClient } from '../src/ecr/client.js';
import { createLogger } from '../src/util/log.js';

export interface RetentionBenchOptions {
  salesPerDay?: number;
  retentionDays?: number;
  days?: number;
}

export interface RetentionBenchResult {
  name: 'journal-retention';
  salesPerDay: number;
  retentionDays: number;
  days: number;
  /** Journal bytes on disk (file and WAL) at the end of each day (after its settlement and purge). */
  bytesByDay: number[];
  /** Of which the database file alone. */
  fileBytesByDay: number[];
  /** Transactions in the journal at the end of each day. */
  rowsByDay: number[];
  batchesPurged: number;
  settlementsAgreed: number;
  /** Rows per table at the end, and the WAL's bytes (kept at its high-water mark by SQLite). */
  tables: Record<string, number>;
  walBytes: number;
  /** The file's largest size once purging began, with the WAL's: what the journal stays under. */
  steadyBytes: number;
  /** The file's bytes per transaction it held at its largest. */
  steadyBytesPerTransaction: number;
  /** steadyBytesPerTransaction × 1,000 a day × 91 days (90 retained and the open one), plus the WAL, in MiB. */
  boundMbAt1000PerDay90Days: number;
  reference: {
    /** Same run: bytes (file and WAL) per transaction at the end of the last day before anything was purged. */
    bytesPerTransactionBeforePurge: number;
  };
}

const DAY_MS = 86_400_000;

/** Rows per table, read beside the terminal's own connection. */
function tableRows(path: string): Record<string, number> {
  const db = new Database(path, { readonly: true });
  try {
    const names = db
      .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
      .all() as {
      name: string;
    }[];
    return Object.fromEntries(
      names.map(({ name }) => [name, (db.prepare(`SELECT count(*) AS n FROM "${name}"`).get() as { n: number }).n]),
    );
  } finally {
    db.close();
  }
}

export async function benchJournalRetention(options: RetentionBenchOptions = {}): Promise<RetentionBenchResult> {
  const salesPerDay = options.salesPerDay ?? 1_000;
  const retentionDays = options.retentionDays ?? 2;
  const days = options.days ?? retentionDays + 4;
  const dataDir = mkdtempSync(join(tmpdir(), 'pos-bench-retention-'));
  const { config: base } = loadConfig({ env: {} });
  const config: PosConfig = {
    ...base,
    dataDir,
    host: { ...base.host, address: '127.0.0.1:0', simulator: { embedded: true } },
    ecr: { ...base.ecr, port: 0, socketPath: null, idleTimeoutMs: 2_147_483_647 },
    mqtt: { ...base.mqtt, url: 'mqtt://127.0.0.1:0' },
    journal: { ...base.journal, retentionDays },
  };
  const clock = new ManualClock(Date.UTC(2026, 0, 5, 8));
  const app = await startTerminalApp(config, { clock, log: createLogger('silent') });
  const client = await EcrClient.connect({ port: app.ecr.port });
  const journalPath = join(dataDir, 'journal.sqlite');
  const bytes = () => {
    app.journal.checkpoint();
    return ['', '-wal'].map((s) => journalPath + s).reduce((n, p) => n + (existsSync(p) ? statSync(p).size : 0), 0);
  };
  const pass = (ms: number) => clock.advance(ms, () => app.terminal.settled());
  const bytesByDay: number[] = [];
  const fileBytesByDay: number[] = [];
  const rowsByDay: number[] = [];
  let settlementsAgreed = 0;
  let amount = 100;
  try {
    for (let day = 0; day < days; day++) {
      for (let i = 0; i < salesPerDay; i++) {
        await client.call({ cmd: 'sim.card', name: 'visa' });
        const result = await client.call({ cmd: 'sale', amount: amount++ });
        if (result['outcome'] !== 'approved') throw new Error(`sale not approved: ${JSON.stringify(result)}`);
        await pass(Math.floor((DAY_MS * 0.5) / salesPerDay));
      }
      const settled = await client.call({ cmd: 'settle' });
      if (settled.type !== 'done') throw new Error(`settlement failed: ${JSON.stringify(settled)}`);
      if (app.hostSim?.settlements.at(-1)?.responseCode === '00') settlementsAgreed += 1;
      // The night: the purge takes its small steps a second apart while the terminal is idle.
      for (let s = 0; s < 600; s++) await pass(1_000);
      await pass(DAY_MS * 0.5 - 600_000);
      bytesByDay.push(bytes());
      fileBytesByDay.push(statSync(journalPath).size);
      rowsByDay.push(app.journal.counts().transactions);
    }
    const batchesPurged = app.journal.batches.list(1_000).filter((b) => b.purgedAt !== null).length;
    const tables = tableRows(journalPath);
    const walBytes = existsSync(`${journalPath}-wal`) ? statSync(`${journalPath}-wal`).size : 0;
    // The first batch (closed in the evening of day 0) is purged retentionDays later: the end of day
    // retentionDays - 1 is the last with nothing purged yet.
    const before = Math.min(retentionDays - 1, days - 1);
    // The file's largest size once purging began; the WAL is capped apart (journal_size_limit) and added whole.
    const steady = fileBytesByDay.slice(retentionDays + 1);
    const steadyFile = steady.length > 0 ? Math.max(...steady) : fileBytesByDay.at(-1)!;
    const steadyBytes = steadyFile + walBytes;
    // At its largest the file held the retained days and the day being sold.
    const held = salesPerDay * (retentionDays + 1);
    const perTxn = steadyFile / held;
    return {
      name: 'journal-retention',
      salesPerDay,
      retentionDays,
      days,
      bytesByDay,
      fileBytesByDay,
      rowsByDay,
      batchesPurged,
      settlementsAgreed,
      tables,
      walBytes,
      steadyBytes,
      steadyBytesPerTransaction: Math.round(perTxn),
      boundMbAt1000PerDay90Days: Math.round((perTxn * 1_000 * 91 + walBytes) / 2 ** 20),
      reference: { bytesPerTransactionBeforePurge: Math.round(bytesByDay[before]! / (salesPerDay * (before + 1))) },
    };
  } finally {
    await client.close();
    await app.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.stdout.write(`${JSON.stringify(await benchJournalRetention())}\n`);
}
