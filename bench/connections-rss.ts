/**
 * Resident memory of the real `pos-terminal` process holding 3,000 open register connections: first idle (ready, one
 * `status` answered), then with 3,000 NDJSON connections open, then (those closed) with 3,000 nexo connections open
 * (TLS handshake done, no request), each beside the same process's idle figure of the same run. The terminal runs as
 * a child with the deployed NODE_OPTIONS; the connections are held by this process, so their client side is not in
 * the figure. Loopback only, bounded loops (connections opened in batches), and `status` is asked with the crowd in.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { EcrClient } from '../src/ecr/client.js';
import { serviceNodeOptions } from './startup.js';

const here = dirname(fileURLToPath(import.meta.url));
const cli = join(here, '..', 'src', 'cli', 'pos-terminal.js');
const BATCH = 100;

export interface CrowdFigures {
  connections: number;
  rssMb: number;
  /** Over the idle figure of the same process. */
  deltaMb: number;
  perConnectionKb: number;
  /** `status` asked on a register's own connection while the crowd is held open. */
  statusMs: number;
  /** After the crowd is closed again, a few seconds later. */
  afterCloseRssMb: number;
}

export interface ConnectionsRssBenchResult {
  name: string;
  idleRssMb: number;
  ndjson: CrowdFigures;
  nexo: CrowdFigures;
}

const round = (n: number) => Number(n.toFixed(1));

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen({ host: '127.0.0.1', port: 0 }, () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

function openNdjson(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

function openNexo(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
    socket.once('secureConnect', () => resolve(socket));
    socket.once('error', reject);
  });
}

async function crowd(
  count: number,
  open: () => Promise<net.Socket>,
  pid: number,
  idle: number,
  client: EcrClient,
  settleMs: number,
): Promise<CrowdFigures> {
  const sockets: net.Socket[] = [];
  try {
    for (let i = 0; i < count; i += BATCH) {
      const batch = await Promise.all(Array.from({ length: Math.min(BATCH, count - i) }, () => open()));
      sockets.push(...batch);
    }
    await pause(settleMs);
    const asked = performance.now();
    const status = await client.call({ cmd: 'status' });
    const statusMs = performance.now() - asked;
    if (status.type !== 'status') throw new Error(`bench: status answered ${status.type}`);
    const held = sockets.filter((s) => !s.destroyed).length;
    if (held !== count) throw new Error(`bench: ${count - held} of ${count} connections were closed while held`);
    const rss = rssMb(pid);
    for (const s of sockets) s.destroy();
    await pause(settleMs);
    return {
      connections: count,
      rssMb: round(rss),
      deltaMb: round(rss - idle),
      perConnectionKb: round(((rss - idle) * 1024) / count),
      statusMs: Number(statusMs.toFixed(2)),
      afterCloseRssMb: round(rssMb(pid)),
    };
  } finally {
    for (const s of sockets) s.destroy();
  }
}

export async function benchConnectionsRss(count = 3_000, settleMs = 3_000): Promise<ConnectionsRssBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'pos-bench-conns-'));
  const configPath = join(dir, 'terminal.json');
  const nexoPort = await freePort();
  writeFileSync(
    configPath,
    JSON.stringify({
      dataDir: join(dir, 'data'),
      log: { level: 'warn' },
      host: { address: '127.0.0.1:0' },
      // Room for the crowd, and no idle close while it is held: what is measured is the cost of holding them.
      ecr: {
        port: 0,
        socketPath: null,
        maxConnections: count + 16,
        idleTimeoutMs: 600_000,
        nexo: {
          enabled: true,
          host: '127.0.0.1',
          port: nexoPort,
          allowPlain: true,
          maxConnections: count + 16,
          idleTimeoutMs: 600_000,
        },
      },
      mqtt: { url: 'mqtt://127.0.0.1:0' },
    }),
  );
  const nodeOptions = serviceNodeOptions();
  const child = spawn(process.execPath, [cli, '--config', configPath], {
    env: { ...process.env, NODE_OPTIONS: nodeOptions },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', () => {});
  let client: EcrClient | undefined;
  try {
    const started = performance.now();
    while (!/ECR on 127\.0\.0\.1:\d+/.test(out)) {
      if (child.exitCode !== null) throw new Error(`bench: pos-terminal exited ${child.exitCode}`);
      if (performance.now() - started > 30_000) throw new Error('bench: pos-terminal not ready in 30 s');
      await pause(20);
    }
    const ecrPort = Number(/ECR on 127\.0\.0\.1:(\d+)/.exec(out)![1]);
    client = await EcrClient.connect({ port: ecrPort });
    await client.call({ cmd: 'status' });
    await pause(settleMs);
    const pid = child.pid!;
    const idle = rssMb(pid);
    const ndjson = await crowd(count, () => openNdjson(ecrPort), pid, idle, client, settleMs);
    const nexo = await crowd(count, () => openNexo(nexoPort), pid, idle, client, settleMs);
    return {
      name: `connections-rss (${count} open connections, NDJSON then nexo, beside idle)`,
      idleRssMb: round(idle),
      ndjson,
      nexo,
    };
  } finally {
    await client?.close();
    child.kill('SIGTERM');
    await new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.once('exit', resolve)));
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  benchConnectionsRss().then((r) => process.stdout.write(`${JSON.stringify(r)}\n`));
}
