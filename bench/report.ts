/**
 * The benchmark report: one table, each figure beside its target and a physical or peer reference, with met / NOT met
 * computed from the numbers in bench/results.json. Writes bench/RESULTS.md and the README's table (between its
 * marker comments). `npm run bench` calls it after the run; `node dist/bench/report.js [results.json]` regenerates
 * both from an existing results file without running anything.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface BenchRecord {
  name: string;
  /** Set by run.ts when the benchmark threw: it ran, but measured nothing. */
  error?: string;
  [field: string]: unknown;
}

export interface ResultsFile {
  at: string;
  /** load: the 1-minute load average when the run started and ended; figures from a busy machine say so. */
  machine: { node: string; cpus: number; cpuModel: string; platform: string; load?: { start: number; end: number } };
  results: BenchRecord[];
}

export const README_START = '<!-- bench-table:start -->';
export const README_END = '<!-- bench-table:end -->';

/** bench/ in the source tree, also when running from dist/bench: results sit beside the code that made them. */
export function benchSourceDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return here.includes(join('dist', 'bench')) ? join(here, '..', '..', 'bench') : here;
}

/**
 * A benchmark's id is its name up to the first space or parenthesis ('terminal-sale (ECR in -> result out)' is
 * 'terminal-sale'), so a name can say more without breaking the rows that read it.
 */
