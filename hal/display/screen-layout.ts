/**
 * Where everything of a screen goes: the one layout the SVG pictures (src/anomaly/picture.ts, `npm run screens`)
 * and the framebuffer driver (framebuffer.ts) both draw, so the terminal's screen looks like the pictures in
 * docs/screens. A header bar coloured by severity with the title and the code badge, the message lines, and the
 * action line (the last one, when there is more than one) emphasised in a tinted box at the bottom. Text is laid out
 * on a monospace grid: each character advances CHAR_WIDTH of its font size.
 */
import type { Screen } from './contract.js';

export const SCREEN_WIDTH = 320;
export const SCREEN_HEIGHT = 240;

/** Colours per severity: the header fill and a text colour readable on it (contrast at least 4.5:1). */
export const SEVERITY_COLOURS: Readonly<Record<Screen['severity'], { fill: string; text: string; tint: string }>> = {
  info: { fill: '#1d4ed8', text: '#ffffff', tint: '#eff6ff' },
  success: { fill: '#15803d', text: '#ffffff', tint: '#f0fdf4' },
  warning: { fill: '#f59e0b', text: '#111827', tint: '#fffbeb' },
  error: { fill: '#b91c1c', text: '#ffffff', tint: '#fef2f2' },
};

/** Advance width of a monospace glyph as a share of the font size (DejaVu Sans Mono and most others: ~0.6). */
export const CHAR_WIDTH = 0.6;
const LINE_HEIGHT = 1.35;
export const PAD = 12;
export const HEADER_HEIGHT = 44;
const TITLE_SIZE = 16;
const BADGE_SIZE = 12;
const BODY_SIZE = 14;
const ACTION_SIZE = 14;
const ACTION_MAX_LINES = 3;
export const INK = '#111827';
export const FRAME = '#9ca3af';
export const BACKGROUND = '#ffffff';

/** One line of text: x is where it starts (anchor start) or its centre (anchor middle), y its baseline. */
export interface TextRun {
  x: number;
  y: number;
  size: number;
  colour: string;
  text: string;
  bold: boolean;
  anchor: 'start' | 'middle';
}

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
  colour: string;
}

export interface ScreenLayout {
  width: number;
  height: number;
  /** Code and title, for an accessible name. */
  label: string;
  severity: Screen['severity'];
  headerColour: string;
  title: TextRun | undefined;
  badge: { box: Box; text: TextRun } | undefined;
  body: TextRun[];
  action: { box: Box; bar: Box; lines: TextRun[] } | undefined;
}

/** Characters of a monospace font of `size` px that fit in `width` px (at least one). */
function charsThatFit(width: number, size: number): number {
  return Math.max(1, Math.floor(width / (size * CHAR_WIDTH)));
}

/** A Chinese (or other full-width) character takes two columns of the monospace advance, as on a terminal. */
const WIDE = /[\p{Script=Han}\u3000-\u303f\uff00-\uff60\uffe0-\uffe6]/u;

export function columnsOfChar(ch: string): number {
  return WIDE.test(ch) ? 2 : 1;
}

/** The columns a text takes on the grid (characters, full-width ones counted twice). */
export function textLength(text: string): number {
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
  if (textLength(text) <= max) return text;
  const chars = Array.from(text);
  return `${chars.slice(0, max <= 1 ? 0 : headThatFits(chars, max - 1)).join('')}…`;
}

/** Word-wraps to lines of at most `max` columns; a word longer than a line (or a Chinese sentence) is broken. */
export function wrapText(text: string, max: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.trim().split(/\s+/).filter(Boolean)) {
    let rest = word;
    if (line && textLength(line) + 1 + textLength(rest) <= max) {
      line = `${line} ${rest}`;
      continue;
    }
    if (line) lines.push(line);
    while (textLength(rest) > max) {
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

function dimension(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v < 120) throw new RangeError(`${name} must be a number of pixels, at least 120: ${v}`);
  return Math.round(v);
}

/**
 * The screen laid out on a width × height surface. Lines are wrapped to the width; lines that do not fit the
 * height are cut with an ellipsis.
 */
export function layoutScreen(screen: Screen, size: { width?: number; height?: number } = {}): ScreenLayout {
  const width = dimension(size.width, SCREEN_WIDTH, 'width');
  const height = dimension(size.height, SCREEN_HEIGHT, 'height');
  const colours = SEVERITY_COLOURS[screen.severity];
  const inner = width - 2 * PAD;

  // Header: title on the left, the code badge on the right.
  const code = screen.code?.trim() ?? '';
  const badgeChars = Math.min(textLength(code), charsThatFit(inner / 2, BADGE_SIZE));
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

  const run = (x: number, y: number, size: number, colour: string, text: string, bold = false): TextRun => ({
    x,
    y,
    size,
    colour,
    text,
    bold,
    anchor: 'start',
  });
  let badge: ScreenLayout['badge'];
  if (badgeText) {
    const bx = width - PAD - badgeWidth;
    const by = (HEADER_HEIGHT - badgeHeight) / 2;
    badge = {
      box: { x: bx, y: by, width: badgeWidth, height: badgeHeight, colour: colours.text },
      text: {
        ...run(
          bx + badgeWidth / 2,
          by + badgeHeight / 2 + BADGE_SIZE * 0.35,
          BADGE_SIZE,
          colours.fill,
          badgeText,
          true,
        ),
        anchor: 'middle',
      },
    };
  }
  return {
    width,
    height,
    label: [code, screen.title].filter(Boolean).join(' '),
    severity: screen.severity,
    headerColour: colours.fill,
    title: title ? run(PAD, HEADER_HEIGHT / 2 + TITLE_SIZE * 0.35, TITLE_SIZE, colours.text, title, true) : undefined,
    badge,
    body: bodyLines.map((line, i) => run(PAD, bodyTop + BODY_SIZE + i * bodyStep, BODY_SIZE, INK, line)),
    action: actionLines.length
      ? {
          box: { x: PAD, y: actionTop, width: inner, height: actionBox, colour: colours.tint },
          bar: { x: PAD, y: actionTop, width: 4, height: actionBox, colour: colours.fill },
          lines: actionLines.map((line, i) =>
            run(PAD + 12, actionTop + 7 + ACTION_SIZE + i * actionStep, ACTION_SIZE, INK, line, true),
          ),
        }
      : undefined,
  };
}
