/**
 * Cold start to ready and idle memory of the real process: `pos-terminal` started as a child on the desktop default
 * (mock devices, embedded host simulator and broker, fresh data directory), timed from spawn to its ready line; its
 * resident memory read from /proc after a few seconds idle. Targets: ready within 1 s, idle RSS under 80 MB.
 *
 * Each start is measured twice over, interleaved: with the NODE_OPTIONS that config/pos-terminal.service gives the
 * deployed terminal (the headline figures), and as plain `node` (`npm start`), so what the options buy is visible.
 * Nothing is injected into the measured process (no preload, no --expose-gc): V8's own idle GC may later give back
 * more than the figure shows, so the few-seconds reading is the conservative one.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const cli = join(here, '..', 'src', 'cli', 'pos-terminal.js');
// Run from dist/bench (compiled) or bench/ (sources): the unit file is in the package's config/.
const serviceFile = [
  join(here, '..', '..', 'config', 'pos-terminal.service'),
  join(here, '..', 'config', 'pos-terminal.service'),
].find((p) => existsSync(p));

/** The NODE_OPTIONS the systemd unit sets, so the bench measures the process as it is deployed. */
export function serviceNodeOptions(unitText = serviceFile ? readFileSync(serviceFile, 'utf8') : ''): string {
  const match = /^Environment="?NODE_OPTIONS=([^"\n]*)"?\s*$/m.exec(unitText);
  return match?.[1]?.trim() ?? '';
}

interface Sample {
  readyMs: number;
  rssMb: number;
  /** Anonymous memory: the V8 heap and native allocations. */
  anonMb: number;
  /** File-backed pages: the node binary and shared libraries as far as they were touched. */
  fileMb: number;
}

function memory(pid: number): Omit<Sample, 'readyMs'> {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
  return { rssMb: kb('VmRSS') / 1024, anonMb: kb('RssAnon') / 1024, fileMb: kb('RssFile') / 1024 };
}

async function startOnce(idleMs: number, nodeOptions: string): Promise<Sample> {
  const dir = mkdtempSync(join(tmpdir(), 'pos-start-'));
  const config = join(dir, 'config.json');
  writeFileSync(
    config,
    JSON.stringify({
      dataDir: join(dir, 'data'),
      log: { level: 'warn' },
      host: { address: '127.0.0.1:0' },
      ecr: { port: 0, socketPath: null },
      mqtt: { url: 'mqtt://127.0.0.1:0' },
    }),
  );
  // Set or cleared explicitly: options inherited from whoever runs the bench must not leak into the figure.
  const env = { ...process.env };
  delete env['NODE_OPTIONS'];
  if (nodeOptions) env['NODE_OPTIONS'] = nodeOptions;
  const started = performance.now();
  // The node process itself (no shell in between), so /proc/<pid> is the terminal's own memory.
  const child = spawn(process.execPath, [cli, '--config', config], { stdio: ['ignore', 'pipe', 'ignore'], env });
  try {
    const readyMs = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('pos-terminal ready')) resolve(performance.now() - started);
      });
      child.once('exit', (code) => reject(new Error(`pos-terminal exited with ${code} before ready`)));
    });
    await new Promise((resolve) => setTimeout(resolve, idleMs));
    return { readyMs, ...memory(child.pid!) };
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

const round = (n: number) => Math.round(n * 10) / 10;
const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
const median = (values: number[]) => sorted(values)[Math.floor(values.length / 2)]!;
const max = (values: number[]) => sorted(values).at(-1)!;

function summary(samples: Sample[]) {
  return {
    readyMsMedian: round(median(samples.map((s) => s.readyMs))),
    readyMsMax: round(max(samples.map((s) => s.readyMs))),
    idleRssMbMedian: round(median(samples.map((s) => s.rssMb))),
    idleRssMbMax: round(max(samples.map((s) => s.rssMb))),
    idleRssAnonMbMedian: round(median(samples.map((s) => s.anonMb))),
    idleRssFileMbMedian: round(median(samples.map((s) => s.fileMb))),
  };
}

export async function benchStartup(runs = 5, idleMs = 3_000) {
  const nodeOptions = serviceNodeOptions();
  const service: Sample[] = [];
  const plain: Sample[] = [];
  // Interleaved, so a busy moment on the machine lands on both variants alike.
  for (let i = 0; i < runs; i++) {
    service.push(await startOnce(idleMs, nodeOptions));
    if (nodeOptions) plain.push(await startOnce(idleMs, ''));
  }
  const { readyMsMedian, readyMsMax, idleRssMbMedian, idleRssMbMax, ...split } = summary(service);
  return {
    name: 'startup (spawn -> ready, idle RSS)',
    runs,
    idleMs,
    readyMsMedian,
    readyMsMax,
    idleRssMbMedian,
    idleRssMbMax,
    ...split,
    // What the figures above ran with (pos-terminal.service's NODE_OPTIONS), and the same starts without them.
    nodeOptions,
    ...(nodeOptions ? { plainNode: summary(plain) } : {}),
    target: { readyMs: 1_000, idleRssMb: 80 },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  benchStartup().then((r) => process.stdout.write(`${JSON.stringify(r)}\n`));
}
