#!/usr/bin/env node
/**
 * Draws the error screen of every anomaly into docs/screens/<code>-<name>.svg and regenerates the README anomaly
 * guide from the taxonomy (`npm run screens`). Pictures of anomalies no longer in the table are removed. With
 * --check nothing is written: it exits 1 when a picture or the README block is out of date. --root DIR works on
 * another checkout (default: this package).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { anomalyGuideRows, anomalyScreenFiles, SCREENS_DIR } from '../anomaly/picture.js';
import { packageRoot } from '../config/index.js';

const START = '<!-- anomaly-guide:start -->';
const END = '<!-- anomaly-guide:end -->';
/** Width of the pictures in the README table, in pixels (they are drawn at 320). */
const THUMBNAIL_WIDTH = 160;

/** Text for a Markdown table cell: no pipes, no line breaks, no raw HTML. */
function cell(text: string): string {
  return text
    .replace(/\s*\n\s*/g, ' ')
    .replace(/\|/g, '\\|')
    .replace(/</g, '&lt;');
}

/** The anomaly guide table: one row per code with its screen picture. */
export function anomalyGuideTable(): string {
  const rows = anomalyGuideRows().map(
    (r) =>
      `| <img src="${r.picture}" width="${THUMBNAIL_WIDTH}"> | **${r.code}**<br>\`${r.name}\`<br>${r.class}, ${r.severity} ` +
      `| ${cell(r.cause)} | ${cell(r.cashier)} | ${cell(r.support)} |`,
  );
  return [
    'Every abnormal event has a stable code, shown on the screen and printed on the anomaly slip. The pictures are',
    `drawn from the taxonomy (\`src/anomaly/taxonomy.ts\`) by \`npm run screens\`; do not edit this table by hand.`,
    '',
    '| Screen | Code | Cause | What the cashier does | What support does |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

/** The README with the anomaly guide block regenerated; everything outside the block is kept as it is. */
export function renderReadme(readme: string): string {
  const from = readme.indexOf(START);
  const to = readme.indexOf(END);
  if (from < 0 || to < from) throw new Error(`README has no ${START} … ${END} block`);
  return `${readme.slice(0, from + START.length)}\n${anomalyGuideTable()}\n\n${readme.slice(to)}`;
}

export interface ScreensReport {
  /** Paths (relative to the root) that are missing, different or left over; empty when all is current. */
  stale: string[];
}

/** Brings the pictures and the README block of `root` up to date, or with `check` only reports what is stale. */
export function syncScreens(root: string, options: { check?: boolean } = {}): ScreensReport {
  const dir = join(root, SCREENS_DIR);
  const files = anomalyScreenFiles();
  const present = existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith('.svg'))
        .sort()
    : [];
  const stale: string[] = [];

  for (const [name, svg] of files) {
    const path = join(dir, name);
    if (existsSync(path) && readFileSync(path, 'utf8') === svg) continue;
    stale.push(`${SCREENS_DIR}/${name}`);
    if (!options.check) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(path, svg);
    }
  }
  for (const name of present) {
    if (files.has(name)) continue;
    stale.push(`${SCREENS_DIR}/${name}`);
    if (!options.check) rmSync(join(dir, name));
  }

  const readmePath = join(root, 'README.md');
  const readme = readFileSync(readmePath, 'utf8');
  const next = renderReadme(readme);
  if (next !== readme) {
    stale.push('README.md');
    if (!options.check) writeFileSync(readmePath, next);
  }
  return { stale };
}

if (process.argv[1]?.endsWith('render-screens.js')) {
  const args = process.argv.slice(2);
  const rootAt = args.indexOf('--root');
  const root = rootAt >= 0 && args[rootAt + 1] ? args[rootAt + 1]! : packageRoot();
  const check = args.includes('--check');
  try {
    const { stale } = syncScreens(root, { check });
    if (check && stale.length) {
      process.stderr.write(
        `anomaly screens are out of date (run npm run screens):\n${stale.map((p) => `  ${p}\n`).join('')}`,
      );
      process.exit(1);
    }
    if (!check) {
      process.stdout.write(
        stale.length ? `updated:\n${stale.map((p) => `  ${p}\n`).join('')}` : 'anomaly screens are current\n',
      );
    }
  } catch (err) {
    process.stderr.write(`render-screens: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  }
}
