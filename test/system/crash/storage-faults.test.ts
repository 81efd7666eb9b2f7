/**
 * Storage faults at process level, on real storage: pos-terminal runs as a child process (pos-host-sim beside it,
 * its ledger outside the faulty storage) with its data directory on
 * - a small tmpfs that a filler file fills to ENOSPC (disk full, before and in the middle of a sale);
 * - an ext4 image on a loop device mounted errors=remount-ro, which the kernel turns read-only under the running
 *   terminal. (`mount -o remount,ro` cannot do that: the kernel refuses it with EBUSY while the journal is open for
 *   writing. An ext4 error, as a failing flash chip causes, is how storage really goes read-only under a process.)
 * In every case a new sale is refused with the storage fault as its reason, the process stays up, and after the
 * repair (space freed, or fsck and a new mount) and a restart every transaction committed before the fault is still
 * there, unchanged and not duplicated, and sales work again.
 *
 * After a disk-full fault is cleared the terminal stays locked until a supervisor unlocks it: a storage fault is
 * critical and its cause needs looking at. The unlock settles what the fault left unfinished (as a restart would)
 * and runs the self-test again, whose storage check writes and fsyncs a file: an unlock while the storage is still
 * full or read-only leaves the terminal locked.
 *
 * Needs root (mount, losetup); where mounting is refused the tests are skipped with the reason printed.
 */
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statfsSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startTerminalApp } from '../../../src/app/compose.js';
import { loadConfig } from '../../../src/config/index.js';
import { EcrClient, type EcrMessage } from '../../../src/ecr/client.js';
import { Journal, type TransactionRow } from '../../../src/journal/index.js';
import { testCard } from '../../../src/card/test-cards.js';
import { createLogger } from '../../../src/util/log.js';
import { startCli, type RunningCli } from '../../support/cli.js';
import { loadMasterKeyWithCli, masterKeyFixture } from '../../support/mac-keys.js';
import { until } from '../../support/wait.js';

const PIN = '1234';
const root = mkdtempSync(join(tmpdir(), 'pos-storage-'));
const mounts: string[] = [];
const children: RunningCli[] = [];

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function why(err: unknown): string {
  const e = err as { stderr?: string; message?: string };
  return (e.stderr?.trim() || e.message || String(err)).split('\n')[0]!;
}