export const benchId = (name: string) => name.split(/[\s(]/)[0] ?? name;

// ---- formatting ----

/** Thousands separated by commas, whatever the machine's locale, so the README renders the same everywhere. */
export function int(n: number): string {
  const s = String(Math.round(Math.abs(n))).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return n < 0 && Math.round(Math.abs(n)) !== 0 ? `-${s}` : s;
}

/** Milliseconds with the precision their size deserves; a second or more in seconds. */
export function ms(n: number): string {
  if (n >= 1_000) return `${Number((n / 1_000).toFixed(2))} s`;
  if (n >= 100) return `${int(n)} ms`;
  return `${Number(n.toFixed(n >= 10 ? 1 : n >= 1 ? 2 : 3))} ms`;
}

export const rate = (n: number, unit = '') => `${int(n)}${unit ? ` ${unit}` : ''} / s`;
export const mb = (n: number) => `${Number(n.toFixed(1))} MB`;
export const signedMb = (n: number) => `${n < 0 ? '−' : '+'}${mb(Math.abs(n))}`;
export const bytes = (n: number) => `${int(n)} B`;
export const ratio = (n: number) => n.toFixed(2);
/** A share as a percentage with two significant digits (1.2%, 0.0012%). */
export const percent = (share: number) => `${Number((share * 100).toPrecision(2))}%`;

// ---- reading results ----

/** A figure a row needs is not in the results: the benchmark did not run, failed, or does not report that field. */
class Missing extends Error {
  constructor(
    readonly bench: string,
    readonly state: 'not run' | 'failed' | 'not measured',
  ) {
    super(`${bench}: ${state}`);
  }
}

export class Figures {
  private readonly byId = new Map<string, BenchRecord>();

  constructor(results: readonly BenchRecord[]) {
    // The last of a name wins, should a run ever repeat one.
    for (const r of results) this.byId.set(benchId(r.name), r);
  }

  /** The value at a dotted path of a benchmark's result; throws Missing when it is not a finite number. */
  n(bench: string, path: string): number {
    const value = this.value(bench, path);
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new Missing(bench, 'not measured');
    return value;
  }

  /** Like n(), for values that are not numbers. */
  value(bench: string, path: string): unknown {
    const record = this.byId.get(bench);
    if (record === undefined) throw new Missing(bench, 'not run');
    if (record.error !== undefined) throw new Missing(bench, 'failed');
    let at: unknown = record;
    for (const key of path.split('.'))
      at = at !== null && typeof at === 'object' ? (at as Record<string, unknown>)[key] : undefined;
    if (at === undefined) throw new Missing(bench, 'not measured');
    return at;
  }

  /** The value when present, else undefined: for what only qualifies a figure. */
  maybe(bench: string, path: string): unknown {
    try {
      return this.value(bench, path);
    } catch (e) {
      if (e instanceof Missing) return undefined;
      throw e;
    }
  }

  /** A number when present; `fallback` otherwise (a target the benchmark does not state itself). */
  or(bench: string, path: string, fallback: number): number {
    try {
      return this.n(bench, path);
    } catch (e) {
      if (e instanceof Missing) return fallback;
      throw e;
    }
  }
}

// ---- the table ----

type Op = '<' | '≤' | '≥';

interface TargetSpec {
  /** The figure compared (a path, or read by a function), and the benchmark it comes from. */
  bench: string;
  value: string | ((f: Figures) => number);
  op: Op;
  /** The limit: from the benchmark's own result when it states one (path), else the fallback. */
  limit: { path?: string; fallback: number };
  format: (n: number) => string;
  /** How the target reads, given the formatted limit; `op limit` when absent. */
  text?: (limit: string) => string;
  /** Further conditions of the target (nothing lost...), each met or not from the results. */
  also?: Array<{ text: string; ok: (f: Figures) => boolean }>;
}

export interface RowSpec {
  measured: string;
  figure: (f: Figures) => string;
  target?: TargetSpec;
  reference?: (f: Figures) => string;
}

const compare = (value: number, op: Op, limit: number) =>
  op === '<' ? value < limit : op === '≤' ? value <= limit : value >= limit;

/** One fsync of `bench`'s raw rate at `path`, in ms. */
const fsyncMs = (f: Figures, bench: string, path: string) => ms(1_000 / f.n(bench, path));

/** Where the raw fsync rate was measured, e.g. '/tmp (ext4)'. */
function diskName(f: Figures): string {
  try {
    return `${String(f.value('durability', 'disk.dir'))} (${String(f.value('durability', 'disk.fsType'))})`;
  } catch (e) {
    if (e instanceof Missing) return 'the journal disk';
    throw e;
  }
}

/** Places the soak found card data in clear. */
function soakLeaks(f: Figures): number {
  const leaks = f.value('soak', 'leaks');
  if (!Array.isArray(leaks)) throw new Missing('soak', 'not measured');
  return leaks.length;
}

/** p99 (p50) and the rate of one sale run at `bench`'s `run`. */
const latency = (f: Figures, bench: string, run: string) =>
  `p99 ${ms(f.n(bench, `${run}.p99Ms`))} (p50 ${ms(f.n(bench, `${run}.p50Ms`))}), ${rate(f.n(bench, `${run}.salesPerSecond`), 'sales')}`;

const TAP = (f: Figures) => f.or('reference', 'emvTapBudgetMs', 500);

/** The parts that can be read, joined; when none can, the first one's reason. A reference need not be all or nothing. */
function parts(...readers: Array<() => string>): string {
  const texts: string[] = [];
  let first: unknown;
  for (const read of readers) {
    try {
      texts.push(read());
    } catch (e) {
      if (!(e instanceof Missing)) throw e;
      first ??= e;
    }
  }
  if (texts.length === 0 && first !== undefined) throw first;
  return texts.join('; ');
}

/** The one table definition: README and RESULTS.md both render these rows. */
export const ROWS: readonly RowSpec[] = [
  {
    measured: 'ISO 8583 pack + unpack of a chip purchase 0200',
    figure: (f) =>
      `${rate(f.n('iso8583', 'packUnpackPerSecond'))} (${bytes(f.n('iso8583', 'bytesPerMessage'))} message)`,
    reference: (f) => {
      const eachMs = 1_000 / f.n('iso8583', 'packUnpackPerSecond');
      return `${(eachMs * 1_000).toFixed(1)} µs each: ${percent(eachMs / TAP(f))} of EMV's ${ms(TAP(f))} tap budget`;
    },
  },
  {
    measured: 'Host link round trip to the simulator on loopback (pack, frame, send, match, unpack)',
    figure: (f) =>
      `one at a time: p50 ${ms(f.n('host-link-roundtrip', 'sequentialP50Ms'))}, p99 ${ms(f.n('host-link-roundtrip', 'sequentialP99Ms'))}, ` +
      `${rate(f.n('host-link-roundtrip', 'sequentialRoundTripsPerSecond'))}; 8 in flight: ${rate(f.n('host-link-roundtrip', 'pipelined8RoundTripsPerSecond'))}`,
    reference: (f) =>
      `plain TCP echo of ${bytes(f.n('reference', 'loopback.payloadBytes'))} on loopback: p50 ${ms(f.n('reference', 'loopback.p50Ms'))}, ` +
      `p99 ${ms(f.n('reference', 'loopback.p99Ms'))}, ${rate(f.n('reference', 'loopback.roundTripsPerSecond'))}`,
  },
  {
    measured: 'Sale, ECR `sale` in → `result` out (mock card tapped, journal on disk with synchronous=FULL)',
    figure: (f) =>
      `p99 ${ms(f.n('terminal-sale', 'p99Ms'))} (p50 ${ms(f.n('terminal-sale', 'p50Ms'))}), ${rate(f.n('terminal-sale', 'salesPerSecond'), 'sales')} one at a time`,
    target: {
      bench: 'terminal-sale',
      value: 'p99Ms',
      op: '<',
      limit: { path: 'targetP99Ms', fallback: 10 },
      format: ms,
      text: (l) => `p99 < ${l}`,
    },
    reference: (f) =>
      parts(
        () => `p99 is ${percent(f.n('terminal-sale', 'p99Ms') / TAP(f))} of EMV's ${ms(TAP(f))} tap budget`,
        () => `one fsync: ${fsyncMs(f, 'durability', 'commits.rawFsyncPerSecond')}`,
      ),
  },
  {
    measured:
      'Sale through nexo, Payment over HTTPS on loopback (kept-alive connection; mock card tapped; sealed with the Adyen client library)',
    figure: (f) =>
      `sealed: ${latency(f, 'nexo-sale', 'sealed')}, of which the HTTPS exchange p99 ${ms(f.n('nexo-sale', 'sealedWire.p99Ms'))} ` +
      `(p50 ${ms(f.n('nexo-sale', 'sealedWire.p50Ms'))}); plain: ${latency(f, 'nexo-sale', 'plain')}`,
    reference: (f) => `NDJSON \`sale\` on the same terminal, same run: ${latency(f, 'nexo-sale', 'ndjson')}`,
  },
  {
    measured:
      'Chip sale with online PIN and completion (EMV kernel, DUKPT PIN block, field 55, ARQC and PIN checked by the host, second decision)',
    figure: (f) =>
      `p99 ${ms(f.n('chip-sale', 'chipPin.p99Ms'))} (p50 ${ms(f.n('chip-sale', 'chipPin.p50Ms'))}); ` +
      `${f.n('chip-sale', 'chipOverStripeP50')}× the stripe sale's p50`,
    reference: (f) =>
      `magnetic-stripe sale on the same terminal, interleaved, same run: p99 ${ms(f.n('chip-sale', 'stripe.p99Ms'))} ` +
      `(p50 ${ms(f.n('chip-sale', 'stripe.p50Ms'))})`,
  },
  {
    measured: 'Self-test on mocks (reader, printer, host echo, storage with fsync, clock)',
    figure: (f) => {
      const notOk = f.n('selftest', 'notOk');
      return `p99 ${ms(f.n('selftest', 'p99Ms'))} (p50 ${ms(f.n('selftest', 'p50Ms'))})${notOk > 0 ? `, ${int(notOk)} runs not ok` : ''}`;
    },
    target: {
      bench: 'selftest',
      value: 'p99Ms',
      op: '<',
      limit: { fallback: 1_000 },
      format: ms,
      text: (l) => `p99 < ${l}`,
      also: [{ text: 'every run ok', ok: (f) => f.n('selftest', 'notOk') === 0 }],
    },
    reference: (f) =>
      parts(
        () => `one loopback echo: ${ms(f.n('reference', 'loopback.p50Ms'))}`,
        () => `one fsync: ${fsyncMs(f, 'durability', 'commits.rawFsyncPerSecond')}`,
      ),
  },
  {
    measured: 'Durable journal commits (begin + offline approval), WAL + synchronous=FULL',
    figure: (f) =>
      `${rate(f.n('durability', 'commits.commitsPerSecond'), 'commits')} = ${ratio(f.n('durability', 'commits.ratio'))} of raw fsync`,
    target: {
      bench: 'durability',
      value: 'commits.ratio',
      op: '≥',
      limit: { path: 'commits.target.ratio', fallback: 0.9 },
      format: ratio,
      text: (l) => `≥ ${l} of raw fsync`,
    },
    reference: (f) =>
      parts(
        () =>
          `raw fsync of ${bytes(f.n('durability', 'commits.rawRecordBytes'))} appends on ${diskName(f)}: ${rate(f.n('durability', 'commits.rawFsyncPerSecond'))}`,
        () =>
          `a whole offline sale through the terminal makes ${int(f.n('durability', 'commits.realOfflineSale.commitsPerSale'))} commits`,
      ),
  },
  {
    measured: 'Forwarding queued offline advices to the simulator on loopback',
    figure: (f) => {
      const lost = f.n('durability', 'forwarding.lost');
      const doubled = f.n('durability', 'forwarding.doubled');
      const order = f.value('durability', 'forwarding.inOrder') === true ? 'in order' : 'out of order';
      return `${int(f.n('durability', 'forwarding.advices'))} at ${rate(f.n('durability', 'forwarding.advicesPerSecond'))}, ${order}, ${int(lost)} lost, ${int(doubled)} doubled`;
    },
    target: {
      bench: 'durability',
      value: 'forwarding.advicesPerSecond',
      op: '≥',
      limit: { path: 'forwarding.target.advicesPerSecond', fallback: 2_000 },
      format: (n) => rate(n),
      also: [
        {
          text: 'in order, none lost or doubled',
          ok: (f) =>
            f.value('durability', 'forwarding.inOrder') === true &&
            f.n('durability', 'forwarding.lost') === 0 &&
            f.n('durability', 'forwarding.doubled') === 0,
        },
      ],
    },
    // The forwarder is bound by the lower of the link and the disk: both shown, the disk as raw fsync over commits per advice.
    reference: (f) =>
      parts(
        () =>
          `advice round trips on loopback, no journal: ${rate(f.n('durability', 'forwarding.reference.loopbackAdviceRoundTripsPerSecond'))}`,
        () => {
          const perAdvice = f.n('durability', 'forwarding.reference.commitsPerAdvice');
          return `raw fsync at ${perAdvice} commits per advice: ${rate(f.n('durability', 'forwarding.reference.rawFsyncPerSecond') / perAdvice)}`;
        },
      ),
  },
  {
    measured: 'Boot with unfinished transactions to recover (in process, mocks)',
    figure: (f) => {
      const step = f.value('durability', 'recovery.phasesMs.recovery');
      return `${int(f.n('durability', 'recovery.pending'))} recovered, ready in ${ms(f.n('durability', 'recovery.readyMs'))}${typeof step === 'number' ? ` (recovery step ${ms(step)})` : ''}`;
    },
    target: {
      bench: 'durability',
      value: 'recovery.readyMs',
      op: '<',
      limit: { path: 'recovery.target.readyMs', fallback: 2_000 },
      format: ms,
    },
    reference: (f) =>
      `${int(f.n('durability', 'recovery.commitsDuringStart'))} commits while starting; one fsync: ${fsyncMs(f, 'durability', 'recovery.reference.rawFsyncPerSecond')}`,
  },
  {
    measured: 'Telemetry Health message, protobuf',
    figure: (f) =>
      `${bytes(f.n('telemetry', 'sizes.health.protobufBytes'))} = ${ratio(f.n('telemetry', 'sizes.health.ratio'))} of JSON`,
    target: {
      bench: 'telemetry',
      value: 'sizes.health.ratio',
      op: '≤',
      limit: { path: 'sizes.target.maxRatio', fallback: 0.4 },
      format: ratio,
      text: (l) => `≤ ${l} of JSON`,
    },
    reference: (f) => `the same content as JSON: ${bytes(f.n('telemetry', 'sizes.health.jsonBytes'))}`,
  },
  {
    measured: 'Telemetry anomaly Event message, protobuf',
    figure: (f) =>
      `${bytes(f.n('telemetry', 'sizes.event.protobufBytes'))} = ${ratio(f.n('telemetry', 'sizes.event.ratio'))} of JSON`,
    target: {
      bench: 'telemetry',
      value: 'sizes.event.ratio',
      op: '≤',
      limit: { path: 'sizes.target.maxRatio', fallback: 0.4 },
      format: ratio,
      text: (l) => `≤ ${l} of JSON`,
    },
    reference: (f) => `the same content as JSON: ${bytes(f.n('telemetry', 'sizes.event.jsonBytes'))}`,
  },
  {
    measured: 'Telemetry publish to the embedded broker, outbox commit included (half Health, half Events)',
    figure: (f) =>
      `${rate(f.n('telemetry', 'publish.messagesPerSecond'), 'messages')}; the caller waits p99 ${ms(f.n('telemetry', 'publish.queueMs.p99'))}`,
    reference: (f) =>
      `queueing is one outbox commit; one fsync: ${fsyncMs(f, 'durability', 'commits.rawFsyncPerSecond')}`,
  },
  {
    measured: 'Telemetry publisher memory while the broker is away (simulated clock, outbox at its bound)',
    figure: (f) => {
      // Without --expose-gc the heap is read wherever the collector happens to be: say so beside the figure.
      const gc = f.maybe('telemetry', 'outage.gcExposed') === false ? ' (no forced GC)' : '';
      return (
        `after ${int(f.n('telemetry', 'outage.simulatedMinutes'))} min: RSS ${signedMb(f.n('telemetry', 'outage.rssDeltaBytes') / 2 ** 20)}, ` +
        `heap ${signedMb(f.n('telemetry', 'outage.heapDeltaBytes') / 2 ** 20)}${gc}`
      );
    },
  },
  {
    measured: 'Cold start, spawn → ready (desktop default: mocks, embedded host and broker)',
    figure: (f) => `${ms(f.n('startup', 'readyMsMedian'))} median (max ${ms(f.n('startup', 'readyMsMax'))})`,
    target: {
      bench: 'startup',
      value: 'readyMsMedian',
      op: '≤',
      limit: { path: 'target.readyMs', fallback: 1_000 },
      format: ms,
      text: (l) => `within ${l}`,
    },
    reference: (f) => `bare Node, spawn → first line: ${ms(f.n('reference', 'bareNode.readyMsMedian'))}`,
  },
  {
    measured: 'Idle resident memory of that process, 3 s after ready',
    figure: (f) => {
      const flags = f.maybe('startup', 'nodeOptions');
      const headline = `${mb(f.n('startup', 'idleRssMbMedian'))} median (max ${mb(f.n('startup', 'idleRssMbMax'))})`;
      // The headline runs as the systemd unit does; say so, and give the plain-node figure beside it.
      if (typeof flags !== 'string' || flags === '') return headline;
      const plainMb = f.maybe('startup', 'plainNode.idleRssMbMedian');
      const plain = typeof plainMb === 'number' ? `; plain \`node\`: ${mb(plainMb)}` : '';
      return `${headline} with the unit's \`${flags}\`${plain}`;
    },
    target: {
      bench: 'startup',
      value: 'idleRssMbMedian',
      op: '<',
      limit: { path: 'target.idleRssMb', fallback: 80 },
      format: mb,
    },
    reference: (f) =>
      `bare Node after ${ms(f.n('reference', 'bareNode.idleMs'))} idle: ${mb(f.n('reference', 'bareNode.idleRssMbMedian'))}`,
  },
  {
    measured:
      'Resident memory of `pos-terminal` holding 3,000 open register connections (no request), NDJSON then nexo',
    figure: (f) =>
      `NDJSON: ${signedMb(f.n('connections-rss', 'ndjson.deltaMb'))} (${f.n('connections-rss', 'ndjson.perConnectionKb')} KB each); ` +
      `nexo over TLS: ${signedMb(f.n('connections-rss', 'nexo.deltaMb'))} (${f.n('connections-rss', 'nexo.perConnectionKb')} KB each)`,
    reference: (f) =>
      `the same process idle, same run: ${mb(f.n('connections-rss', 'idleRssMb'))}; \`status\` with the crowd in: ` +
      `${ms(f.n('connections-rss', 'ndjson.statusMs'))} / ${ms(f.n('connections-rss', 'nexo.statusMs'))}`,
  },
  {
    measured: 'Soak: a long mixed run of transactions through the whole terminal on mocks',
    figure: (f) => `${int(f.n('soak', 'transactions'))} at ${rate(f.n('soak', 'transactionsPerSecond'))}`,
    reference: (f) => `sale benchmark, sales only: ${rate(f.n('terminal-sale', 'salesPerSecond'))}`,
  },
  {
    measured: 'Soak: card data in clear in logs, ECR and telemetry messages, receipts, screens, journal',
    figure: (f) => {
      const leaks = soakLeaks(f);
      return leaks === 0 ? 'none found' : `found in ${int(leaks)} ${leaks === 1 ? 'place' : 'places'}`;
    },
    target: { bench: 'soak', value: soakLeaks, op: '≤', limit: { fallback: 0 }, format: int, text: () => 'none' },
  },
  {
    measured: 'Soak: memory growth from the end of warm-up to the end (after a forced GC)',
    figure: (f) => `heap ${signedMb(f.n('soak', 'heapGrowthMb'))} (RSS ${signedMb(f.n('soak', 'rssGrowthMb'))})`,
    target: {
      bench: 'soak',
      value: 'heapGrowthMb',
      op: '<',
      limit: { path: 'target.heapGrowthMb', fallback: 5 },
      format: mb,
      text: (l) => `heap < +${l}`,
    },
  },
  {
    measured: 'Soak: journal growth',
    figure: (f) => `${bytes(f.n('soak', 'journalBytesPer1000'))} per 1,000 transactions`,
  },
];

export interface RenderedRow {
  measured: string;
  figure: string;
  target: string;
  reference: string;
  verdict: 'met' | 'NOT met' | 'not run' | 'failed' | 'not measured' | '—';
}

/** What a cell says when a figure it needs is missing. */
function missingText(e: unknown): Missing['state'] {
  if (e instanceof Missing) return e.state;
  throw e;
}

function targetText(t: TargetSpec, f: Figures): string {
  const limit = t.format(t.limit.path !== undefined ? f.or(t.bench, t.limit.path, t.limit.fallback) : t.limit.fallback);
  return [t.text ? t.text(limit) : `${t.op} ${limit}`, ...(t.also ?? []).map((a) => a.text)].join(', ');
}

export function renderRow(spec: RowSpec, f: Figures): RenderedRow {
  let figure: string;
  let available = true;
  try {
    figure = spec.figure(f);
  } catch (e) {
    figure = missingText(e);
    available = false;
  }
  let verdict: RenderedRow['verdict'] = available ? '—' : (figure as RenderedRow['verdict']);
  const t = spec.target;
  if (t && available) {
    try {
      const limit = t.limit.path !== undefined ? f.or(t.bench, t.limit.path, t.limit.fallback) : t.limit.fallback;
      const value = typeof t.value === 'string' ? f.n(t.bench, t.value) : t.value(f);
      const ok = compare(value, t.op, limit) && (t.also ?? []).every((a) => a.ok(f));
      verdict = ok ? 'met' : 'NOT met';
    } catch (e) {
      verdict = missingText(e);
    }
  }
  let reference = '—';
  if (spec.reference) {
    try {
      reference = spec.reference(f);
    } catch (e) {
      reference = `${missingText(e)}`;
    }
  }
  return { measured: spec.measured, figure, target: t ? targetText(t, f) : '—', reference, verdict };
}

export function renderRows(results: readonly BenchRecord[], rows: readonly RowSpec[] = ROWS): RenderedRow[] {
  const f = new Figures(results);
  return rows.map((spec) => renderRow(spec, f));
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function renderTable(results: readonly BenchRecord[], rows: readonly RowSpec[] = ROWS): string {
  const lines = ['| measured | figure | target | reference | verdict |', '| --- | --- | --- | --- | --- |'];
  for (const r of renderRows(results, rows)) {
    const verdict = r.verdict === 'NOT met' ? '**NOT met**' : r.verdict;
    lines.push(`| ${[r.measured, r.figure, r.target, r.reference, verdict].map(cell).join(' | ')} |`);
  }
  return lines.join('\n');
}

/** The machine and the day, from results.json: figures mean little without them. */
export function machineLine(file: ResultsFile): string {
  const m = file.machine;
  const load = m.load
    ? `, load average ${m.load.start.toFixed(1)} at the start and ${m.load.end.toFixed(1)} at the end`
    : '';
  return `Run of ${file.at.slice(0, 10)} on ${m.cpus} × ${m.cpuModel}, ${m.platform}, Node ${m.node}${load}.`;
}

/** What stands between the README's markers (markers excluded). */
export function renderReadmeBlock(file: ResultsFile): string {
  return [
    machineLine(file),
    'Generated from `bench/results.json` by `bench/report.ts`; do not edit by hand.',
    '',
    renderTable(file.results),
  ].join('\n');
}

export function renderResultsMd(file: ResultsFile): string {
  return [
    '# Benchmark results',
    '',
    machineLine(file),
    'Written by `npm run bench`, or by `node dist/bench/report.js` from an existing `bench/results.json`;',
    'do not edit by hand.',
    '',
    renderTable(file.results),
    '',
    'References, measured in the same run: raw fsync is small appends, each followed by fsync, on the disk the',
    'journals use (durability benchmark); loopback is a plain TCP echo with both ends in one process, as in the',
    'host-link benchmark; bare Node is `node -e` timed from spawn to its first line, then left idle as `pos-terminal`',
    "is. EMV's tap budget (500 ms for a whole contactless tap) and the same telemetry content as JSON are fixed.",
    '"not run": the benchmark is not in the results; "not measured": it ran but did not report that figure;',
    '"failed": it threw (its error is in `bench/results.json`).',
    '',
  ].join('\n');
}

/** `readme` with the text between the markers replaced by `block`; throws when the markers are not there once each. */
export function replaceReadmeBlock(readme: string, block: string): string {
  const start = readme.indexOf(README_START);
  const end = readme.indexOf(README_END);
  if (
    start < 0 ||
    end < start ||
    readme.indexOf(README_START, start + 1) >= 0 ||
    readme.indexOf(README_END, end + 1) >= 0
  ) {
    throw new Error(`README must hold ${README_START} and then ${README_END}, once each`);
  }
  return `${readme.slice(0, start + README_START.length)}\n${block}\n${readme.slice(end)}`;
}

/** The text between the README's markers, as replaceReadmeBlock writes it. */
export function readmeBlock(readme: string): string | undefined {
  const start = readme.indexOf(README_START);
  const end = readme.indexOf(README_END);
  if (start < 0 || end < start) return undefined;
  return readme
    .slice(start + README_START.length, end)
    .replace(/^\n/, '')
    .replace(/\n$/, '');
}

export function readResults(path: string): ResultsFile {
  const file = JSON.parse(readFileSync(path, 'utf8')) as ResultsFile;
  if (!Array.isArray(file.results)) throw new Error(`${path}: no results array`);
  return file;
}

/** Writes bench/RESULTS.md and the README table from `file`. Returns the paths written. */
export function writeReport(file: ResultsFile, benchDir = benchSourceDir()): string[] {
  const resultsMd = join(benchDir, 'RESULTS.md');
  writeFileSync(resultsMd, renderResultsMd(file));
  const readmePath = join(benchDir, '..', 'README.md');
  const written = [resultsMd];
  if (existsSync(readmePath)) {
    const readme = readFileSync(readmePath, 'utf8');
    const updated = replaceReadmeBlock(readme, renderReadmeBlock(file));
    if (updated !== readme) writeFileSync(readmePath, updated);
    written.push(readmePath);
  }
  return written;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const path = process.argv[2] ?? join(benchSourceDir(), 'results.json');
  const file = readResults(path);
  for (const written of writeReport(file)) process.stdout.write(`wrote ${written}\n`);
  process.stdout.write(`${renderTable(file.results)}\n`);
}
