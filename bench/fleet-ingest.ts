/**
 * The fleet consumer's ingest in one process, without a broker: decode + sequence + state + alerts for every
 * delivery, as FleetConsumer.handle does it, at 10,000 and 100,000 terminals. Beside it, in the same run and on the
 * same pre-encoded messages, the bare protobuf decode rate (the floor under any consumer). Time runs on a simulated
 * clock advanced by the message rate the fleet would produce, so the alert engine's periodic checks run (and are
 * paid for) as in service. At the end every terminal's state is checked: each seen, each at its last seq, no gap,
 * no duplicate: exact state.
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { ManualClock } from '../hal/clock.js';
import { AlertEngine, type AlertRule } from '../src/fleet/alerts.js';
import { FleetConsumer } from '../src/fleet/consumer.js';
import { FleetState } from '../src/fleet/state.js';
import { wire } from '../src/telemetry/wire.js';
import { type Delivery, FleetTraffic } from './fleet-traffic.js';

export const INGEST_TARGET_PER_SECOND = 20_000;

/** The rules an operator would run: one of each type. */
export const BENCH_RULES: AlertRule[] = [
  { type: 'event-burst', code: 'E101', moreThan: 5, withinMinutes: 10 },
  { type: 'unreachable', longerThanMinutes: 10 },
  { type: 'saf-age', aboveHours: 2 },
  { type: 'pending-reversals', above: 2, longerThanMinutes: 30 },
];

export interface IngestRunOptions {
  terminals: number;
  /** Steady-stream messages after every terminal's hello. */
  messages: number;
  /** The fleet's message rate the simulated clock follows; default the target. */
  simulatedRatePerSecond?: number;
}

export interface ExactState {
  terminals: number;
  expected: number;
  wrongSeq: number;
  gaps: number;
  duplicates: number;
  exact: boolean;
}

/** Every terminal of `traffic` present in `state` with the seq it last sent and nothing counted missing or twice. */
export function checkExact(state: FleetState, traffic: FleetTraffic, only?: (i: number) => boolean): ExactState {
  let wrongSeq = 0;
  let gaps = 0;
  let duplicates = 0;
  let expected = 0;
  for (let i = 0; i < traffic.terminals; i++) {
    if (only && !only(i)) continue;
    expected++;
    const v = state.terminal(traffic.fleetOf(i), traffic.idOf(i));
    if (v === undefined || v.sequence.lastSeq !== traffic.seqOf(i)) wrongSeq++;
    gaps += v?.sequence.gaps ?? 0;
    duplicates += v?.sequence.duplicates ?? 0;
  }
  const exact = state.size === expected && wrongSeq === 0 && gaps === 0 && duplicates === 0;
  return { terminals: state.size, expected, wrongSeq, gaps, duplicates, exact };
}

/** protobuf decode of each payload by its topic's type: what any consumer must pay at least. */
function rawDecodeRate(deliveries: readonly Delivery[]): number {
  const t0 = performance.now();
  let fields = 0;
  for (const d of deliveries) {
    const type = d.topic.slice(d.topic.lastIndexOf('/') + 1);
    const m =
      type === 'health'
        ? wire.Health.decode(d.payload)
        : type === 'event'
          ? wire.Event.decode(d.payload)
          : type === 'birth'
            ? wire.Birth.decode(d.payload)
            : wire.State.decode(d.payload);
    if (m.header) fields++;
  }
  const seconds = (performance.now() - t0) / 1000;
  if (fields !== deliveries.length) throw new Error('raw decode lost headers');
  return Math.round(deliveries.length / seconds);
}

export async function ingestRun(opts: IngestRunOptions) {
  const traffic = new FleetTraffic({ terminals: opts.terminals });
  const hellos = traffic.hellos();
  const steady = traffic.steady(opts.messages);
  const all = hellos.concat(steady);
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
  const state = new FleetState({ clock });
  let alerts = 0;
  const engine = new AlertEngine({ rules: BENCH_RULES, state, clock, onAlert: () => alerts++ });
  const consumer = new FleetConsumer({ url: 'mqtt://unused.invalid', state, alerts: engine, clock });
  engine.start();
  const rate = opts.simulatedRatePerSecond ?? INGEST_TARGET_PER_SECOND;
  const batch = 1_000;
  const stepMs = (batch / rate) * 1000;
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  let checkMs = 0;
  const t0 = performance.now();
  for (let k = 0; k < all.length; k += batch) {
    const end = Math.min(all.length, k + batch);
    for (let j = k; j < end; j++) {
      const d = all[j] as Delivery;
      consumer.handle(d.topic, d.payload);
    }
    // The periodic checks fall due as simulated time passes; their cost (and the event loop turns) is in the rate.
    const c0 = performance.now();
    await clock.advance(stepMs);
    checkMs += performance.now() - c0;
  }
  const seconds = (performance.now() - t0) / 1000;
  engine.stop();
  const stats = consumer.stats();
  const exact = checkExact(state, traffic);
  gc?.();
  const heapAfter = process.memoryUsage().heapUsed;
  // The reference last, on the same payloads, once the consumer's run has warmed the decoder the same way.
  const rawDecodePerSecond = rawDecodeRate(all);
  const perSecond = Math.round(all.length / seconds);
  return {
    terminals: opts.terminals,
    messages: all.length,
    mix: `State + Birth per terminal, then ${opts.messages} Health and anomaly Events (1 in 5), round robin`,
    rules: BENCH_RULES.length,
    messagesPerSecond: perSecond,
    clockAdvanceMs: Math.round(checkMs),
    simulatedSeconds: Math.round((all.length / rate) * 10) / 10,
    alertsRaised: alerts,
    decoded: stats.decoded,
    rejected: stats.rejected,
    handlerErrors: stats.handlerErrors,
    exactState: exact,
    heapBytesPerTerminal: gc ? Math.round((heapAfter - heapBefore) / opts.terminals) : null,
    reference: {
      rawProtobufDecodePerSecond: rawDecodePerSecond,
      shareOfRawDecode: round2(perSecond / rawDecodePerSecond),
    },
  };
}

const round2 = (n: number) => Math.round(n * 100) / 100;

export interface FleetIngestBenchOptions {
  sizes?: Array<{ terminals: number; messages: number }>;
}

export async function benchFleetIngest(options: FleetIngestBenchOptions = {}) {
  const sizes = options.sizes ?? [
    { terminals: 10_000, messages: 200_000 },
    { terminals: 100_000, messages: 300_000 },
  ];
  // A small run first, not reported: the first run of a process otherwise pays for compiling the hot path.
  await ingestRun({ terminals: 1_000, messages: 20_000 });
  const runs = [];
  for (const size of sizes) runs.push(await ingestRun(size));
  const largest = runs[runs.length - 1];
  return {
    name: 'fleet-ingest (decode + sequence + state + alerts, one process, no broker)',
    runs,
    target: { messagesPerSecond: INGEST_TARGET_PER_SECOND, terminals: largest?.terminals ?? 0 },
    verdict: {
      rate: largest !== undefined && largest.messagesPerSecond >= INGEST_TARGET_PER_SECOND ? 'met' : 'NOT met',
      exactState: runs.every((r) => r.exactState.exact) ? 'met' : 'NOT met',
    },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  benchFleetIngest().then((r) => process.stdout.write(`${JSON.stringify(r, null, 2)}\n`));
}
