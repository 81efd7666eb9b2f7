/**
 * `npm run bench`: runs every benchmark, prints each result as a JSON line, writes them all to bench/results.json
 * with the machine they ran on, then the report (bench/RESULTS.md and the README's table) from that file.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { benchChipSale } from './chip-sale.js';
import { benchConnectionsRss } from './connections-rss.js';
import { benchDurability } from './durability.js';
import { benchFleetBroker } from './fleet-broker.js';
import { benchFleetIngest } from './fleet-ingest.js';
import { benchHostLink } from './host-link-roundtrip.js';
import { benchIsoCodec } from './iso8583-codec.js';
import { benchJournalRetention } from './journal-retention.js';
import { benchMosquittoBurst } from './mosquitto-burst.js';
import { benchReference } from './reference.js';
import { benchNexoSale } from './nexo-sale.js';
import { benchSourceDir, renderTable, writeReport, type BenchRecord, type ResultsFile } from './report.js';
import { benchSelfTest } from './selftest.js';
import { benchSettlement } from './settlement.js';
import { benchStartup } from './startup.js';
import { benchTelemetry } from './telemetry.js';
import { benchTerminalSale } from './terminal-sale.js';

/** The id is what report.ts reads a result by (its name up to the first space); it names a result that failed. */
const benchmarks: Array<{ id: string; run: () => Promise<object> }> = [
  // References first: the same machine, the same run, before the others have warmed anything up.
  { id: 'reference', run: () => benchReference() },
  { id: 'iso8583', run: benchIsoCodec },
  { id: 'host-link-roundtrip', run: () => benchHostLink() },
  { id: 'terminal-sale', run: () => benchTerminalSale() },
  // Right after it: the same sale through nexo over HTTPS, with its own NDJSON reference on the same terminal.
  { id: 'nexo-sale', run: () => benchNexoSale() },
  // A chip sale with online PIN beside a stripe sale, interleaved on one terminal.
  { id: 'chip-sale', run: () => benchChipSale() },
  { id: 'selftest', run: () => benchSelfTest() },
  { id: 'durability', run: () => benchDurability() },
  // End of day on a 10,000-sale batch with its upload, beside bare upload round trips and commits of the same run.
  { id: 'settlement', run: () => benchSettlement() },
  // The journal's size under retention: days of sales, settled and purged, on the simulated clock.
  { id: 'journal-retention', run: () => benchJournalRetention() },
  { id: 'telemetry', run: () => benchTelemetry() },
  // The fleet consumer: its ingest in one process beside the bare protobuf decode, then behind a real Mosquitto
  // (one consumer, two on a shared subscription, beside a null consumer), then a burst with Mosquitto's default
  // queue limits and with the README's.
  { id: 'fleet-ingest', run: () => benchFleetIngest() },
  { id: 'fleet-broker', run: () => benchFleetBroker() },
  { id: 'mosquitto-burst', run: () => benchMosquittoBurst() },
  { id: 'startup', run: () => benchStartup() },
  // Beside the idle figure: the same process holding 3,000 register connections, NDJSON then nexo.
  { id: 'connections-rss', run: () => benchConnectionsRss() },
  { id: 'web-table', run: async () => (await import('./web-table.js')).benchWebTable() },
];

// Other work on the machine moves the figures: the load is recorded with them.
const loadAtStart = os.loadavg()[0] ?? 0;
const results: BenchRecord[] = [];
let failed = 0;
for (const bench of benchmarks) {
  try {
    const result = (await bench.run()) as BenchRecord;
    process.stdout.write(`${JSON.stringify(result)}\n`);
    results.push(result);
  } catch (err) {
    // One broken benchmark must not cost the others' figures: the report shows it as failed.
    failed += 1;
    const error = err instanceof Error ? err.message : String(err);
    process.stderr.write(`bench ${bench.id} failed: ${err instanceof Error ? (err.stack ?? error) : error}\n`);
    results.push({ name: bench.id, error });
  }
}

// The soak runs for an hour, so it is its own command (`npm run soak`); its latest figures join the report.
const soakPath = join(benchSourceDir(), 'soak.json');
if (existsSync(soakPath)) results.push(JSON.parse(readFileSync(soakPath, 'utf8')) as BenchRecord);

const cpus = os.cpus();
const file: ResultsFile = {
  at: new Date().toISOString(),
  machine: {
    node: process.version,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    platform: `${os.platform()} ${os.release()}`,
    load: { start: Number(loadAtStart.toFixed(2)), end: Number((os.loadavg()[0] ?? 0).toFixed(2)) },
  },
  results,
};
// Written next to the sources (bench/), not into dist/, so the figures sit beside the code that made them.
const benchDir = benchSourceDir();
writeFileSync(join(benchDir, 'results.json'), `${JSON.stringify(file, null, 2)}\n`);
writeReport(file, benchDir);
process.stdout.write(`\n${renderTable(results)}\n`);
if (failed > 0) process.exitCode = 1;
