/**
 * A real Mosquitto for the fleet benchmarks: started on a free loopback port with the configuration lines given
 * (defaults otherwise, as a package installs it), its CPU time read from /proc, stopped and cleaned up after.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, connect as netConnect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface BenchBroker {
  url: string;
  pid: number;
  version: string;
  /** User + system CPU time the broker has used so far, in ms. */
  cpuMs(): number;
  stop(): Promise<void>;
}

export function mosquittoPath(): string | null {
  const env = process.env['MOSQUITTO'];
  if (env) return env;
  for (const p of ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto'])
    if (existsSync(p)) return p;
  return null;
}

export function mosquittoVersion(binary: string): string {
  try {
    const out = execFileSync(binary, ['-h'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return /mosquitto version (\S+)/.exec(out)?.[1] ?? 'unknown';
  } catch (err) {
    // `mosquitto -h` exits 3 after printing its usage.
    const out = String((err as { stdout?: unknown }).stdout ?? '');
    return /mosquitto version (\S+)/.exec(out)?.[1] ?? 'unknown';
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = netConnect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Clock ticks of /proc/<pid>/stat (utime + stime) as ms; USER_HZ is 100 on every Linux we run on. */
function procCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

export async function startBenchMosquitto(configLines: readonly string[] = []): Promise<BenchBroker> {
  const binary = mosquittoPath();
  if (binary === null) throw new Error('mosquitto is not installed (apt-get install mosquitto, or set MOSQUITTO)');
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'pos-bench-mosquitto-'));
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', ...configLines, ''].join('\n'),
  );
  const child: ChildProcess = spawn(binary, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const started = Date.now();
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() - started > 10_000) {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`mosquitto did not start: ${stderr.trim() || 'no output'}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const pid = child.pid as number;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    pid,
    version: mosquittoVersion(binary),
    cpuMs: () => procCpuMs(pid),
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The share of the last 10 s in which some runnable task waited for a CPU (Linux pressure stall information), in
 * percent; null where the kernel does not offer it. High figures mean the run competed with other processes.
 */
export function cpuPressure(): number | null {
  try {
    const some = /some avg10=([\d.]+)/.exec(readFileSync('/proc/pressure/cpu', 'utf8'));
    return some ? Number(some[1]) : null;
  } catch {
    return null;
  }
}
