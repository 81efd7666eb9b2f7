/**
 * Pictures of the terminal's screen as the cashier sees it, drawn as plain SVG text: a header bar coloured by
 * severity with the title and the code badge, the message lines, and the action line emphasised at the bottom.
 * The same screens are shown as text by the simulator's console display (hal/display/console.ts).
 *
 * The output is self-contained (no fonts, images or scripts are fetched) and deterministic: the same screen gives
 * the same bytes, so the pictures in docs/screens can be regenerated and compared (`npm run screens`).
 */
import type { Screen } from '../../hal/display/contract.js';
import { ANOMALIES, renderAnomalyScreen, type AnomalyDefinition } from './taxonomy.js';

export interface ScreenSvgOptions {
  /** Picture width in pixels; default 320 (a small terminal display). */
  width?: number;
  /** Picture height in pixels; default 240. */
  height?: number;
}

export const SCREEN_WIDTH = 320;
export const SCREEN_HEIGHT = 240;

/** Colours per severity: the header fill and a text colour readable on it (contrast at least 4.5:1). */
export const SEVERITY_COLOURS: Readonly<Record<Screen['severity'], { fill: string; text: string; tint: string }>> = {
  info: { fill: '#1d4ed8', text: '#ffffff', tint: '#eff6ff' },
  success: { fill: '#15803d', text: '#ffffff', tint: '#f0fdf4' },
  warning: { fill: '#f59e0b', text: '#111827', tint: '#fffbeb' },
  error: { fill: '#b91c1c', text: '#ffffff', tint: '#fef2f2' },
};

const FONT_FAMILY = "'DejaVu Sans Mono', 'Liberation Mono', Menlo, Consolas, monospace";
/** Advance width of a monospace glyph as a share of the font size (DejaVu Sans Mono and most others: ~0.6). */
const CHAR_WIDTH = 0.6;
const LINE_HEIGHT = 1.35;
const PAD = 12;
const HEADER_HEIGHT = 44;
const TITLE_SIZE = 16;
const BADGE_SIZE = 12;
const BODY_SIZE = 14;
const ACTION_SIZE = 14;
const ACTION_MAX_LINES = 3;
const INK = '#111827';
const FRAME = '#9ca3af';
const BACKGROUND = '#ffffff';

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

/** Characters of a monospace font of `size` px that fit in `width` px (at least one). */
function charsThatFit(width: number, size: number): number {
  return Math.max(1, Math.floor(width / (size * CHAR_WIDTH)));
}

/** A Chinese (or other full-width) character takes two columns of the monospace advance, as on a terminal. */
const WIDE = /[\p{Script=Han}\u3000-\u303f\uff00-\uff60\uffe0-\uffe6]/u;

function columnsOfChar(ch: string): number {
  return WIDE.test(ch) ? 2 : 1;
}

/** The columns a text takes (characters, full-width ones counted twice). */
function length(text: string): number {
  let n = 0;
  for (const ch of text) n += columnsOfChar(ch);
  return n;
}

/** The longest head of `chars` that fits in `max` columns (at least one character). */
function headThatFits(chars: string[], max: number): number {
  let used = 0;
  let i = 0;
  while (i < chars.length && used + columnsOfChar(chars[i]!) <= max) used += columnsOfChar(chars[i++]!);
  return Math.max(1, i);
}

/** Cuts text to `max` columns, marking the cut with an ellipsis. */
function clip(text: string, max: number): string {
  if (length(text) <= max) return text;
  const chars = Array.from(text);
  return `${chars.slice(0, max <= 1 ? 0 : headThatFits(chars, max - 1)).join('')}…`;
}

/** Word-wraps to lines of at most `max` columns; a word longer than a line (or a Chinese sentence) is broken. */
export function wrapText(text: string, max: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.trim().split(/\s+/).filter(Boolean)) {
    let rest = word;
    if (line && length(line) + 1 + length(rest) <= max) {
      line = `${line} ${rest}`;
      continue;
    }
    if (line) lines.push(line);
    while (length(rest) > max) {
      const chars = Array.from(rest);
      const head = headThatFits(chars, max);
      lines.push(chars.slice(0, head).join(''));
      rest = chars.slice(head).join('');
    }
    line = rest;
  }
  if (line) lines.push(line);
  return lines;
}

/** Keeps the first `max` lines; when some are dropped the last kept line ends in an ellipsis. */
function limitLines(lines: string[], max: number, width: number): string[] {
  if (lines.length <= max) return lines;
  const kept = lines.slice(0, Math.max(0, max));
  const last = kept.pop();
  return last === undefined ? [] : [...kept, clip(`${last} …`, width)];
}

/** Numbers without float noise, so the output is byte-stable. */
function n(value: number): string {
  return String(Math.round(value * 10) / 10);
}

function text(x: number, y: number, size: number, fill: string, content: string, extra = ''): string {
  return `<text x="${n(x)}" y="${n(y)}" font-size="${n(size)}" fill="${fill}"${extra}>${escapeXml(content)}</text>`;
}

