/**
 * `npm run bench`: runs every benchmark, prints each result as a JSON line and writes them all to
 * bench/results.json with the machine they ran on.
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchDurability } from './durability.js';
import { benchHostLink } from './host-link-roundtrip.js';
import { benchIsoCodec } from './iso8583-codec.js';
import { benchSelfTest } from './selftest.js';
import { benchStartup } from './startup.js';
import { benchTelemetry } from './telemetry.js';
import { benchTerminalSale } from './terminal-sale.js';

const benchmarks: Array<() => Promise<object>> = [
  benchIsoCodec,
  () => benchHostLink(),
  () => benchTerminalSale(),
  () => benchSelfTest(),
  () => benchDurability(),
  () => benchTelemetry(),
  () => benchStartup(),
];

const results: object[] = [];
for (const bench of benchmarks) {
  const result = await bench();
  process.stdout.write(`${JSON.stringify(result)}\n`);
  results.push(result);
}

// Written next to the sources (bench/), not into dist/, so the figures sit beside the code that made them.
const here = dirname(fileURLToPath(import.meta.url));
const benchDir = here.includes(`${join('dist', 'bench')}`) ? join(here, '..', '..', 'bench') : here;
const report = {
  at: new Date().toISOString(),
  machine: { node: process.version, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', platform: `${os.platform()} ${os.release()}` },
  results,
};
writeFileSync(join(benchDir, 'results.json'), `${JSON.stringify(report, null, 2)}\n`);
