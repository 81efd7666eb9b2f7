/**
 * Cold start to ready and idle memory of the real process: `pos-terminal` started as a child on the desktop default
 * (mock devices, embedded host simulator and broker, fresh data directory), timed from spawn to its ready line; its
 * resident memory read from /proc after a few seconds idle. Targets: ready within 1 s, idle RSS under 80 MB.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'pos-terminal.js');

function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : 0;
}

async function startOnce(idleMs: number): Promise<{ readyMs: number; idleRssMb: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'pos-start-'));
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({
    dataDir: join(dir, 'data'),
    log: { level: 'warn' },
    host: { address: '127.0.0.1:0' },
    ecr: { port: 0, socketPath: null },
    mqtt: { url: 'mqtt://127.0.0.1:0' },
  }));
  const started = performance.now();
  const child = spawn(process.execPath, [cli, '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
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
    return { readyMs, idleRssMb: rssBytes(child.pid!) / (1024 * 1024) };
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchStartup(runs = 5, idleMs = 3_000) {
  const results = [];
  for (let i = 0; i < runs; i++) results.push(await startOnce(idleMs));
  const ready = results.map((r) => r.readyMs).sort((a, b) => a - b);
  const rss = results.map((r) => r.idleRssMb).sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 10) / 10;
  return {
    name: 'startup (spawn -> ready, idle RSS)',
    runs,
    readyMsMedian: round(ready[Math.floor(runs / 2)]!),
    readyMsMax: round(ready.at(-1)!),
    idleRssMbMedian: round(rss[Math.floor(runs / 2)]!),
    idleRssMbMax: round(rss.at(-1)!),
    target: { readyMs: 1_000, idleRssMb: 80 },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  benchStartup().then((r) => process.stdout.write(`${JSON.stringify(r)}\n`));
}