function dimension(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v < 120) throw new RangeError(`${name} must be a number of pixels, at least 120: ${v}`);
  return Math.round(v);
}

/**
 * The screen as an SVG document. The last line is the action (what the cashier does) when there is more than one
 * line, as renderAnomalyScreen lays them out; it is drawn bold in a tinted box at the bottom. Lines are wrapped to
 * the width; lines that do not fit the height are cut with an ellipsis.
 */
export function renderScreenSvg(screen: Screen, options: ScreenSvgOptions = {}): string {
  const width = dimension(options.width, SCREEN_WIDTH, 'width');
  const height = dimension(options.height, SCREEN_HEIGHT, 'height');
  const colours = SEVERITY_COLOURS[screen.severity];
  const inner = width - 2 * PAD;

  // Header: title on the left, the code badge on the right.
  const code = screen.code?.trim() ?? '';
  const badgeChars = Math.min(length(code), charsThatFit(inner / 2, BADGE_SIZE));
  const badgeText = clip(code, badgeChars);
  const badgeWidth = badgeText ? badgeChars * BADGE_SIZE * CHAR_WIDTH + 12 : 0;
  const badgeHeight = BADGE_SIZE + 10;
  const titleRoom = inner - (badgeWidth ? badgeWidth + 8 : 0);
  const title = clip(screen.title.replace(/\s+/g, ' ').trim(), charsThatFit(titleRoom, TITLE_SIZE));

  // Body and action lines.
  const [bodySource, actionSource] =
    screen.lines.length > 1 ? [screen.lines.slice(0, -1), screen.lines.at(-1)] : [screen.lines, undefined];
  const actionChars = charsThatFit(inner - 12, ACTION_SIZE);
  const actionLines = limitLines(wrapText(actionSource ?? '', actionChars), ACTION_MAX_LINES, actionChars);
  const actionStep = ACTION_SIZE * LINE_HEIGHT;
  const actionBox = actionLines.length ? actionLines.length * actionStep + 14 : 0;
  const actionTop = height - PAD - actionBox;

  const bodyChars = charsThatFit(inner, BODY_SIZE);
  const bodyStep = BODY_SIZE * LINE_HEIGHT;
  const bodyTop = HEADER_HEIGHT + PAD;
  const bodyRoom = (actionBox ? actionTop - 8 : height - PAD) - bodyTop;
  const bodyLines = limitLines(
    bodySource.flatMap((line) => wrapText(line, bodyChars)),
    Math.max(0, Math.floor(bodyRoom / bodyStep)),
    bodyChars,
  );

  const label = [code, screen.title].filter(Boolean).join(' ');
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"` +
      ` role="img" aria-label="${escapeXml(label)}" font-family="${FONT_FAMILY}">`,
    `  <title>${escapeXml(label)}</title>`,
    `  <rect x="0.5" y="0.5" width="${width - 1}" height="${height - 1}" rx="6" fill="${BACKGROUND}" stroke="${FRAME}"/>`,
    `  <path d="M0.5 6.5a6 6 0 0 1 6-6h${width - 13}a6 6 0 0 1 6 6v${HEADER_HEIGHT - 6.5}h-${width - 1}z" fill="${colours.fill}"/>`,
  ];
  const titleBaseline = HEADER_HEIGHT / 2 + TITLE_SIZE * 0.35;
  if (title) out.push(`  ${text(PAD, titleBaseline, TITLE_SIZE, colours.text, title, ' font-weight="bold"')}`);
  if (badgeText) {
    const bx = width - PAD - badgeWidth;
    const by = (HEADER_HEIGHT - badgeHeight) / 2;
    out.push(
      `  <rect x="${n(bx)}" y="${n(by)}" width="${n(badgeWidth)}" height="${n(badgeHeight)}" rx="4" fill="${colours.text}"/>`,
      `  ${text(bx + badgeWidth / 2, by + badgeHeight / 2 + BADGE_SIZE * 0.35, BADGE_SIZE, colours.fill, badgeText, ' font-weight="bold" text-anchor="middle"')}`,
    );
  }
  bodyLines.forEach((line, i) => {
    out.push(`  ${text(PAD, bodyTop + BODY_SIZE + i * bodyStep, BODY_SIZE, INK, line)}`);
  });
  if (actionLines.length) {
    out.push(
      `  <rect x="${PAD}" y="${n(actionTop)}" width="${inner}" height="${n(actionBox)}" fill="${colours.tint}"/>`,
      `  <rect x="${PAD}" y="${n(actionTop)}" width="4" height="${n(actionBox)}" fill="${colours.fill}"/>`,
    );
    actionLines.forEach((line, i) => {
      const y = actionTop + 7 + ACTION_SIZE + i * actionStep;
      out.push(`  ${text(PAD + 12, y, ACTION_SIZE, INK, line, ' font-weight="bold"')}`);
    });
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
