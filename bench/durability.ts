/**
 * Durability figures, each beside its target and the physical limit it is bounded by:
 * 1. durable commits of the journal (WAL, synchronous=FULL) against raw fsync of 64-byte records on the same disk;
 * 2. forwarding queued advices to the acquirer host simulator on loopback with Forwarder.drain(), checked against the
 *    simulator's ledger (all arrived once, in queue order);
 * 3. boot recovery of a journal holding many in-flight transactions, timed through startTerminalApp.
 *
 * Journals that only set the scene are written on /dev/shm when it exists (fsync is free there) and then copied to
 * the disk under test, so preparing 10,000 items does not take minutes; every timed write goes to the disk.
 */
import {
  closeSync,
  copyFileSync,
  existsSync,
  fsyncSync,
  mkdtempSync,
  openSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { systemClock } from '../hal/clock.js';
import { MockDisplay } from '../hal/display/mock.js';
import { TcpHostLink } from '../hal/acquirer-link/tcp.js';
import { AnomalyRecorder } from '../src/anomaly/recorder.js';
import { startTerminalApp } from '../src/app/compose.js';
import { loadConfig, type PosConfig } from '../src/config/index.js';
import { CardVault } from '../src/durability/card-vault.js';
import { Forwarder } from '../src/durability/forwarder.js';
import { offlineApprovalCode } from '../src/durability/offline-policy.js';
import { EcrClient } from '../src/ecr/client.js';
import { AcquirerClient, isoCorrelator } from '../src/acquirer/acquirer-client.js';
import { AcquirerHostSimulator } from '../src/acquirer-sim/simulator.js';
import { buildAdvice, MTI, PROCESSING_CODE } from '../src/iso8583/index.js';
import {
  AnomalyStore,
  CounterStore,
  Journal,
  ReversalStore,
  SafStore,
  TransactionStore,
} from '../src/journal/index.js';
import { anomalyCode } from '../src/terminal/effects/index.js';
import { createLogger, type Logger } from '../src/util/log.js';
import { newTxnRef } from '../src/util/txn-ref.js';

export interface DurabilityBenchOptions {
  /** Part 1: fsync'd raw records and journal commits to make; absent: about one second of each. */
  commits?: number;
  /** Part 2: queued advices to forward (default 10,000). */
  advices?: number;
  /** Part 3: in-flight transactions recovered at boot (default 10,000). */
  pending?: number;
}

export interface DurabilityBenchResult {
  name: string;
  disk: { dir: string; fsType: string; device: string };
  commits: CommitsResult;
  forwarding: ForwardingResult;
  recovery: RecoveryResult;
}

interface CommitsResult {
  rawFsyncPerSecond: number;
  rawFsyncBeforePerSecond: number;
  rawFsyncAfterPerSecond: number;
  rawRecordBytes: number;
  journalSettings: { journalMode: string; synchronous: string };
  sales: number;
  /** SQLite commits per sale of the loop, counted (beginTransaction, nextStan, recordOfflineApproval). */
  commitsPerSale: number;
  commitsPerSecond: number;
  salesPerSecond: number;
  /** commitsPerSecond / rawFsyncPerSecond. */
  ratio: number;
  /** salesPerSecond / rawFsyncPerSecond: what one durable commit per sale would make 1. */
  salesRatio: number;
  target: { ratio: number };
  met: boolean;
  /** A whole offline sale through the terminal (ECR, machine, journal), its SQLite commits counted by journal method. */
  realOfflineSale: {
    outcome: string;
    commitsPerSale: number;
    commitsByMethod: Record<string, number>;
    salesPerSecondAtMeasuredCommitRate: number;
  };
}

interface ForwardingResult {
  advices: number;
  prepareSeconds: number;
  drainSeconds: number;
  advicesPerSecond: number;
  target: { advicesPerSecond: number };
  met: boolean;
  reference: {
    /** SQLite commits per forwarded advice, counted. */
    commitsPerAdvice: number;
    commitsByMethod: Record<string, number>;
    rawFsyncPerSecond: number;
    /** Sequential 0220 -> 0230 round trips on the same kind of link, without the journal. */
    loopbackAdviceRoundTripsPerSecond: number;
    /** The lower of rawFsyncPerSecond / commitsPerAdvice and the loopback rate: the most this forwarder could do. */
    boundPerSecond: number;
  };
  drain: { advicesForwarded: number; advicesSetAside: number; blocked: boolean; reversalsAcknowledged: number };
  hostReceived: number;
  hostAdviceCount: number;
  hostAdviceAmount: number;
  expectedAmount: number;
  hostDuplicates: number;
  journalQueuedAfter: number;
  inOrder: boolean;
  lost: number;
  doubled: number;
}

interface RecoveryResult {
  pending: number;
  mix: { armedReversal: number; authorized: number; neverSent: number };
  safQueued: number;
  prepareSeconds: number;
  /** startTerminalApp called -> resolved. */
  readyMs: number;
  target: { readyMs: number };
  met: boolean;
  /** The recovery step alone, as the terminal measures it (all items settle in one journal commit). */
  phasesMs: { recovery: number | null };
  operation: string | null;
  /** Commits made while the app started (recovery is one of them; the forwarder's first sends are the rest). */
  commitsDuringStart: number;
  reference: { rawFsyncPerSecond: number; rawFsyncPart1PerSecond: number };
  after: {
    inFlight: number;
    pendingReversals: number;
    safQueued: number;
    fates: { reversalOwed: number; completed: number; closed: number };
    /** What was still owed to the host this long after ready (the forwarder starts on its own after boot). */
    forwardingWatchMs: number;
    pendingReversalsAfterWatch: number;
    safQueuedAfterWatch: number;
  };
}

const TERMINAL_ID = 'BENCH001';
const MERCHANT_ID = 'MERCHANT0000001';
const CARD = { pan: '4761739001010010', expiry: '2812', entryMode: 'chip' as const, serviceCode: '201' };
const MASKED_PAN = '476173******0010';
const RAW_RECORD_BYTES = 64;

/** Where a journal method lives: on the journal itself (a write across stores, a batch) or on one of its stores. */
type JournalPart = 'journal' | 'counters' | 'transactions' | 'reversals' | 'saf' | 'anomalies';

/** A journal method and the name its commits are reported under (the same names as in earlier results). */
type JournalMethod = readonly [part: JournalPart, method: string, label: string];

/** Journal methods that write; called outside another write or a batch, each is one SQLite transaction. */
const JOURNAL_WRITES: readonly JournalMethod[] = [
  ['counters', 'nextStan', 'nextStan'],
  ['transactions', 'begin', 'beginTransaction'],
  ['transactions', 'recordState', 'recordState'],
  ['anomalies', 'record', 'recordAnomaly'],
  ['reversals', 'arm', 'armReversal'],
  ['journal', 'recordAuthorization', 'recordAuthorization'],
  ['reversals', 'release', 'releaseReversal'],
  ['reversals', 'markPending', 'markReversalPending'],
  ['reversals', 'recordAttempt', 'recordReversalAttempt'],
  ['reversals', 'acknowledge', 'acknowledgeReversal'],
  ['journal', 'recordOfflineApproval', 'recordOfflineApproval'],
  ['saf', 'recordAttempt', 'recordSafAttempt'],
  ['saf', 'complete', 'completeSafItem'],
  ['saf', 'setAside', 'setAsideSafItem'],
  ['journal', 'batch', 'batch'],
];

/** Journal reads that open boot recovery (Terminal.recover starts with them). */
const RECOVERY_READS: readonly JournalMethod[] = [
  ['reversals', 'armed', 'armedReversals'],
  ['transactions', 'inFlight', 'inFlight'],
];

/** Every journal the app opens shares these prototypes. */
const JOURNAL_PROTOTYPES: Record<JournalPart, object> = {
  journal: Journal.prototype,
  counters: CounterStore.prototype,
  transactions: TransactionStore.prototype,
  reversals: ReversalStore.prototype,
  saf: SafStore.prototype,
  anomalies: AnomalyStore.prototype,
};

/** Wraps each of `methods` on one journal (or on every journal: its prototypes); returns the undo. */
function patchJournal(
  target: Journal | 'every journal',
  methods: readonly JournalMethod[],
  wrap: (original: (...args: unknown[]) => unknown, label: string) => (...args: unknown[]) => unknown,
): () => void {
  const restores = methods.map(([part, method, label]) => {
    const holder = target === 'every journal' ? JOURNAL_PROTOTYPES[part] : part === 'journal' ? target : target[part];
    return patch(holder, [method], (original) => wrap(original, label));
  });
  return () => {
    for (const restore of restores.reverse()) restore();
  };
}

/** Writes the forwarder makes (sending what is owed), told apart from recovery's own when both run at boot. */
const FORWARDER_WRITES = new Set([
  'recordReversalAttempt',
  'acknowledgeReversal',
  'recordSafAttempt',
  'completeSafItem',
  'setAsideSafItem',
  'batch',
]);

interface WriteCounter {
  /** SQLite commits, counted where they happen: COMMIT statements and writes in autocommit mode. */
  commits(): number;
  /** The same commits by the outermost journal method that made them ('other' outside any). */
  byMethod: Record<string, number>;
  /** performance.now() of the first recovery read, and of the end of the last outermost write not made by the forwarder. */
  firstRecoveryReadAt: number | undefined;
  lastWriteEndAt: number | undefined;
  reset(): void;
  restore(): void;
}

type Patchable = Record<string, unknown>;

/** Replaces `names` on `target` by wrappers; returns the function that puts the originals back. */
function patch(
  target: object,
  names: readonly string[],
  wrap: (original: (...args: unknown[]) => unknown, name: string) => (...args: unknown[]) => unknown,
): () => void {
  const saved = new Map<string, PropertyDescriptor | undefined>();
  for (const name of names) {
    const original = (target as Patchable)[name];
    if (typeof original !== 'function') continue;
    saved.set(name, Object.getOwnPropertyDescriptor(target, name));
    Object.defineProperty(target, name, {
      configurable: true,
      writable: true,
      value: wrap(original as (...args: unknown[]) => unknown, name),
    });
  }
  return () => {
    for (const [name, descriptor] of saved) {
      if (descriptor) Object.defineProperty(target, name, descriptor);
      else delete (target as Patchable)[name];
    }
  };
}

const TRANSACTION_CONTROL = /^\s*(BEGIN|COMMIT|END|ROLLBACK|SAVEPOINT|RELEASE|PRAGMA)\b/i;

/**
 * Counts what the journal commits while it runs: at the SQLite level (every prepared statement of the process goes
 * through Statement.prototype) and per journal method on `journalTarget` (one journal, or every journal for the
 * one the app opens). Restore before anything else uses SQLite.
 */
function countWrites(journalTarget: Journal | 'every journal'): WriteCounter {
  let commits = 0;
  let current: string | undefined;
  const probe = new Database(':memory:');
  const statementProto = Object.getPrototypeOf(probe.prepare('SELECT 1')) as object;
  probe.close();
  const restoreStatements = patch(
    statementProto,
    ['run', 'get', 'all', 'iterate'],
    (original) =>
      function (this: Database.Statement, ...args: unknown[]) {
        const db = this.database;
        const autocommitWrite = !db.inTransaction && !this.readonly && !TRANSACTION_CONTROL.test(this.source);
        const result = original.apply(this, args);
        if (this.source === 'COMMIT' || (autocommitWrite && !db.inTransaction)) {
          commits += 1;
          const by = current ?? 'other';
          counter.byMethod[by] = (counter.byMethod[by] ?? 0) + 1;
        }
        return result;
      },
  );
  const counter: WriteCounter = {
    commits: () => commits,
    byMethod: {},
    firstRecoveryReadAt: undefined,
    lastWriteEndAt: undefined,
    reset: () => {
      commits = 0;
      for (const key of Object.keys(counter.byMethod)) delete counter.byMethod[key];
      counter.firstRecoveryReadAt = undefined;
      counter.lastWriteEndAt = undefined;
    },
    restore: () => {
      restoreJournal();
      restoreReads();
      restoreStatements();
    },
  };
  const restoreJournal = patchJournal(
    journalTarget,
    JOURNAL_WRITES,
    (original, name) =>
      function (this: unknown, ...args: unknown[]) {
        if (current !== undefined) return original.apply(this, args);
        current = name;
        try {
          return original.apply(this, args);
        } finally {
          current = undefined;
          if (!FORWARDER_WRITES.has(name)) counter.lastWriteEndAt = performance.now();
        }
      },
  );
  const restoreReads = patchJournal(
    journalTarget,
    RECOVERY_READS,
    (original) =>
      function (this: unknown, ...args: unknown[]) {
        counter.firstRecoveryReadAt ??= performance.now();
        return original.apply(this, args);
      },
  );
  return counter;
}

const round = (n: number, digits = 0) => Number(n.toFixed(digits));

/** Filesystem and device of `dir`, from /proc/mounts (the longest mount point that contains it). */
function diskOf(dir: string): { fsType: string; device: string } {
  try {
    const real = realpathSync(dir);
    let best = { mount: '', fsType: 'unknown', device: 'unknown' };
    for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
      const [device, mount, fsType] = line.split(' ');
      if (!device || !mount || !fsType) continue;
      const m = mount.replace(/\\040/g, ' ');
      const inside = real === m || real.startsWith(m.endsWith('/') ? m : `${m}/`);
      if (inside && m.length >= best.mount.length) best = { mount: m, fsType, device };
    }
    return { fsType: best.fsType, device: best.device };
  } catch {
    return { fsType: 'unknown', device: 'unknown' };
  }
}

