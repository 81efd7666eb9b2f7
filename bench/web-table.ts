/**
 * The dashboard's fleet table at 100,000 terminals: response time of /api/terminals over HTTP on loopback for the
 * queries an operator makes (first page, a deep page, by status, by fleet, free text, all three together, and the
 * first page while 500 terminals report between requests), beside two references measured in the same run: the
 * same HTTP server answering a fixed page of the same size (what fastify and the socket cost), and one full scan of
 * the state per request (FleetState.terminals() sorted, filtered, sliced: what the index saves). Bounded: a fixed
 * number of requests per query.
 */
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import Fastify from 'fastify';
import { ManualClock } from '../hal/clock.js';
import type { BirthMessage, HealthMessage } from '../src/fleet/messages.js';
import { FleetState } from '../src/fleet/state.js';
import { CommandAudit } from '../src/fleet/web/command-audit.js';
import { FleetIndex } from '../src/fleet/web/fleet-index.js';
import { MemoryAlertBook } from '../src/fleet/web/memory-alert-book.js';
import { buildDashboard } from '../src/fleet/web/server.js';
import { ms3, spread, type Spread } from './stats.js';

export interface WebTableBenchOptions {
  terminals?: number;
  fleets?: number;
  requestsPerQuery?: number;
}

const T0 = Date.UTC(2026, 0, 1, 12);
const STATES = ['ready', 'ready', 'ready', 'ready', 'ready', 'ready', 'ready', 'degraded', 'locked', 'ready'] as const;

function birth(fleet: string, terminalId: string, i: number): BirthMessage {
  return {
    type: 'birth',
    topic: `pos/v1/${fleet}/${terminalId}/birth`,
    fleet,
    terminalId,
    header: { terminalId, fleet, bootId: `boot-${i}`, seq: 1, sentAtMs: T0 },
    firmwareVersion: `1.4.${i % 5}`,
    configVersion: 'cfg-7',
    capabilities: ['chip', 'contactless'],
    bootReason: 'clean',
    bootedAtMs: T0,
    model: 'PX-900',
    session: 1,
    healthIntervalMs: 60_000,
  };
}

function health(fleet: string, terminalId: string, i: number, seq: number): HealthMessage {
  const state = STATES[i % STATES.length] ?? 'ready';
  return {
    type: 'health',
    historical: false,
    fleetConsumersOnline: 0,
    topic: `pos/v1/${fleet}/${terminalId}/health`,
    fleet,
    terminalId,
    header: { terminalId, fleet, bootId: `boot-${i}`, seq, sentAtMs: T0 },
    state,
    limitations: state === 'degraded' ? ['paper near end'] : [],
    lockReasons: state === 'locked' ? ['tamper switch open'] : [],
    components: [],
    pendingReversals: i % 13 === 0 ? 1 : 0,
    storeAndForward: { depth: i % 7, totalMinor: 0, oldestAgeMs: 0 },
    outcomes: [],
    anomalies: [],
    link: { hostUp: true, networkUp: true, interface: 'eth0', signalDbm: 0, signalPercent: 0, hostRttMs: 40 },
    resources: null,
    telemetryDropped: 0,
    eventsDropped: 0,
    outboxDepth: i % 4,
  };
}

async function timeRequests(url: string, n: number, between?: () => void): Promise<Spread & { bytes: number }> {
  const samples: number[] = [];
  let bytes = 0;
  for (let i = 0; i < n + 5; i++) {
    between?.();
    const started = performance.now();
    const res = await fetch(url);
    const body = await res.text();
    if (!res.ok) throw new Error(`${url}: HTTP ${res.status} ${body.slice(0, 200)}`);
    // The first few warm the route and the connection up.
    if (i >= 5) samples.push(performance.now() - started);
    bytes = body.length;
  }
  return { ...spread(samples), bytes };
}

export async function benchWebTable(options: WebTableBenchOptions = {}) {
  const terminals = options.terminals ?? 100_000;
  const fleets = options.fleets ?? 100;
  const n = options.requestsPerQuery ?? 100;
  const clock = new ManualClock(T0);
  const state = new FleetState({ clock });
  const ids: { fleet: string; terminalId: string; i: number }[] = [];
  const buildStarted = performance.now();
  for (let i = 0; i < terminals; i++) {
    const fleet = `shop-${String(i % fleets).padStart(3, '0')}`;
    const terminalId = `TERM${String(i).padStart(6, '0')}`;
    ids.push({ fleet, terminalId, i });
    state.ingest(birth(fleet, terminalId, i));
    state.ingest(health(fleet, terminalId, i, 2));
  }
  const buildMs = performance.now() - buildStarted;
  const index = new FleetIndex({ state, clock });
  // Every row computed once (the index takes a bounded number per refresh), before any request is timed.
  const refreshStarted = performance.now();
  while (index.pending > 0) index.refresh();
  const indexBuildMs = performance.now() - refreshStarted;

  const audit = new CommandAudit(':memory:');
  const { app } = await buildDashboard({
    clock,
    state,
    index,
    alerts: new MemoryAlertBook(clock),
    audit,
    send: () => Promise.reject(new Error('no commands in this benchmark')),
    operator: 'bench',
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/api/terminals`;

  let seq = 3;
  let cursor = 0;
  const reportBetween = () => {
    for (let k = 0; k < 500; k++) {
      const t = ids[cursor++ % ids.length];
      if (!t) continue;
      state.ingest(health(t.fleet, t.terminalId, t.i, seq));
      index.touch(t.fleet, t.terminalId);
    }
    seq++;
  };
  const queries: Record<string, string> = {
    firstPage: '',
    deepPage: `?page=${Math.floor(terminals / 50 / 2)}`,
    byStatus: '?status=locked&page=3',
    byFleet: '?fleet=shop-042',
    freeText: '?q=TERM0123',
    allThree: '?fleet=shop-042&status=degraded&q=1.4.2',
  };
  const cases: Record<string, Spread & { bytes: number }> = {};
  try {
    for (const [name, query] of Object.entries(queries)) cases[name] = await timeRequests(`${base}${query}`, n);
    cases['firstPageWhile500Report'] = await timeRequests(base, n, reportBetween);

    // References on the same machine and run.
    const page = await (await fetch(base)).text();
    const bare = Fastify({ logger: false });
    bare.get('/page', async (_req, reply) => reply.type('application/json').send(page));
    await bare.listen({ host: '127.0.0.1', port: 0 });
    const bareHttp = await timeRequests(`http://127.0.0.1:${(bare.server.address() as AddressInfo).port}/page`, n);
    await bare.close();
    const scans: number[] = [];
    for (let k = 0; k < 5; k++) {
      const started = performance.now();
      const rows = state
        .terminals()
        .filter((v) => v.status === 'locked')
        .slice(100, 150);
      if (rows.length === 0) throw new Error('the scan found no locked terminal');
      scans.push(performance.now() - started);
    }
    return {
      name: 'web-table' as const,
      terminals,
      fleets,
      requestsPerQuery: n,
      buildMs: ms3(buildMs),
      indexBuildMs: ms3(indexBuildMs),
      cases,
      reference: { bareHttp, fullScanPerRequest: spread(scans) },
    };
  } finally {
    await app.close();
    audit.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  benchWebTable().then((r) => process.stdout.write(`${JSON.stringify(r, null, 2)}\n`));
}
