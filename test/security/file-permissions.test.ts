/**
 * File permissions of the data directory and the journal: checked at start like the store-and-forward key, and
 * created private so a fresh install passes. The checker on its own, then the real pos-terminal process.
 */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { checkDataPermissions, FilePermissionError, secureDataDir } from '../../src/security/file-permissions.js';
import { startCli, type RunningCli } from '../support/cli.js';
import { until } from '../support/wait.js';

const modeOf = (path: string) => statSync(path).mode & 0o7777;

/** A data directory as the terminal leaves it: 0700, with a journal and its WAL companions at 0600. */
function dataDir(
  files: Record<string, number> = { 'journal.sqlite': 0o600, 'journal.sqlite-wal': 0o600, 'journal.sqlite-shm': 0o600 },
  dirMode = 0o700,
): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'pos-perm-')), 'data');
  mkdirSync(dir);
  chmodSync(dir, dirMode);
  for (const [name, mode] of Object.entries(files)) {
    writeFileSync(join(dir, name), '');
    chmodSync(join(dir, name), mode);
  }
  return dir;
}

function refusal(dir: string): FilePermissionError {
  try {
    checkDataPermissions(dir, join(dir, 'journal.sqlite'));
  } catch (err) {
    expect(err).toBeInstanceOf(FilePermissionError);
    return err as FilePermissionError;
  }
  throw new Error(`${dir} was accepted`);
}

describe('checkDataPermissions', () => {
  it('accepts a private data directory and journal, with or without the WAL files', () => {
    expect(() => checkDataPermissions(dataDir(), join(dataDir(), 'journal.sqlite'))).not.toThrow();
    const dir = dataDir({ 'journal.sqlite': 0o600 });
    expect(() => checkDataPermissions(dir, join(dir, 'journal.sqlite'))).not.toThrow();
    // Search permission alone lists nothing: a register in the group may still reach a socket inside.
    const searchable = dataDir(undefined, 0o711);
    expect(() => checkDataPermissions(searchable, join(searchable, 'journal.sqlite'))).not.toThrow();
  });

  it.each([
    [0o644, 'readable by group and others (mode 0644)'],
    [0o640, 'readable by group (mode 0640)'],
    [0o606, 'readable and writable by others (mode 0606)'],
    [0o620, 'writable by group (mode 0620)'],
  ])('refuses a journal of mode %s with the path, the mode and the chmod that fixes it', (mode, phrase) => {
    const dir = dataDir({ 'journal.sqlite': mode });
    const journal = join(dir, 'journal.sqlite');
    const err = refusal(dir);
    expect(err.message).toBe(`journal file ${journal} is ${phrase}: chmod 600 ${journal}`);
    expect(err.paths).toEqual([journal]);
  });

  it('refuses loose -wal and -shm files too: they hold the latest commits', () => {
    const dir = dataDir({ 'journal.sqlite': 0o600, 'journal.sqlite-wal': 0o644, 'journal.sqlite-shm': 0o640 });
    const err = refusal(dir);
    expect(err.paths).toEqual([join(dir, 'journal.sqlite-wal'), join(dir, 'journal.sqlite-shm')]);
    expect(err.message).toMatch(/: chmod 600 \S+journal\.sqlite-wal \S+journal\.sqlite-shm$/);
  });

  it('refuses a data directory group or others can list or write, and names every fix on one line', () => {
    const dir = dataDir({ 'journal.sqlite': 0o644 }, 0o755);
    const err = refusal(dir);
    expect(err.message).toBe(
      `data directory ${dir} is readable by group and others (mode 0755); journal file ${join(dir, 'journal.sqlite')} is readable by group and others (mode 0644): ` +
        `chmod 700 ${dir} && chmod 600 ${join(dir, 'journal.sqlite')}`,
    );
    expect(err.message).not.toContain('\n');
    expect(refusal(dataDir(undefined, 0o730)).message).toMatch(/is writable by group \(mode 0730\): chmod 700 /);
  });
});

