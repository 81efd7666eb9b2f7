/**
 * The benchmark report: figures, targets and references rendered from a small results fixture, met / NOT met
 * computed from the numbers (limits, boundaries, missing and failed benchmarks), and the README's table and
 * bench/RESULTS.md equal to what the committed bench/results.json renders, so neither can drift from the results.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  benchId,
  int,
  machineLine,
  mb,
  ms,
  rate,
  readmeBlock,
  readResults,
  renderReadmeBlock,
  renderResultsMd,
  renderRows,
  renderTable,
  replaceReadmeBlock,
  README_END,
  README_START,
  ROWS,
  type BenchRecord,
} from '../../bench/report.js';

function fixture(): BenchRecord[] {
  return [
    {
      name: 'reference',
      loopback: { payloadBytes: 64, roundTrips: 30_000, roundTripsPerSecond: 30_000, p50Ms: 0.03, p99Ms: 0.08 },
      bareNode: { runs: 5, idleMs: 1_000, readyMsMedian: 45, idleRssMbMedian: 41.4 },
      emvTapBudgetMs: 500,
    },
    { name: 'iso8583 pack+unpack 0200', packUnpackPerSecond: 167_782, iterations: 167_936, bytesPerMessage: 336 },
    {
      name: 'host-link-roundtrip',
      sequentialRoundTripsPerSecond: 17_179,
      sequentialP50Ms: 0.046,
      sequentialP99Ms: 0.176,
      pipelined8RoundTripsPerSecond: 24_033,
      roundTrips: 41_222,
    },
    {
      name: 'terminal-sale (ECR in -> result out)',
      sales: 2_000,
      p50Ms: 3.408,
      p99Ms: 6.248,
      maxMs: 7.693,
      salesPerSecond: 280,
      targetP99Ms: 10,
    },
    { name: 'selftest', runs: 200, p50Ms: 1.5, p99Ms: 6.9, maxMs: 9, notOk: 0 },
    {
      name: 'durability',
      disk: { dir: '/tmp', fsType: 'ext4', device: '/dev/vda' },
      commits: {
        rawFsyncPerSecond: 6_700,
        rawRecordBytes: 64,
        commitsPerSecond: 3_000,
        ratio: 0.45,
        target: { ratio: 0.9 },
        realOfflineSale: { commitsPerSale: 10 },
      },
      forwarding: {
        advices: 10_000,
        advicesPerSecond: 5_800,
        target: { advicesPerSecond: 2_000 },
        inOrder: true,
        lost: 0,
        doubled: 0,
        reference: {
          commitsPerAdvice: 0.5,
          rawFsyncPerSecond: 6_700,
          loopbackAdviceRoundTripsPerSecond: 12_000,
          boundPerSecond: 12_000,
        },
      },
      recovery: {
        pending: 10_000,
        readyMs: 820,
        target: { readyMs: 2_000 },
        phasesMs: { recovery: 790 },
        commitsDuringStart: 3,
        reference: { rawFsyncPerSecond: 6_500 },
      },
    },
    {
      name: 'telemetry',
      sizes: {
        health: { protobufBytes: 458, jsonBytes: 1_287, ratio: 0.356 },
        event: { protobufBytes: 233, jsonBytes: 436, ratio: 0.534 },
        target: { maxRatio: 0.4 },
      },
      publish: { messagesPerSecond: 1_400, queueMs: { p50: 0.5, p99: 4.1, max: 9 } },
      outage: { simulatedMinutes: 60, rssDeltaBytes: 3 * 2 ** 20, heapDeltaBytes: -(2 ** 19), gcExposed: true },
    },
    {
      name: 'startup (spawn -> ready, idle RSS)',
      runs: 5,
      readyMsMedian: 400,
      readyMsMax: 450,
      idleRssMbMedian: 95,
      idleRssMbMax: 96,
      target: { readyMs: 1_000, idleRssMb: 80 },
    },
  ];
}

const soak = {
  name: 'soak',
  transactions: 100_000,
  transactionsPerSecond: 250,
  heapGrowthMb: 1.2,
  rssGrowthMb: 3.4,
  journalBytesPer1000: 412_000,
  leaks: [],
};

/** The rendered row whose "measured" text starts with `prefix`. */
function row(results: BenchRecord[], prefix: string) {
  const found = renderRows(results).find((r) => r.measured.startsWith(prefix));
  if (!found) throw new Error(`no row starts with ${prefix}`);
  return found;
}

/** The fixture with one benchmark's result changed. */
function withBench(id: string, change: (r: BenchRecord) => BenchRecord | undefined): BenchRecord[] {
  return fixture().flatMap((r) => {
    if (benchId(r.name) !== id) return [r];
    const changed = change(structuredClone(r));
    return changed ? [changed] : [];
  });
}