function mountTmpfs(at: string, size: string): void {
  mkdirSync(at, { recursive: true });
  run('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'pos-storage-test', at]);
  mounts.push(at);
}

function mountExt4(image: string, at: string, sizeMb: number): string {
  mkdirSync(at, { recursive: true });
  run('truncate', ['-s', `${sizeMb}M`, image]);
  run('mkfs.ext4', ['-q', '-F', image]);
  run('mount', ['-o', 'loop,errors=remount-ro', image, at]);
  mounts.push(at);
  return run('findmnt', ['-n', '-o', 'SOURCE', at]).trim();
}

function unmount(at: string): void {
  const i = mounts.indexOf(at);
  if (i < 0) return;
  try {
    run('umount', [at]);
  } catch {
    // Still busy (a process that did not exit): detach it so the machine is not left with a stray mount.
    run('umount', ['-l', at]);
  }
  mounts.splice(i, 1);
}

/** Probes once whether this machine lets the test mount what it needs; the reason is printed when it does not. */
function probe(what: string, attempt: (dir: string) => void): { ok: boolean; reason: string } {
  const dir = mkdtempSync(join(root, 'probe-'));
  try {
    attempt(dir);
    return { ok: true, reason: '' };
  } catch (err) {
    const reason = `${what} cannot be mounted here (${why(err)}): skipped`;
    console.warn(`storage-faults: ${reason}`);
    return { ok: false, reason };
  } finally {
    for (const at of [...mounts]) if (at.startsWith(dir)) unmount(at);
    rmSync(dir, { recursive: true, force: true });
  }
}

const tmpfs = probe('a tmpfs', (dir) => mountTmpfs(join(dir, 'mnt'), '1m'));
const ext4 = probe('an ext4 loop image', (dir) => {
  const device = mountExt4(join(dir, 'probe.img'), join(dir, 'mnt'), 8);
  if (!existsSync(`/sys/fs/ext4/${basename(device)}/trigger_fs_error`))
    throw new Error(`no /sys/fs/ext4/${basename(device)}/trigger_fs_error`);
});

afterAll(async () => {
  // Processes first: a child holding the journal open keeps its mount busy.
  for (const child of children)
    if (child.child.exitCode === null && child.child.signalCode === null) child.child.kill('SIGKILL');
  await Promise.all(children.map((c) => c.exited));
  for (const at of [...mounts].reverse()) unmount(at);
  rmSync(root, { recursive: true, force: true });
}, 30_000);

// ---- the processes ----

interface Rig {
  dir: string;
  dataDir: string;
  ledgerPath: string;
  configPath: string;
}

async function startHost(
  dir: string,
  delayMs = 3_000,
): Promise<{ ledgerPath: string; port: number; components: string }> {
  const ledgerPath = join(dir, 'host-ledger.jsonl');
  // Every financial message MACed: the host holds the master key the terminal loads (rig).
  const keys = masterKeyFixture(dir);
  const host = startCli('pos-host-sim', [
    ...['--master-keys', keys.keysFile],
    ...['--port', '0', '--ledger', ledgerPath, '--delay-ms', String(delayMs)],
  ]);
  children.push(host);
  await until(() => host.stdout().includes('listening'), 'host simulator');
  const port = (JSON.parse(host.stdout().split('\n')[0]!) as { port: number }).port;
  return { ledgerPath, port, components: keys.components };
}

async function rig(dir: string, dataDir: string, delayMs?: number): Promise<Rig> {
  const { ledgerPath, port, components } = await startHost(dir, delayMs);
  const configPath = join(dir, 'terminal.json');
  writeFileSync(
    configPath,
    JSON.stringify({
      dataDir,
      log: { level: 'warn' },
      host: { address: `127.0.0.1:${port}`, simulator: { embedded: false }, responseTimeoutMs: 5_000 },
      ecr: { port: 0, socketPath: null },
      mqtt: { url: 'mqtt://127.0.0.1:0', embeddedBroker: true },
      forwarding: { initialDelayMs: 20, maxDelayMs: 200, intervalMs: 100 },
      // An 8 MiB filesystem is small by design here; the default 64 MiB floor would only add a warning.
      selftest: { minFreeBytes: 1024 * 1024 },
    }),
  );
  loadMasterKeyWithCli(components, ['--config', configPath]);
  return { dir, dataDir, ledgerPath, configPath };
}

interface Running {
  process: RunningCli;
  client: EcrClient;
}

async function startTerminal(r: Rig): Promise<Running> {
  const terminal = startCli('pos-terminal', ['--config', r.configPath]);
  children.push(terminal);
  await until(
    () => /ECR on 127\.0\.0\.1:\d+/.test(terminal.stdout()) || terminal.child.exitCode !== null,
    'terminal ready',
    20_000,
  );
  if (terminal.child.exitCode !== null)
    throw new Error(`terminal exited ${terminal.child.exitCode}: ${terminal.stderr()}`);
  const client = await EcrClient.connect({ port: Number(/ECR on 127\.0\.0\.1:(\d+)/.exec(terminal.stdout())![1]) });
  return { process: terminal, client };
}

async function stopTerminal(t: Running): Promise<number | null> {
  await t.client.close();
  t.process.child.kill('SIGTERM');
  return t.process.exited;
}

function sale(client: EcrClient, amount: number, onMessage?: (m: EcrMessage) => void): Promise<EcrMessage> {
  return client.call({ cmd: 'sale', amount }, (m) => {
    if (m.type === 'state' && m['state'] === 'waitingForCard') void client.call({ cmd: 'sim.card', name: 'visa' });
    onMessage?.(m);
  });
}

async function eventually(condition: () => Promise<boolean>, what: string, limitMs = 15_000): Promise<void> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > limitMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// ---- storage ----

/** Writes a filler file until the filesystem says ENOSPC, down to the last block. */
function fill(mnt: string): string {
  const path = join(mnt, 'filler');
  const fd = openSync(path, 'w');
  let full = false;
  try {
    for (const size of [1024 * 1024, 4096, 512]) {
      const chunk = Buffer.alloc(size, 0x5a);
      try {
        for (;;) writeSync(fd, chunk);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
        full = true;
      }
    }
  } finally {
    closeSync(fd);
  }
  expect(full).toBe(true);
  expect(statfsSync(mnt).bavail).toBe(0);
  return path;
}

// ---- what was committed ----

function journalRows(dataDir: string): TransactionRow[] {
  const journal = Journal.open(join(dataDir, 'journal.sqlite'), { readonly: true });
  try {
    return journal.transactions.list();
  } finally {
    journal.close();
  }
}

type LedgerEntry = {
  dir: string;
  mti: string;
  stan?: string;
  amount?: number;
  responseCode?: string;
  duplicate?: boolean;
};

function ledger(path: string): LedgerEntry[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as LedgerEntry);
}