describe('secureDataDir', () => {
  // It tightens the process umask, as pos-terminal wants; the test process gets its own back.
  const saved = process.umask(0o022);
  process.umask(saved);
  afterEach(() => void process.umask(saved));

  it('creates a missing data directory 0700 and an empty journal 0600, and files made later stay private', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'pos-perm-')), 'var', 'data');
    process.umask(0o022);
    secureDataDir(dir, join(dir, 'journal.sqlite'));
    expect(modeOf(dir)).toBe(0o700);
    expect(modeOf(join(dir, 'journal.sqlite'))).toBe(0o600);
    expect(statSync(join(dir, 'journal.sqlite')).size).toBe(0);
    writeFileSync(join(dir, 'later'), 'x', { mode: 0o644 });
    expect(modeOf(join(dir, 'later'))).toBe(0o600);
  });

  it('leaves an existing journal alone and refuses it when loose', () => {
    const dir = dataDir({ 'journal.sqlite': 0o644 });
    writeFileSync(join(dir, 'journal.sqlite'), 'kept');
    chmodSync(join(dir, 'journal.sqlite'), 0o644);
    expect(() => secureDataDir(dir, join(dir, 'journal.sqlite'))).toThrow(FilePermissionError);
    expect(modeOf(join(dir, 'journal.sqlite'))).toBe(0o644);
  });
});

describe('pos-terminal at start', () => {
  const children: RunningCli[] = [];
  afterAll(async () => {
    for (const c of children) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
    await Promise.all(children.map((c) => c.exited));
  });

  function terminal(dir: string): RunningCli {
    const configPath = join(dir, '..', 'terminal.json');
    writeFileSync(
      configPath,
      JSON.stringify({
        dataDir: dir,
        log: { level: 'warn' },
        host: { address: '127.0.0.1:0', simulator: { embedded: true } },
        ecr: { port: 0, socketPath: null },
        mqtt: { url: 'mqtt://127.0.0.1:0', embeddedBroker: true },
      }),
    );
    const child = startCli('pos-terminal', ['--config', configPath]);
    children.push(child);
    return child;
  }

  async function runsAndStops(dir: string): Promise<void> {
    const t = terminal(dir);
    await until(() => t.stdout().includes('pos-terminal ready') || t.child.exitCode !== null, 'terminal ready', 20_000);
    expect(t.stderr()).toBe('');
    t.child.kill('SIGTERM');
    expect(await t.exited).toBe(0);
  }

  it('creates a fresh data directory private (0700, files 0600) and starts on it again', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'pos-perm-')), 'data');
    await runsAndStops(dir);
    expect(modeOf(dir)).toBe(0o700);
    const files = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((f) => f.isFile());
    expect(files.map((f) => f.name)).toEqual(expect.arrayContaining(['journal.sqlite', 'run-marker', 'saf.key']));
    for (const f of files) expect(`${f.name} ${modeOf(join(f.parentPath, f.name)).toString(8)}`).toBe(`${f.name} 600`);
    await runsAndStops(dir);
  }, 60_000);

  it('refuses to start with exit 78 and one line naming the journal, its mode and the chmod', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'pos-perm-')), 'data');
    await runsAndStops(dir);
    const journal = join(dir, 'journal.sqlite');
    chmodSync(journal, 0o644);
    const t = terminal(dir);
    expect(await t.exited).toBe(78);
    expect(t.stderr()).toBe(
      `pos-terminal: cannot start: journal file ${journal} is readable by group and others (mode 0644): chmod 600 ${journal}\n`,
    );
    expect(t.stdout()).not.toContain('ready');

    chmodSync(journal, 0o600);
    chmodSync(dir, 0o755);
    const again = terminal(dir);
    expect(await again.exited).toBe(78);
    expect(again.stderr()).toBe(
      `pos-terminal: cannot start: data directory ${dir} is readable by group and others (mode 0755): chmod 700 ${dir}\n`,
    );

    // Fixed as the message says, it starts.
    chmodSync(dir, 0o700);
    await runsAndStops(dir);
  }, 60_000);
});
