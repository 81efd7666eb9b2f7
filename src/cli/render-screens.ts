#!/usr/bin/env node
/**
 * Draws the error screen of every anomaly into docs/screens/<code>-<name>.svg, the screens of a sale in every
 * language into docs/screens/languages/<language>/, and regenerates the README anomaly guide from the taxonomy
 * (`npm run screens`). Pictures of anomalies no longer in the table are removed. With
 * --check nothing is written: it exits 1 when a picture or the README block is out of date. --root DIR works on
 * another checkout (default: this package).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { anomalyGuideRows, anomalyScreenFiles, renderScreenSvg, SCREENS_DIR } from '../anomaly/picture.js';
import { packageRoot } from '../config/index.js';
import { LANGUAGES } from '../i18n/index.js';
import { idleScreen } from '../terminal/screens.js';
import { screensIn } from '../transaction/screens.js';

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

/** Where the screens of a sale in each language are drawn, relative to the repository root. */
export const LANGUAGE_SCREENS_DIR = `${SCREENS_DIR}/languages`;

/** The screens of a sale, from the idle screen to the card's removal, per language: `<language>/<step>.svg`. */
export function languageScreenFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const language of LANGUAGES) {
    const s = screensIn({ language, timeZone: 'UTC' });
    // A Chinese merchant sells in yuan; the others in euro (the amounts follow the currency's exponent).
    const currency = language === 'zh-CN' ? '156' : '978';
    const steps = {
      '1-ready': idleScreen('ready', [], [], language),
      '2-present-card': s.presentCard('sale', 1250, currency, false),
      '3-enter-pin': s.enterPin(1250, currency),
      '4-approved': s.approved('sale', 1250, currency, 'A1B2C3'),
      '5-receipt-pending': s.done('approved', true),
      '6-remove-card': s.removeCard('approved', false),
    };
    for (const [step, screen] of Object.entries(steps))
      if (screen) files.set(`${language}/${step}.svg`, renderScreenSvg(screen));
  }
  return files;
}

export interface ScreensReport {
  /** Paths (relative to the root) that are missing, different or left over; empty when all is current. */
  stale: string[];
}

/** Brings the pictures and the README block of `root` up to date, or with `check` only reports what is stale. */
export function syncScreens(root: string, options: { check?: boolean } = {}): ScreensReport {
  const stale: string[] = [];
  syncFolder(root, SCREENS_DIR, anomalyScreenFiles(), options, stale);
  syncFolder(root, LANGUAGE_SCREENS_DIR, languageScreenFiles(), options, stale);

  const readmePath = join(root, 'README.md');
  const readme = readFileSync(readmePath, 'utf8');
  const next = renderReadme(readme);
  if (next !== readme) {
    stale.push('README.md');
    if (!options.check) writeFileSync(readmePath, next);
  }
  return { stale };
}

/** Brings the pictures of one folder (`files`: path within it, SVG) up to date; .svg files not listed are stale. */
function syncFolder(
  root: string,
  folder: string,
  files: Map<string, string>,
  options: { check?: boolean },
  stale: string[],
): void {
  const dir = join(root, folder);
  const subfolders = new Set(['', ...[...files.keys()].map((name) => dirname(name)).filter((d) => d !== '.')]);
  for (const [name, svg] of files) {
    const path = join(dir, name);
    if (existsSync(path) && readFileSync(path, 'utf8') === svg) continue;
    stale.push(`${folder}/${name}`);
    if (!options.check) {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, svg);
    }
  }
  for (const sub of subfolders) {
    const at = join(dir, sub);
    if (!existsSync(at)) continue;
    for (const f of readdirSync(at).filter((f) => f.endsWith('.svg'))) {
      const name = sub ? `${sub}/${f}` : f;
      if (files.has(name)) continue;
      stale.push(`${folder}/${name}`);
      if (!options.check) rmSync(join(at, f));
    }
  }
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
