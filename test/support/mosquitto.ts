/**
 * A real Mosquitto broker for tests: its own temp config on a free loopback port, anonymous, no persistence (so a
 * restart forgets retained messages and sessions, like a broker that lost its disk). stop()/start() restart it on
 * the same port; kill() is the cleanup. Optional TLS listener with client certificates.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findTool, requireTool } from './tools.js';

export const MOSQUITTO = findTool('mosquitto') ?? 'mosquitto';

export interface MosquittoTls {
  caFile: string;
  certFile: string;
  keyFile: string;
  requireCertificate: boolean;
}

export interface Mosquitto {
  port: number;
  url: string;
  /** Broker output so far (for failure messages). */
  output(): string;
  stop(): Promise<void>;
  start(): Promise<void>;
  kill(): Promise<void>;
  readonly running: boolean;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = netConnect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Polls the port: the broker's own readiness, not a timed behaviour under test. */
async function waitFor(check: () => Promise<boolean>, what: string, limitMs = 5_000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > limitMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export async function startMosquitto(options: { tls?: MosquittoTls } = {}): Promise<Mosquitto> {
  // A missing broker fails here with the install line, not as a spawn ENOENT later.
  const mosquitto = requireTool('mosquitto');
  const dir = mkdtempSync(join(tmpdir(), 'mosquitto-test-'));
  const port = await freePort();
  const lines = [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    'persistence false',
    'log_dest stdout',
    'log_type error',
    'log_type warning',
  ];
  if (options.tls) {
    lines.push(`cafile ${options.tls.caFile}`, `certfile ${options.tls.certFile}`, `keyfile ${options.tls.keyFile}`);
    lines.push(`require_certificate ${options.tls.requireCertificate ? 'true' : 'false'}`);
  }
  const configPath = join(dir, 'mosquitto.conf');
  writeFileSync(configPath, `${lines.join('\n')}\n`);

  let child: ChildProcess | undefined;
  let out = '';
  const exited = new Map<ChildProcess, Promise<void>>();

  const start = async () => {
    if (child) return;
    const proc = spawn(mosquitto, ['-c', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    exited.set(proc, new Promise((resolve) => proc.once('exit', () => resolve())));
    // A restart may find the old socket in TIME_WAIT for a moment; mosquitto sets SO_REUSEADDR, so it just starts.
    await waitFor(async () => {
      if (proc.exitCode !== null) throw new Error(`mosquitto exited (${proc.exitCode}): ${out}`);
      return accepts(port);
    }, `mosquitto on port ${port}`);
  };

  const stopWith = async (signal: NodeJS.Signals) => {
    const proc = child;
    if (!proc) return;
    child = undefined;
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    await exited.get(proc);
    exited.delete(proc);
  };

  try {
    await start();
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    port,
    url: `${options.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${port}`,
    output: () => out,
    start,
    stop: () => stopWith('SIGTERM'),
    async kill() {
      await stopWith('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
    get running() {
      return child !== undefined;
    },
  };
}