describe('formatting', () => {
  it('groups thousands, picks a precision per size, and never depends on the locale', () => {
    expect([int(0), int(999), int(1_000), int(167_782), int(1_234_567.6), int(-2_500)]).toEqual([
      '0',
      '999',
      '1,000',
      '167,782',
      '1,234,568',
      '-2,500',
    ]);
    expect([ms(0.0456), ms(3.408), ms(12.34), ms(820.4), ms(1_000), ms(1_234)]).toEqual([
      '0.046 ms',
      '3.41 ms',
      '12.3 ms',
      '820 ms',
      '1 s',
      '1.23 s',
    ]);
    expect([ms(0.03), ms(10), ms(2.5)]).toEqual(['0.03 ms', '10 ms', '2.5 ms']);
    expect(rate(17_179)).toBe('17,179 / s');
    expect(rate(280, 'sales')).toBe('280 sales / s');
    expect([mb(95), mb(41.44)]).toEqual(['95 MB', '41.4 MB']);
  });

  it('reads a benchmark by its name up to the first space or parenthesis', () => {
    expect(benchId('terminal-sale (ECR in -> result out)')).toBe('terminal-sale');
    expect(benchId('iso8583 pack+unpack 0200')).toBe('iso8583');
    expect(benchId('soak')).toBe('soak');
  });
});