function hostSaw(path: string, stan: number, mtis: string[]): number {
  const s = String(stan).padStart(6, '0');
  return ledger(path).filter((e) => e.dir === 'in' && e.stan === s && mtis.includes(e.mti) && !e.duplicate).length;
}

/**
 * After the repair: every row committed before the fault is there unchanged, nothing is duplicated, the file is
 * sound, and the host captured each approved sale exactly once and reversed none of them.
 */
function expectNothingLost(r: Rig, before: TransactionRow[]): TransactionRow[] {
  const journal = Journal.open(join(r.dataDir, 'journal.sqlite'), { readonly: true });
  try {
    expect(journal.integrityCheck()).toEqual(['ok']);
    const rows = journal.transactions.list();
    const byRef = new Map(rows.map((row) => [row.txnRef, row]));
    for (const row of before) expect(byRef.get(row.txnRef)).toEqual(row);
    const stans = rows.map((row) => row.stan).filter((stan) => stan !== null);
    expect(new Set(stans).size).toBe(stans.length);
    expect(new Set(rows.map((row) => row.ecrRequestId)).size).toBe(rows.length);
    for (const row of rows.filter((x) => x.outcome === 'approved')) {
      expect(hostSaw(r.ledgerPath, row.stan!, ['0200']), `STAN ${row.stan} requests`).toBe(1);
      expect(hostSaw(r.ledgerPath, row.stan!, ['0400', '0401']), `STAN ${row.stan} reversals`).toBe(0);
    }
    expect(journal.transactions.inFlight()).toEqual([]);
    expect(journal.reversals.pending()).toEqual([]);
    return rows;
  } finally {
    journal.close();
  }
}

async function approvedSales(client: EcrClient, amounts: number[]): Promise<void> {
  for (const amount of amounts)
    expect(await sale(client, amount)).toMatchObject({ type: 'result', outcome: 'approved', amount });
  // The register has the result while the card is still in; the transaction ends once the cardholder takes it.
  await eventually(
    async () => (await client.call({ cmd: 'status' }))['state'] !== 'transacting',
    'the last card taken out',
  );
}

