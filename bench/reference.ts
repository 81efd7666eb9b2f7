/**
 * Reference figures measured on the same machine in the same run, for the report to set the terminal's figures
 * against: a plain TCP echo on loopback (what the host link adds to it is ours), and a bare Node process started and
 * left idle (what `pos-terminal` adds to Node's own start and memory is ours). The disk's raw fsync rate is measured
 * by the durability benchmark on the disk the journals use and is not measured twice. EMV's contactless budget is
 * a constant, kept here so every reference sits in results.json.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { median, percentile } from './stats.js';

export interface ReferenceBenchOptions {
  /** Time spent on loopback round trips after the warm-up. */
  loopbackMs?: number;
  /** Bare Node processes started. */
  nodeRuns?: number;
  /** How long each bare process idles before its memory is read. */
  nodeIdleMs?: number;
}

export interface ReferenceBenchResult {
  name: 'reference';
  loopback: { payloadBytes: number; roundTrips: number; roundTripsPerSecond: number; p50Ms: number; p99Ms: number };
  bareNode: { runs: number; idleMs: number; readyMsMedian: number; idleRssMbMedian: number };
  /** EMV contactless: a whole tap (card in the field to outcome) within 500 ms. A budget, not a measurement. */
  emvTapBudgetMs: number;
}

const PAYLOAD_BYTES = 64;
const round = (n: number, digits: number) => Number(n.toFixed(digits));

/** Sends `payload` and resolves when as many bytes have come back. */
function echoOnce(socket: Socket, payload: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    let got = 0;
    const onData = (chunk: Buffer) => {
      got += chunk.length;
      if (got < payload.length) return;
      socket.off('data', onData);
      socket.off('error', reject);
      resolve();
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write(payload);
  });
}

/**
 * Sequential ping-pong with a plain echo server. Both ends share this process's event loop, as the host link and
 * the simulator do in the host-link benchmark, and Nagle is off on both, as on the host link.
 */
async function loopbackRoundTrip(durationMs: number): Promise<ReferenceBenchResult['loopback']> {
  const server = createServer((socket) => {
    socket.setNoDelay(true);
    socket.on('data', (chunk) => socket.write(chunk));
    socket.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const socket = createConnection({ host: '127.0.0.1', port });
  socket.setNoDelay(true);
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    });
    const payload = Buffer.alloc(PAYLOAD_BYTES, 0x5a);
    for (let i = 0; i < 200; i++) await echoOnce(socket, payload); // warm-up
    const latencies: number[] = [];
    const start = performance.now();
    while (performance.now() - start < durationMs) {
      const t0 = performance.now();
      await echoOnce(socket, payload);
      latencies.push(performance.now() - t0);
    }
    const seconds = (performance.now() - start) / 1_000;
    latencies.sort((a, b) => a - b);
    return {
      payloadBytes: PAYLOAD_BYTES,
      roundTrips: latencies.length,
      roundTripsPerSecond: Math.round(latencies.length / seconds),
      p50Ms: round(percentile(latencies, 50), 3),
      p99Ms: round(percentile(latencies, 99), 3),
    };
  } finally {
    socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
}

function rssMb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : 0;
}

/** A bare Node process timed from spawn to its first line, as startup.ts times `pos-terminal`, then left idle. */
async function bareNodeOnce(idleMs: number): Promise<{ readyMs: number; idleRssMb: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, ['-e', "console.log('ready'); setInterval(() => {}, 60_000);"], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  try {
    const readyMs = await new Promise<number>((resolve, reject) => {
      child.stdout.once('data', () => resolve(performance.now() - started));
      child.once('exit', (code) => reject(new Error(`bare node exited with ${code} before its first line`)));
    });
    await new Promise((resolve) => setTimeout(resolve, idleMs));
    return { readyMs, idleRssMb: rssMb(child.pid!) };
  } finally {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  }
}

export async function benchReference(options: ReferenceBenchOptions = {}): Promise<ReferenceBenchResult> {
  const loopback = await loopbackRoundTrip(options.loopbackMs ?? 1_000);
  const runs = options.nodeRuns ?? 3;
  // As long as startup.ts leaves pos-terminal idle, so the two RSS figures compare.
  const idleMs = options.nodeIdleMs ?? 3_000;
  const bare = [];
  for (let i = 0; i < runs; i++) bare.push(await bareNodeOnce(idleMs));
  return {
    name: 'reference',
    loopback,
    bareNode: {
      runs,
      idleMs,
      readyMsMedian: round(median(bare.map((b) => b.readyMs)), 1),
      idleRssMbMedian: round(median(bare.map((b) => b.idleRssMb)), 1),
    },
    emvTapBudgetMs: 500,
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  benchReference().then((r) => process.stdout.write(`${JSON.stringify(r)}\n`));
}