describe('rows from a results fixture', () => {
  it('puts each figure beside its target and reference', () => {
    const r = fixture();
    expect(row(r, 'Sale')).toEqual({
      measured: 'Sale, ECR `sale` in → `result` out (mock card tapped, journal on disk with synchronous=FULL)',
      figure: 'p99 6.25 ms (p50 3.41 ms), 280 sales / s one at a time',
      target: 'p99 < 10 ms',
      reference: "p99 is 1.2% of EMV's 500 ms tap budget; one fsync: 0.149 ms",
      verdict: 'met',
    });
    expect(row(r, 'Host link')).toMatchObject({
      figure: 'one at a time: p50 0.046 ms, p99 0.176 ms, 17,179 / s; 8 in flight: 24,033 / s',
      reference: 'plain TCP echo of 64 B on loopback: p50 0.03 ms, p99 0.08 ms, 30,000 / s',
      target: '—',
      verdict: '—',
    });
    expect(row(r, 'Durable journal')).toMatchObject({
      figure: '3,000 commits / s = 0.45 of raw fsync',
      target: '≥ 0.90 of raw fsync',
      reference:
        'raw fsync of 64 B appends on /tmp (ext4): 6,700 / s; a whole offline sale through the terminal makes 10 commits',
      verdict: 'NOT met',
    });
    expect(row(r, 'Telemetry Health')).toMatchObject({
      figure: '458 B = 0.36 of JSON',
      target: '≤ 0.40 of JSON',
      reference: 'the same content as JSON: 1,287 B',
      verdict: 'met',
    });
    expect(row(r, 'Telemetry anomaly Event')).toMatchObject({ figure: '233 B = 0.53 of JSON', verdict: 'NOT met' });
    expect(row(r, 'Telemetry publisher memory')).toMatchObject({
      figure: 'after 60 min: RSS +3 MB, heap −0.5 MB',
      verdict: '—',
    });
    const noGc = withBench('telemetry', (t) => ({ ...t, outage: { ...(t['outage'] as object), gcExposed: false } }));
    expect(row(noGc, 'Telemetry publisher memory').figure).toBe('after 60 min: RSS +3 MB, heap −0.5 MB (no forced GC)');
    expect(row(r, 'Cold start')).toMatchObject({
      figure: '400 ms median (max 450 ms)',
      target: 'within 1 s',
      reference: 'bare Node, spawn → first line: 45 ms',
      verdict: 'met',
    });
    expect(row(r, 'Idle resident memory')).toMatchObject({
      figure: '95 MB median (max 96 MB)',
      target: '< 80 MB',
      reference: 'bare Node after 1 s idle: 41.4 MB',
      verdict: 'NOT met',
    });
    expect(row(r, 'Forwarding')).toMatchObject({
      figure: '10,000 at 5,800 / s, in order, 0 lost, 0 doubled',
      target: '≥ 2,000 / s, in order, none lost or doubled',
      verdict: 'met',
      reference:
        'advice round trips on loopback, no journal: 12,000 / s; raw fsync at 0.5 commits per advice: 13,400 / s',
    });
    expect(row(r, 'Boot with')).toMatchObject({
      figure: '10,000 recovered, ready in 820 ms (recovery step 790 ms)',
      target: '< 2 s',
      verdict: 'met',
    });
    expect(row(r, 'Self-test')).toMatchObject({
      target: 'p99 < 1 s, every run ok',
      reference: 'one loopback echo: 0.03 ms; one fsync: 0.149 ms',
      verdict: 'met',
    });
  });

  it('takes the limit a benchmark states over the default, and compares at the boundary as the target reads', () => {
    expect(
      row(
        withBench('terminal-sale', (r) => ({ ...r, targetP99Ms: 5 })),
        'Sale',
      ),
    ).toMatchObject({ target: 'p99 < 5 ms', verdict: 'NOT met' });
    expect(
      row(
        withBench('terminal-sale', (r) => ({ ...r, p99Ms: 10 })),
        'Sale',
      ).verdict,
    ).toBe('NOT met');
    // "within 1 s" includes 1 s; "under 80 MB" does not include 80 MB.
    const edge = withBench('startup', (r) => ({ ...r, readyMsMedian: 1_000, idleRssMbMedian: 80 }));
    expect(row(edge, 'Cold start').verdict).toBe('met');
    expect(row(edge, 'Idle resident memory').verdict).toBe('NOT met');
    expect(
      row(
        withBench('startup', (r) => ({ ...r, idleRssMbMedian: 79.9 })),
        'Idle resident memory',
      ).verdict,
    ).toBe('met');
    expect(
      row(
        withBench('durability', (r) => ({ ...r, commits: { ...(r['commits'] as object), ratio: 0.9 } })),
        'Durable journal',
      ).verdict,
    ).toBe('met');
  });

  it('fails a target whose further conditions are not met, however good the figure', () => {
    const lost = withBench('durability', (r) => ({
      ...r,
      forwarding: { ...(r['forwarding'] as object), advicesPerSecond: 9_000, lost: 1 },
    }));
    expect(row(lost, 'Forwarding')).toMatchObject({
      figure: '10,000 at 9,000 / s, in order, 1 lost, 0 doubled',
      verdict: 'NOT met',
    });
    const unordered = withBench('durability', (r) => ({
      ...r,
      forwarding: { ...(r['forwarding'] as object), inOrder: false },
    }));
    expect(row(unordered, 'Forwarding').verdict).toBe('NOT met');
    const notOk = withBench('selftest', (r) => ({ ...r, notOk: 2 }));
    expect(row(notOk, 'Self-test')).toMatchObject({
      figure: 'p99 6.9 ms (p50 1.5 ms), 2 runs not ok',
      verdict: 'NOT met',
    });
  });

  it('shows a missing benchmark as not run, a failed one as failed, a missing field as not measured', () => {
    const r = fixture();
    for (const prefix of ['Soak: a long', 'Soak: card data', 'Soak: memory', 'Soak: journal'])
      expect(row(r, prefix)).toMatchObject({ figure: 'not run', verdict: 'not run' });
    // The target still reads, from the default, so the table says what the soak will be held to.
    expect(row(r, 'Soak: memory').target).toBe('heap < +5 MB');

    const failed = withBench('telemetry', () => ({ name: 'telemetry', error: 'broker did not start' }));
    expect(row(failed, 'Telemetry Health')).toMatchObject({ figure: 'failed', verdict: 'failed', reference: 'failed' });
    expect(row(failed, 'Sale').reference).toContain('tap budget'); // other rows unaffected

    const noReference = withBench('reference', () => undefined);
    expect(row(noReference, 'Cold start')).toMatchObject({ verdict: 'met', reference: 'not run' });
    // The tap budget is a constant: a row does not lose it with the reference benchmark.
    expect(row(noReference, 'Sale').reference).toBe("p99 is 1.2% of EMV's 500 ms tap budget; one fsync: 0.149 ms");
    // A reference with several parts keeps those it can read.
    const noDurability = withBench('durability', () => undefined);
    expect(row(noDurability, 'Sale').reference).toBe("p99 is 1.2% of EMV's 500 ms tap budget");
    expect(row(noDurability, 'Self-test').reference).toBe('one loopback echo: 0.03 ms');
    expect(
      row(
        withBench('reference', () => undefined).filter((r) => benchId(r.name) !== 'durability'),
        'Self-test',
      ).reference,
    ).toBe('not run');

    const noField = withBench('startup', (r) => ({ ...r, idleRssMbMedian: undefined }));
    expect(row(noField, 'Idle resident memory')).toMatchObject({ figure: 'not measured', verdict: 'not measured' });
    expect(row(noField, 'Cold start').verdict).toBe('met');
  });

  it('renders the soak rows when the soak ran, its heap target checked', () => {
    expect(row([...fixture(), soak], 'Soak: a long')).toMatchObject({
      figure: '100,000 at 250 / s',
      reference: 'sale benchmark, sales only: 280 / s',
      verdict: '—',
    });
    expect(row([...fixture(), soak], 'Soak: card data')).toMatchObject({
      figure: 'none found',
      target: 'none',
      verdict: 'met',
    });
    expect(row([...fixture(), { ...soak, leaks: ['log line 12'] }], 'Soak: card data')).toMatchObject({
      figure: 'found in 1 place',
      verdict: 'NOT met',
    });
    // The shape the soak was promised to produce, without the optional leak list: its other rows still read.
    const { leaks: _leaks, ...promised } = soak;
    expect(row([...fixture(), promised], 'Soak: card data')).toMatchObject({
      figure: 'not measured',
      verdict: 'not measured',
    });
    expect(row([...fixture(), promised], 'Soak: memory').verdict).toBe('met');
    expect(row([...fixture(), soak], 'Soak: memory')).toMatchObject({
      figure: 'heap +1.2 MB (RSS +3.4 MB)',
      verdict: 'met',
    });
    expect(row([...fixture(), { ...soak, heapGrowthMb: 5 }], 'Soak: memory').verdict).toBe('NOT met');
    expect(row([...fixture(), soak], 'Soak: journal').figure).toBe('412,000 B per 1,000 transactions');
  });
});