describe.skipIf(!tmpfs.ok)(
  `disk full: data directory on an 8 MiB tmpfs${tmpfs.reason ? ` (${tmpfs.reason})` : ''}`,
  () => {
    it('refuses new sales with the storage fault as reason, stays up and locked until a supervisor unlocks, loses nothing', async () => {
      const dir = mkdtempSync(join(root, 'full-'));
      const mnt = join(dir, 'mnt');
      mountTmpfs(mnt, '8m');
      const r = await rig(dir, join(mnt, 'data'));
      let t = await startTerminal(r);
      await approvedSales(t.client, [1101, 1102, 1103]);
      const before = journalRows(r.dataDir);
      expect(before.map((row) => row.outcome)).toEqual(['approved', 'approved', 'approved']);

      const filler = fill(mnt);
      const refused = await sale(t.client, 1104);
      expect(refused).toMatchObject({
        type: 'error',
        code: 'not-allowed',
        message: expect.stringMatching(/^sales refused until the storage is fixed \(storage fault: .*SQLITE_FULL/),
      });
      let status = await t.client.call({ cmd: 'status' });
      expect(status).toMatchObject({
        type: 'status',
        state: 'locked',
        lockReasons: expect.arrayContaining([
          expect.stringMatching(/^storage fault: .*SQLITE_FULL: database or disk is full/),
        ]),
      });
      expect(await sale(t.client, 1105)).toMatchObject({
        type: 'error',
        code: 'not-allowed',
        message: expect.stringMatching(/^terminal locked: .*storage fault/),
      });
      // Nothing left the terminal for the refused sales.
      expect(ledger(r.ledgerPath).filter((e) => e.mti === '0200' && (e.amount === 1104 || e.amount === 1105))).toEqual(
        [],
      );

      // A supervisor cannot unlock onto a full disk: the self-test's storage check finds it and the lock stays.
      expect(await t.client.call({ cmd: 'unlock', supervisorPin: PIN })).toMatchObject({
        type: 'done',
        state: 'locked',
      });
      status = await t.client.call({ cmd: 'status' });
      expect(status['lockReasons']).toEqual(
        expect.arrayContaining([expect.stringMatching(/^self-test: storage: write-failed \(ENOSPC/)]),
      );

      // Space is back: the storage checks out again, yet the terminal stays locked until a supervisor says so.
      rmSync(filler);
      const selftest = await t.client.call({ cmd: 'selftest' });
      expect(selftest).toMatchObject({ type: 'done', state: 'locked' });
      expect(
        (selftest['results'] as Array<{ component: string; status: string }>).find((c) => c.component === 'storage'),
      ).toMatchObject({ status: 'ok' });
      expect(await sale(t.client, 1106)).toMatchObject({ type: 'error', code: 'not-allowed' });
      expect(await t.client.call({ cmd: 'unlock', supervisorPin: PIN })).toMatchObject({
        type: 'done',
        state: 'ready',
      });
      await approvedSales(t.client, [1107]);
      expect(t.process.child.exitCode).toBeNull();
      expect(await stopTerminal(t)).toBe(0);

      // Restart on the repaired storage: everything committed before the fault is there, once, and sales work.
      t = await startTerminal(r);
      expect(await t.client.call({ cmd: 'status' })).toMatchObject({ state: 'ready', journal: { inFlight: 0 } });
      await approvedSales(t.client, [1108]);
      expect(await stopTerminal(t)).toBe(0);
      const rows = expectNothingLost(r, before);
      expect(rows.map((row) => [row.amount, row.outcome])).toEqual([
        [1101, 'approved'],
        [1102, 'approved'],
        [1103, 'approved'],
        [1107, 'approved'],
        [1108, 'approved'],
      ]);
      unmount(mnt);
    }, 90_000);

    it('a disk that fills while the host decides: the sale ends failed with the storage fault, the reversal is owed and sent once', async () => {
      const dir = mkdtempSync(join(root, 'midsale-'));
      const mnt = join(dir, 'mnt');
      mountTmpfs(mnt, '8m');
      // Amount 2000.01 makes the host answer after 1.5 s: time to fill the disk once the request has left.
      const r = await rig(dir, join(mnt, 'data'), 1_500);
      let t = await startTerminal(r);
      await approvedSales(t.client, [2101, 2102]);
      const before = journalRows(r.dataDir);

      const pending = sale(t.client, 200_001);
      await until(
        () => ledger(r.ledgerPath).some((e) => e.dir === 'in' && e.mti === '0200' && e.amount === 200_001),
        'the request at the host',
      );
      const filler = fill(mnt);
      const result = await pending;
      const stan = result['stan'] as number;
      // The host approved it, but the terminal could not journal the answer: never reported approved, reversal owed.
      await until(
        () =>
          ledger(r.ledgerPath).some(
            (e) =>
              e.dir === 'out' &&
              e.mti === '0210' &&
              e.stan === String(stan).padStart(6, '0') &&
              e.responseCode === '00',
          ),
        'the host approval',
      );
      expect(result).toMatchObject({
        type: 'result',
        outcome: 'failed',
        amount: 200_001,
        stan: expect.any(Number),
        anomaly: {
          code: 'E601',
          name: 'storage-fault',
          message: expect.stringMatching(/SQLITE_FULL.*reversal owed once the storage is fixed/),
        },
      });
      expect(await t.client.call({ cmd: 'status' })).toMatchObject({
        state: 'locked',
        journal: { inFlight: 1 },
        lockReasons: expect.arrayContaining([expect.stringMatching(/^storage fault: .*SQLITE_FULL/)]),
      });
      // What the journal holds meanwhile: the reversal armed before the request left, so a crash now would reverse it too.
      let journal = Journal.open(join(r.dataDir, 'journal.sqlite'), { readonly: true });
      const txnRef = result['txnRef'] as string;
      expect(journal.transactions.get(txnRef)).toMatchObject({ outcome: null, stan });
      expect(journal.reversals.forTransaction(txnRef)).toMatchObject({ state: 'armed', stan });
      journal.close();
      expect(hostSaw(r.ledgerPath, stan, ['0400', '0401'])).toBe(0);

      // Space back, a supervisor unlocks: the unfinished sale is settled (reversal owed) and the reversal goes out.
      rmSync(filler);
      expect(await t.client.call({ cmd: 'unlock', supervisorPin: PIN })).toMatchObject({
        type: 'done',
        state: 'ready',
      });
      await eventually(
        async () =>
          (await t.client.call({ cmd: 'status' }))['pendingReversals'] === 0 &&
          hostSaw(r.ledgerPath, stan, ['0400', '0401']) === 1,
        'the reversal at the host',
      );
      journal = Journal.open(join(r.dataDir, 'journal.sqlite'), { readonly: true });
      expect(journal.transactions.get(txnRef)).toMatchObject({ outcome: 'failed', stan });
      expect(journal.transactions.events(txnRef).map((e) => e.state)).toEqual(
        expect.arrayContaining(['sending', 'recovered', 'reversed']),
      );
      expect(journal.reversals.forTransaction(txnRef)).toMatchObject({ state: 'acknowledged' });
      journal.close();
      await approvedSales(t.client, [2103]);
      expect(await stopTerminal(t)).toBe(0);

      // A restart finds nothing left to settle and sends no second reversal.
      t = await startTerminal(r);
      expect(await t.client.call({ cmd: 'status' })).toMatchObject({
        state: 'ready',
        pendingReversals: 0,
        journal: { inFlight: 0 },
      });
      await approvedSales(t.client, [2104]);
      expect(await stopTerminal(t)).toBe(0);
      expect(hostSaw(r.ledgerPath, stan, ['0400', '0401'])).toBe(1);
      const rows = expectNothingLost(r, before);
      expect(rows.map((row) => [row.amount, row.outcome])).toEqual([
        [2101, 'approved'],
        [2102, 'approved'],
        [200_001, 'failed'],
        [2103, 'approved'],
        [2104, 'approved'],
      ]);
      unmount(mnt);
    }, 90_000);
  },
);

describe.skipIf(!tmpfs.ok)(
  `disk full after the host answered, in-process${tmpfs.reason ? ` (${tmpfs.reason})` : ''}`,
  () => {
    // The register must never hear "failed" about a sale the host approved and the journal holds; only an in-process
    // listener can fill the disk between two journal writes of one sale.
    it('the sale stays approved with its receipt pending, the terminal locks, and nothing is reversed', async () => {
      const dir = mkdtempSync(join(root, 'answered-'));
      const mnt = join(dir, 'mnt');
      mountTmpfs(mnt, '8m');
      const { config: base } = loadConfig({ env: {} });
      const app = await startTerminalApp(
        {
          ...base,
          dataDir: join(mnt, 'data'),
          host: { ...base.host, address: '127.0.0.1:0' },
          ecr: { ...base.ecr, port: 0, socketPath: null },
          mqtt: { ...base.mqtt, url: 'mqtt://127.0.0.1:0' },
          selftest: { ...base.selftest, minFreeBytes: 1024 * 1024 },
        },
        { log: createLogger('silent') },
      );
      let filler: string | undefined;
      try {
        const output = await app.terminal.startTransaction({ kind: 'sale', amount: 4101 }, (event) => {
          if (event.type !== 'state') return;
          if (event.state === 'waitingForCard') app.mocks.reader!.present(testCard('visa')!);
          // Told right after 'approved' was committed: the next journal write (printing) finds the disk full.
          if (event.state === 'approved') filler = fill(mnt);
        });
        expect(filler).toBeDefined();
        expect(output).toMatchObject({
          outcome: 'approved',
          receipt: 'pending',
          amount: 4101,
          responseCode: '00',
          approvalCode: expect.any(String),
          anomaly: {
            name: 'storage-fault',
            reason: expect.stringMatching(/SQLITE_FULL.*completed as approved, receipt pending/),
          },
        });
        expect(app.terminal.status()).toMatchObject({
          state: 'locked',
          lockReasons: expect.arrayContaining([expect.stringMatching(/^storage fault: .*SQLITE_FULL/)]),
        });
        expect(app.hostSim!.totals()).toMatchObject({ approvedCount: 1, approvedAmount: 4101 });
        expect(app.journal.reversals.forTransaction(output.txnRef)).toMatchObject({ state: 'cleared' });

        rmSync(filler!);
        app.terminal.unlock();
        await app.terminal.settled();
        expect(app.terminal.status()).toMatchObject({ state: 'ready', pendingReversals: 0 });
        expect(app.journal.transactions.get(output.txnRef)).toMatchObject({ outcome: 'approved', responseCode: '00' });
      } finally {
        await app.stop();
        unmount(mnt);
      }
    }, 30_000);
  },
);

describe.skipIf(!ext4.ok)(
  `read-only storage: ext4 errors=remount-ro on a loop device${ext4.reason ? ` (${ext4.reason})` : ''}`,
  () => {
    it('refuses new sales with the storage fault as reason, stays up; after fsck and a restart nothing is lost', async () => {
      const dir = mkdtempSync(join(root, 'ro-'));
      const mnt = join(dir, 'mnt');
      const image = join(dir, 'storage.img');
      const device = mountExt4(image, mnt, 32);
      const r = await rig(dir, join(mnt, 'data'));
      let t = await startTerminal(r);
      await approvedSales(t.client, [3101, 3102, 3103]);
      const before = journalRows(r.dataDir);

      // What the kernel does on an ext4 error with errors=remount-ro: the filesystem turns read-only under the process.
      writeFileSync(`/sys/fs/ext4/${basename(device)}/trigger_fs_error`, 'pos-terminal storage fault test');
      expect(() => writeFileSync(join(mnt, 'probe'), 'x')).toThrow(/EROFS/);

      expect(await sale(t.client, 3104)).toMatchObject({
        type: 'error',
        code: 'not-allowed',
        message: expect.stringMatching(
          /^sales refused until the storage is fixed \(storage fault: .*SQLITE_(IOERR|READONLY)/,
        ),
      });
      expect(await t.client.call({ cmd: 'status' })).toMatchObject({
        state: 'locked',
        lockReasons: expect.arrayContaining([expect.stringMatching(/^storage fault: /)]),
      });
      expect(await t.client.call({ cmd: 'unlock', supervisorPin: PIN })).toMatchObject({
        type: 'done',
        state: 'locked',
      });
      expect((await t.client.call({ cmd: 'status' }))['lockReasons']).toEqual(
        expect.arrayContaining([expect.stringMatching(/^self-test: storage: write-failed \(EROFS/)]),
      );
      expect(ledger(r.ledgerPath).filter((e) => e.mti === '0200' && e.amount === 3104)).toEqual([]);
      expect(t.process.child.exitCode).toBeNull();
      expect(await stopTerminal(t)).toBe(0);

      // The repair a technician makes: unmount, fsck, mount again.
      unmount(mnt);
      try {
        run('e2fsck', ['-f', '-y', image]);
      } catch (err) {
        // 1: errors found and corrected; anything else means the repair itself failed.
        if ((err as { status?: number }).status !== 1) throw err;
      }
      run('mount', ['-o', 'loop,errors=remount-ro', image, mnt]);
      mounts.push(mnt);

      t = await startTerminal(r);
      expect(await t.client.call({ cmd: 'status' })).toMatchObject({ state: 'ready', journal: { inFlight: 0 } });
      await approvedSales(t.client, [3105]);
      expect(await stopTerminal(t)).toBe(0);
      const rows = expectNothingLost(r, before);
      expect(rows.map((row) => [row.amount, row.outcome])).toEqual([
        [3101, 'approved'],
        [3102, 'approved'],
        [3103, 'approved'],
        [3105, 'approved'],
      ]);
      unmount(mnt);
    }, 90_000);
  },
);
