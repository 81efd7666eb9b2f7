/**
 * A real PostgreSQL server for tests, from Debian's package (/usr/lib/postgresql/<version>/bin): a throw-away data
 * directory, a free loopback port, the socket in the same temp directory, trust authentication on loopback only.
 * PostgreSQL refuses to run as root, so as root the data directory is given to the `postgres` user and initdb and
 * the server run through runuser. Durability is switched off (fsync, synchronous commit): a test server.
 * halt()/start() take it down and back with its data (an outage); stop() ends it and removes the directory.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './mosquitto.js';

export interface Postgres {
  port: number;
  /** postgres://postgres@127.0.0.1:<port>/<database> */
  url(database?: string): string;
  /** A new empty database; returns its URL. */
  createDatabase(name: string): Promise<string>;
  output(): string;
  /** Ends the server but keeps its data, as an outage would; start() brings it back on the same port. */
  halt(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** The newest installed server's bin directory (POSTGRES_BIN wins), or undefined. */
export function postgresBinDir(): string | undefined {
  const fromEnv = process.env['POSTGRES_BIN'];
  if (fromEnv !== undefined && existsSync(join(fromEnv, 'postgres'))) return fromEnv;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')) && existsSync(join(root, v, 'bin', 'postgres')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], 'bin');
}

/** Why PostgreSQL tests cannot run here, or undefined when they can. */
export function postgresMissing(): string | undefined {
  return postgresBinDir() === undefined
    ? 'PostgreSQL server binaries not found (apt-get install -y postgresql, or set POSTGRES_BIN)'
    : undefined;
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** util-linux's runuser lives in sbin, which a CI job's PATH may leave out. */
const RUNUSER = ['/usr/sbin/runuser', '/sbin/runuser', '/usr/bin/runuser'].find((p) => existsSync(p)) ?? 'runuser';

function asServerUser(bin: string, args: string[]): [string, string[]] {
  return isRoot ? [RUNUSER, ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
}

/** Polls until the server accepts a connection: its own readiness, not a behaviour under test. */
async function waitReady(url: string, proc: ChildProcess, out: () => string, limitMs = 30_000): Promise<void> {
  const started = Date.now();
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`postgres exited (${proc.exitCode}): ${out()}`);
    const client = new pg.Client({ connectionString: url });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.end();
      return;
    } catch {
      await client.end().catch(() => undefined);
    }
    if (Date.now() - started > limitMs)
      throw new Error(`postgres did not accept connections within ${limitMs} ms: ${out()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function startPostgres(): Promise<Postgres> {
  const bin = postgresBinDir();
  if (bin === undefined) throw new Error(postgresMissing());
  const dir = mkdtempSync(join(tmpdir(), 'pg-test-'));
  const data = join(dir, 'data');
  if (isRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
  }
  let out = '';
  const [initCmd, initArgs] = asServerUser(join(bin, 'initdb'), [
    '-D',
    data,
    '-U',
    'postgres',
    '-A',
    'trust',
    '-E',
    'UTF8',
    '--locale=C',
    '--no-sync',
  ]);
  try {
    execFileSync(initCmd, initArgs, { stdio: 'pipe' });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    const e = err as { stderr?: Buffer; message: string };
    throw new Error(`initdb failed: ${e.stderr?.toString() ?? e.message}`);
  }
  const port = await freePort();
  const [cmd, args] = asServerUser(join(bin, 'postgres'), [
    '-D',
    data,
    '-p',
    String(port),
    '-k',
    dir,
    '-h',
    '127.0.0.1',
    '-c',
    'fsync=off',
    '-c',
    'synchronous_commit=off',
    '-c',
    'full_page_writes=off',
    '-c',
    'max_connections=60',
  ]);
  let proc: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const url = (database = 'postgres'): string => `postgres://postgres@127.0.0.1:${port}/${database}`;

  const start = async (): Promise<void> => {
    if (proc !== undefined) return;
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    proc = child;
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    await waitReady(url(), child, () => out);
  };

  const halt = async (): Promise<void> => {
    const child = proc;
    if (child === undefined) return;
    proc = undefined;
    if (child.exitCode === null && child.signalCode === null) {
      // Signal the postmaster itself (runuser may not pass signals on); SIGINT is PostgreSQL's fast shutdown.
      const pidFile = join(data, 'postmaster.pid');
      const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').split('\n')[0]) : Number.NaN;
      if (Number.isInteger(pid) && pid > 0) {
        try {
          process.kill(pid, 'SIGINT');
        } catch {
          child.kill('SIGINT');
        }
      } else child.kill('SIGINT');
      await exited;
    }
  };

  const stop = async (): Promise<void> => {
    await halt();
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    await start();
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    port,
    url,
    output: () => out,
    halt,
    start,
    async createDatabase(name: string) {
      if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`not a plain database name: ${name}`);
      const client = new pg.Client({ connectionString: url() });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return url(name);
    },
    stop,
  };
}