describe('Markdown', () => {
  it('renders one header, one line per row, NOT met in bold, and escapes pipes', () => {
    const lines = renderTable(fixture()).split('\n');
    expect(lines).toHaveLength(ROWS.length + 2);
    expect(lines[0]).toBe('| measured | figure | target | reference | verdict |');
    expect(lines.filter((l) => l.endsWith('| **NOT met** |'))).toHaveLength(3);
    for (const line of lines) expect(line.replace(/\\\|/g, '').split('|')).toHaveLength(7);
    const piped = renderTable(fixture(), [{ measured: 'a | b', figure: () => 'c' }]);
    expect(piped.split('\n')[2]).toBe('| a \\| b | c | — | — | — |');
  });

  it('replaces only what stands between the markers', () => {
    const readme = `# T\n\nbefore\n${README_START}\nold\n${README_END}\n\nafter\n`;
    const updated = replaceReadmeBlock(readme, 'new table');
    expect(updated).toBe(`# T\n\nbefore\n${README_START}\nnew table\n${README_END}\n\nafter\n`);
    expect(readmeBlock(updated)).toBe('new table');
    expect(replaceReadmeBlock(updated, 'new table')).toBe(updated);
    expect(() => replaceReadmeBlock('# no markers\n', 'x')).toThrow(/bench-table:start/);
  });
});

describe('machine line', () => {
  it('names the machine, and the load when the run recorded it', () => {
    const machine = { node: 'v20.20.2', cpus: 2, cpuModel: 'AMD EPYC', platform: 'linux 6.1' };
    expect(machineLine({ at: '2026-11-25T14:13:11.651Z', machine, results: [] })).toBe(
      'Run of 2026-11-25 on 2 × AMD EPYC, linux 6.1, Node v20.20.2.',
    );
    expect(
      machineLine({
        at: '2026-11-25T14:13:11.651Z',
        machine: { ...machine, load: { start: 5.96, end: 3.97 } },
        results: [],
      }),
    ).toBe(
      'Run of 2026-11-25 on 2 × AMD EPYC, linux 6.1, Node v20.20.2, load average 6.0 at the start and 4.0 at the end.',
    );
  });
});

describe('committed results', () => {
  // Read in each test, so a missing results file fails these three and leaves the fixture tests standing.
  const committed = () => readResults(new URL('../../bench/results.json', import.meta.url).pathname);

  it('README shows the table that bench/results.json renders', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    // On a mismatch: `npx tsc -p . && node dist/bench/report.js` regenerates it from bench/results.json.
    expect(readmeBlock(readme)).toBe(renderReadmeBlock(committed()));
  });

  it('bench/RESULTS.md is what bench/results.json renders', () => {
    expect(readFileSync(new URL('../../bench/RESULTS.md', import.meta.url), 'utf8')).toBe(renderResultsMd(committed()));
  });

  it('holds every figure the table reads: nothing failed or missing in the committed run', () => {
    for (const r of renderRows(committed().results)) {
      expect(['failed', 'not measured'], r.measured).not.toContain(r.verdict);
      expect(['failed', 'not measured'], r.measured).not.toContain(r.reference);
    }
  });
});
