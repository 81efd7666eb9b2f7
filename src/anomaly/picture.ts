/**
 * Pictures of the terminal's screen as the cashier sees it, drawn as plain SVG text from the layout the
 * framebuffer driver draws too (hal/display/screen-layout.ts): a header bar coloured by severity with the title and
 * the code badge, the message lines, and the action line emphasised at the bottom. The same screens are shown as
 * text by the simulator's console display (hal/display/console.ts).
 *
 * The output is self-contained (no fonts, images or scripts are fetched) and deterministic: the same screen gives
 * the same bytes, so the pictures in docs/screens can be regenerated and compared (`npm run screens`).
 */
import type { Screen } from '../../hal/display/contract.js';
import {
  BACKGROUND,
  FRAME,
  HEADER_HEIGHT,
  layoutScreen,
  SCREEN_HEIGHT,
  SCREEN_WIDTH,
  SEVERITY_COLOURS,
  type TextRun,
  wrapText,
} from '../../hal/display/screen-layout.js';
import { ANOMALIES, renderAnomalyScreen, type AnomalyDefinition } from './taxonomy.js';

export interface ScreenSvgOptions {
  /** Picture width in pixels; default 320 (a small terminal display). */
  width?: number;
  /** Picture height in pixels; default 240. */
  height?: number;
}

export { SCREEN_HEIGHT, SCREEN_WIDTH, SEVERITY_COLOURS, wrapText };

const FONT_FAMILY = "'DejaVu Sans Mono', 'Liberation Mono', Menlo, Consolas, monospace";

/** Escapes text for XML content and attribute values, dropping characters XML 1.0 does not allow. */
export function escapeXml(text: string): string {
  return (
    text
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
      .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&apos;')
  );
}

/** Numbers without float noise, so the output is byte-stable. */
function n(value: number): string {
  return String(Math.round(value * 10) / 10);
}

function text(run: TextRun): string {
  const extra = `${run.bold ? ' font-weight="bold"' : ''}${run.anchor === 'middle' ? ' text-anchor="middle"' : ''}`;
  return `<text x="${n(run.x)}" y="${n(run.y)}" font-size="${n(run.size)}" fill="${run.colour}"${extra}>${escapeXml(run.text)}</text>`;
}

/**
 * The screen as an SVG document. The last line is the action (what the cashier does) when there is more than one
 * line, as renderAnomalyScreen lays them out; it is drawn bold in a tinted box at the bottom. Lines are wrapped to
 * the width; lines that do not fit the height are cut with an ellipsis.
 */
export function renderScreenSvg(screen: Screen, options: ScreenSvgOptions = {}): string {
  const layout = layoutScreen(screen, options);
  const { width, height } = layout;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"` +
      ` role="img" aria-label="${escapeXml(layout.label)}" font-family="${FONT_FAMILY}">`,
    `  <title>${escapeXml(layout.label)}</title>`,
    `  <rect x="0.5" y="0.5" width="${width - 1}" height="${height - 1}" rx="6" fill="${BACKGROUND}" stroke="${FRAME}"/>`,
    `  <path d="M0.5 6.5a6 6 0 0 1 6-6h${width - 13}a6 6 0 0 1 6 6v${HEADER_HEIGHT - 6.5}h-${width - 1}z" fill="${layout.headerColour}"/>`,
  ];
  if (layout.title) out.push(`  ${text(layout.title)}`);
  if (layout.badge) {
    const { box } = layout.badge;
    out.push(
      `  <rect x="${n(box.x)}" y="${n(box.y)}" width="${n(box.width)}" height="${n(box.height)}" rx="4" fill="${box.colour}"/>`,
      `  ${text(layout.badge.text)}`,
    );
  }
  for (const line of layout.body) out.push(`  ${text(line)}`);
  if (layout.action) {
    const { box, bar } = layout.action;
    out.push(
      `  <rect x="${box.x}" y="${n(box.y)}" width="${box.width}" height="${n(box.height)}" fill="${box.colour}"/>`,
      `  <rect x="${bar.x}" y="${n(bar.y)}" width="${bar.width}" height="${n(bar.height)}" fill="${bar.colour}"/>`,
    );
    for (const line of layout.action.lines) out.push(`  ${text(line)}`);
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** Where the picture of an anomaly's screen lives, relative to the repository root. */
export const SCREENS_DIR = 'docs/screens';

export function screenFileName(def: Pick<AnomalyDefinition, 'code' | 'name'>): string {
  return `${def.code}-${def.name}.svg`;
}

/** Every anomaly's picture, file name (in SCREENS_DIR) to SVG text, in table order. */
export function anomalyScreenFiles(): Map<string, string> {
  return new Map(ANOMALIES.map((def) => [screenFileName(def), renderScreenSvg(renderAnomalyScreen(def))]));
}

export interface AnomalyGuideRow {
  /** Path of the screen picture relative to the repository root. */
  picture: string;
  code: string;
  name: string;
  class: AnomalyDefinition['class'];
  severity: AnomalyDefinition['severity'];
  /** What happened, as the screen says it. */
  cause: string;
  /** What the cashier does. */
  cashier: string;
  /** What support does. */
  support: string;
}

/** One row per anomaly code, in table order, for the README anomaly guide. */
export function anomalyGuideRows(): AnomalyGuideRow[] {
  return ANOMALIES.map((def) => ({
    picture: `${SCREENS_DIR}/${screenFileName(def)}`,
    code: def.code,
    name: def.name,
    class: def.class,
    severity: def.severity,
    cause: def.message,
    cashier: def.actionText,
    support: def.support,
  }));
}