/** A scratch directory where fsync costs nothing (tmpfs), for journals that only set the scene; else on disk. */
function scratchDir(fallbackParent: string): string {
  const shm = '/dev/shm';
  if (existsSync(shm)) {
    try {
      return mkdtempSync(join(shm, 'pos-bench-prep-'));
    } catch {
      // not writable: prepare on the disk under test (slower, same result)
    }
  }
  return mkdtempSync(join(fallbackParent, 'prep-'));
}

/** Writes a journal with `prepare` on scratch storage, then places it (closed, WAL checkpointed) at `target`. */
function prepareJournal(target: string, scratchParent: string, prepare: (journal: Journal) => void): number {
  const started = performance.now();
  const scratch = scratchDir(scratchParent);
  try {
    const path = join(scratch, 'journal.sqlite');
    const journal = Journal.open(path);
    try {
      prepare(journal);
    } finally {
      journal.close();
    }
    copyFileSync(path, target);
    // The copy must be on the disk before the timed part starts, not in the page cache waiting to be written.
    const fd = openSync(target, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return (performance.now() - started) / 1_000;
}

/** One complete offline sale as the terminal journals it: transaction, STAN, approval + queued advice. */
function offlineSale(journal: Journal, vault: CardVault, amount: number): { txnRef: string; stan: number } {
  const txnRef = newTxnRef();
  journal.transactions.begin({ txnRef, kind: 'sale', amount, currency: '978' });
  const stan = journal.counters.nextStan();
  const approvalCode = offlineApprovalCode(stan);
  journal.recordOfflineApproval(
    txnRef,
    'offline-approved',
    {
      stan,
      responseCode: 'Y1',
      approvalCode,
      maskedPan: MASKED_PAN,
      entryMode: CARD.entryMode,
      outcome: 'offline-approved',
    },
    {
      stan,
      processingCode: PROCESSING_CODE.purchase,
      amount,
      currency: '978',
      approvalCode,
      entryMode: CARD.entryMode,
      maskedPan: MASKED_PAN,
      transmittedAt: Date.now(),
      terminalId: TERMINAL_ID,
      merchantId: MERCHANT_ID,
      cardBlob: vault.seal(CARD, txnRef),
    },
  );
  return { txnRef, stan };
}

/** Amounts that the simulator approves and that trigger none of its magic response or misbehaviour amounts. */
const amountFor = (i: number) => 100 + (i % 9_000);

/** fsync'd appends of 64-byte records: for `records` of them, or for `durationMs`. Records per second. */
function rawFsyncRate(dir: string, name: string, limit: { records?: number; durationMs: number }): number {
  const path = join(dir, name);
  const fd = openSync(path, 'w');
  const record = Buffer.alloc(RAW_RECORD_BYTES, 0x5a);
  let n = 0;
  const start = performance.now();
  try {
    for (;;) {
      if (limit.records !== undefined ? n >= limit.records : performance.now() - start >= limit.durationMs) break;
      writeSync(fd, record);
      fsyncSync(fd);
      n += 1;
    }
  } finally {
    closeSync(fd);
    rmSync(path, { force: true });
  }
  return n / ((performance.now() - start) / 1_000);
}

function terminalConfig(dataDir: string): PosConfig {
  const { config } = loadConfig({ env: {} });
  return {
    ...config,
    dataDir,
    log: { ...config.log, level: 'silent' },
    host: { ...config.host, address: '127.0.0.1:0', simulator: { embedded: true } },
    ecr: { ...config.ecr, port: 0, socketPath: null },
    mqtt: { ...config.mqtt, url: 'mqtt://127.0.0.1:0' },
    offline: { ...config.offline, enabled: true, keyFile: 'keys/saf.key', createKeyIfMissing: true },
  };
}

/** Journal writes one offline sale makes through the whole terminal (network down, chip card, under the floor limit). */
async function measureRealOfflineSale(parent: string): Promise<CommitsResult['realOfflineSale']> {
  const dataDir = mkdtempSync(join(parent, 'sale-'));
  const app = await startTerminalApp(terminalConfig(dataDir), { log: createLogger('silent') });
  const client = await EcrClient.connect({ port: app.ecr.port });
  const counter = countWrites(app.journal);
  try {
    app.mocks.network?.setState({ link: 'down' });
    let amount = 1_250;
    const sale = async () => {
      await client.call({ cmd: 'sim.card', name: 'visa' });
      // Another amount each time, or the second sale would be held as a suspected duplicate.
      return client.call({ cmd: 'sale', amount: amount++ });
    };
    await sale(); // the first one may differ (first offline sale of the session)
    counter.reset();
    const result = await sale();
    return {
      outcome: String(result['outcome'] ?? result['type']),
      commitsPerSale: counter.commits(),
      commitsByMethod: { ...counter.byMethod },
      salesPerSecondAtMeasuredCommitRate: 0,
    };
  } finally {
    counter.restore();
    await client.close();
    await app.stop();
  }
}

async function benchCommits(dir: string, commits: number | undefined): Promise<CommitsResult> {
  const half = commits === undefined ? undefined : Math.max(1, Math.ceil(commits / 2));
  const rawBefore = rawFsyncRate(dir, 'raw-before.bin', {
    ...(half !== undefined ? { records: half } : {}),
    durationMs: 500,
  });

  const journal = Journal.open(join(dir, 'commits', 'journal.sqlite'));
  const vault = CardVault.open(join(dir, 'commits', 'keys', 'saf.key'), { createIfMissing: true });
  let sales = 0;
  let committed = 0;
  let seconds = 0;
  let commitsPerSale = 0;
  let settings: CommitsResult['journalSettings'];
  const counter = countWrites(journal);
  try {
    const s = journal.settings();
    settings = { journalMode: s.journalMode, synchronous: s.synchronous };
    const warmUp = commits === undefined ? 20 : 1;
    for (let i = 0; i < warmUp; i++) offlineSale(journal, vault, amountFor(i));
    counter.reset();
    const start = performance.now();
    for (;;) {
      if (commits !== undefined ? counter.commits() >= commits : performance.now() - start >= 1_000) break;
      offlineSale(journal, vault, amountFor(sales));
      sales += 1;
    }
    seconds = (performance.now() - start) / 1_000;
    committed = counter.commits();
    commitsPerSale = committed / sales;
  } finally {
    counter.restore();
    journal.close();
  }

  const rawAfter = rawFsyncRate(dir, 'raw-after.bin', {
    ...(half !== undefined ? { records: half } : {}),
    durationMs: 500,
  });
  const raw = (rawBefore + rawAfter) / 2;
  const commitsPerSecond = committed / seconds;
  const salesPerSecond = sales / seconds;
  const real = await measureRealOfflineSale(dir);
  real.salesPerSecondAtMeasuredCommitRate = round(commitsPerSecond / Math.max(1, real.commitsPerSale));
  return {
    rawFsyncPerSecond: round(raw),
    rawFsyncBeforePerSecond: round(rawBefore),
    rawFsyncAfterPerSecond: round(rawAfter),
    rawRecordBytes: RAW_RECORD_BYTES,
    journalSettings: settings,
    sales,
    commitsPerSale: round(commitsPerSale, 2),
    commitsPerSecond: round(commitsPerSecond),
    salesPerSecond: round(salesPerSecond),
    ratio: round(commitsPerSecond / raw, 3),
    salesRatio: round(salesPerSecond / raw, 3),
    target: { ratio: 0.9 },
    met: commitsPerSecond / raw >= 0.9,
    realOfflineSale: real,
  };
}

function waitUp(link: TcpHostLink): Promise<void> {
  if (link.isUp()) return Promise.resolve();
  return new Promise((resolve) => {
    const off = link.on('up', () => {
      off();
      resolve();
    });
  });
}

/** Sequential advice round trips on a link of its own, without the journal: the network side of the bound. */
async function loopbackAdviceRate(count: number): Promise<number> {
  const sim = new AcquirerHostSimulator({ keepLedger: false });
  const { port } = await sim.start();
  const link = new TcpHostLink({ host: '127.0.0.1', port, correlator: isoCorrelator });
  link.start();
  const client = new AcquirerClient(link);
  let stan = 0;
  const advice = () => {
    // The amount follows the previous STAN, the message carries the next one.
    const amount = amountFor(stan);
    stan = (stan % 999_999) + 1;
    return buildAdvice(
      {
        processingCode: PROCESSING_CODE.purchase,
        amount,
        currency: '978',
        stan,
        transmittedAt: new Date(),
        terminalId: TERMINAL_ID,
        merchantId: MERCHANT_ID,
        pan: CARD.pan,
        expiry: CARD.expiry,
        entryMode: '051',
        approvalCode: offlineApprovalCode(stan),
      },
      { repeat: false },
    );
  };
  try {
    await waitUp(link);
    for (let i = 0; i < Math.min(200, count); i++) await client.send(advice());
    let n = 0;
    const start = performance.now();
    while (n < count && performance.now() - start < 500) {
      await client.send(advice());
      n += 1;
    }
    return n / ((performance.now() - start) / 1_000);
  } finally {
    await link.stop();
    await sim.stop();
  }
}

async function benchForwarding(dir: string, advices: number, rawFsyncPerSecond: number): Promise<ForwardingResult> {
  const dataDir = mkdtempSync(join(dir, 'forward-'));
  const vault = CardVault.open(join(dataDir, 'keys', 'saf.key'), { createIfMissing: true });
  const journalFile = join(dataDir, 'journal.sqlite');
  let expectedAmount = 0;
  const prepareSeconds = prepareJournal(journalFile, dir, (journal) => {
    for (let i = 0; i < advices; i++) {
      offlineSale(journal, vault, amountFor(i));
      expectedAmount += amountFor(i);
    }
  });
  const loopback = await loopbackAdviceRate(advices);

  const { config } = loadConfig({ env: {} });
  const log: Logger = createLogger('silent');
  const journal = Journal.open(journalFile);
  const sim = new AcquirerHostSimulator({ keepLedger: true });
  const { port } = await sim.start();
  const link = new TcpHostLink({
    host: '127.0.0.1',
    port,
    correlator: isoCorrelator,
    responseTimeoutMs: config.host.responseTimeoutMs,
    connectTimeoutMs: config.host.connectTimeoutMs,
    reconnect: config.host.reconnect,
  });
  link.start();
  const forwarder = new Forwarder({
    journal,
    acquirer: new AcquirerClient(link),
    vault,
    clock: systemClock,
    log,
    anomalies: new AnomalyRecorder(journal, new MockDisplay(), log),
    backoff: { initialDelayMs: config.forwarding.initialDelayMs, maxDelayMs: config.forwarding.maxDelayMs },
    intervalMs: config.forwarding.intervalMs,
    responseTimeoutMs: config.host.responseTimeoutMs,
  });
  const counter = countWrites(journal);
  try {
    const expectedStans = journal.saf.queue().map((item) => String(item.stan).padStart(6, '0'));
    await waitUp(link);
    counter.reset();
    const start = performance.now();
    const drain = await forwarder.drain();
    const drainSeconds = (performance.now() - start) / 1_000;
    const commitsPerAdvice = counter.commits() / Math.max(1, advices);

    // What the host saw: every advice request received, in arrival order.
    const arrived = sim.ledger
      .filter((e) => e.dir === 'in' && (e.mti === MTI.advice || e.mti === MTI.adviceRepeat))
      .map((e) => e.stan ?? '');
    const seen = new Map<string, number>();
    const firstArrivals: string[] = [];
    for (const stan of arrived) {
      const times = (seen.get(stan) ?? 0) + 1;
      seen.set(stan, times);
      if (times === 1) firstArrivals.push(stan);
    }
    const expected = new Set(expectedStans);
    const lost = expectedStans.filter((stan) => !seen.has(stan)).length;
    const doubled = arrived.length - firstArrivals.length;
    const unexpected = firstArrivals.filter((stan) => !expected.has(stan)).length;
    const inOrder =
      unexpected === 0 &&
      firstArrivals.length === expectedStans.length &&
      firstArrivals.every((stan, i) => stan === expectedStans[i]);
    const totals = sim.totals();
    const bound = commitsPerAdvice > 0 ? Math.min(rawFsyncPerSecond / commitsPerAdvice, loopback) : loopback;
    return {
      advices,
      prepareSeconds: round(prepareSeconds, 2),
      drainSeconds: round(drainSeconds, 3),
      advicesPerSecond: round(advices / drainSeconds),
      target: { advicesPerSecond: 2_000 },
      met: advices / drainSeconds >= 2_000,
      reference: {
        commitsPerAdvice: round(commitsPerAdvice, 3),
        commitsByMethod: { ...counter.byMethod },
        rawFsyncPerSecond: round(rawFsyncPerSecond),
        loopbackAdviceRoundTripsPerSecond: round(loopback),
        boundPerSecond: round(bound),
      },
      drain: { ...drain },
      hostReceived: arrived.length,
      hostAdviceCount: totals.adviceCount,
      hostAdviceAmount: totals.adviceAmount,
      expectedAmount,
      hostDuplicates: totals.duplicates,
      journalQueuedAfter: journal.saf.stats().count,
      inOrder,
      lost,
      doubled,
    };
  } finally {
    counter.restore();
    forwarder.stop();
    await link.stop();
    await sim.stop();
    journal.close();
  }
}

async function benchRecovery(dir: string, pending: number, rawFsyncEarlierPerSecond: number): Promise<RecoveryResult> {
  const dataDir = mkdtempSync(join(dir, 'recovery-'));
  const config = terminalConfig(dataDir);
  const vault = CardVault.open(join(dataDir, config.offline.keyFile), { createIfMissing: true });
  const mix = { armedReversal: 0, authorized: 0, neverSent: 0 };
  const safQueued = Math.ceil(pending / 10);
  const prepareSeconds = prepareJournal(join(dataDir, 'journal.sqlite'), dir, (journal) => {
    // Offline sales still owed to the host, older than the interrupted ones.
    for (let i = 0; i < safQueued; i++) offlineSale(journal, vault, amountFor(i));
    for (let i = 0; i < pending; i++) {
      const txnRef = newTxnRef();
      const amount = amountFor(i);
      journal.transactions.begin({ txnRef, kind: 'sale', amount, currency: '978' });
      if (i % 3 === 2) {
        // Stopped before the card was read: never sent.
        journal.transactions.recordState(txnRef, 'waitingForCard');
        mix.neverSent += 1;
        continue;
      }
      const stan = journal.counters.nextStan();
      journal.transactions.recordState(txnRef, 'sending', { stan, maskedPan: MASKED_PAN, entryMode: CARD.entryMode });
      journal.reversals.arm({
        txnRef,
        stan,
        originalMti: MTI.financialRequest,
        processingCode: PROCESSING_CODE.purchase,
        amount,
        currency: '978',
        transmittedAt: Date.now(),
        terminalId: TERMINAL_ID,
        merchantId: MERCHANT_ID,
        maskedPan: MASKED_PAN,
      });
      if (i % 3 === 0) {
        // Stopped while the request was out: the reversal is armed.
        mix.armedReversal += 1;
        continue;
      }
      // The host answered; stopped before the receipt.
      journal.recordAuthorization(txnRef, 'authorized', {
        stan,
        responseCode: '00',
        approvalCode: `A${String(i % 100_000).padStart(5, '0')}`,
        rrn: String(i).padStart(12, '0'),
      });
      mix.authorized += 1;
    }
  });

  // Shared disks drift: the fsync rate of this moment, next to the one measured in part 1.
  const rawFsyncPerSecond = rawFsyncRate(dir, 'raw-recovery.bin', { durationMs: pending >= 1_000 ? 500 : 50 });
  const log: Logger = createLogger('silent');
  const counter = countWrites('every journal');
  let app: Awaited<ReturnType<typeof startTerminalApp>> | undefined;
  let readyMs = 0;
  const t0 = performance.now();
  try {
    app = await startTerminalApp(config, { log });
    readyMs = performance.now() - t0;
  } finally {
    counter.restore();
  }
  try {
    const counts = app.journal.counts();
    const recovered = app.journal.transactions.list({ state: 'recovered' });
    const fates = { reversalOwed: 0, completed: 0, closed: 0 };
    for (const row of recovered) {
      if (row.outcome === 'approved' || row.outcome === 'declined' || row.outcome === 'offline-approved')
        fates.completed += 1;
      else if (row.anomalyCode === anomalyCode('reversal-pending')) fates.reversalOwed += 1;
      else fates.closed += 1;
    }
    // Does the forwarder start on what recovery found owed, or wait for its periodic pass?
    const watchMs = 1_000;
    await new Promise((resolve) => setTimeout(resolve, watchMs));
    const later = app.journal.counts();
    return {
      pending,
      mix,
      safQueued,
      prepareSeconds: round(prepareSeconds, 2),
      readyMs: round(readyMs, 1),
      target: { readyMs: 2_000 },
      met: readyMs < 2_000,
      phasesMs: {
        // Measured by the terminal itself around its recovery step (one journal commit for all items).
        recovery: app.terminal.lastRecovery?.durationMs ?? null,
      },
      operation: app.terminal.status().state,
      commitsDuringStart: counter.commits(),
      reference: {
        rawFsyncPerSecond: round(rawFsyncPerSecond),
        rawFsyncPart1PerSecond: round(rawFsyncEarlierPerSecond),
      },
      after: {
        inFlight: counts.inFlight,
        pendingReversals: counts.pendingReversals,
        safQueued: counts.safQueued,
        fates,
        forwardingWatchMs: watchMs,
        pendingReversalsAfterWatch: later.pendingReversals,
        safQueuedAfterWatch: later.safQueued,
      },
    };
  } finally {
    await app.stop();
  }
}

export async function benchDurability(options: DurabilityBenchOptions = {}): Promise<DurabilityBenchResult> {
  const advices = options.advices ?? 10_000;
  const pending = options.pending ?? 10_000;
  const dir = mkdtempSync(join(tmpdir(), 'pos-bench-durability-'));
  try {
    const commits = await benchCommits(dir, options.commits);
    const forwarding = await benchForwarding(dir, advices, commits.rawFsyncPerSecond);
    const recovery = await benchRecovery(dir, pending, commits.rawFsyncPerSecond);
    return { name: 'durability', disk: { dir: tmpdir(), ...diskOf(dir) }, commits, forwarding, recovery };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  benchDurability().then((r) => process.stdout.write(`${JSON.stringify(r)}\n`));
}
