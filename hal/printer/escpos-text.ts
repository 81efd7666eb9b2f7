/**
 * Receipt text to the bytes a printer model prints it from. Each character goes to the first place that has it:
 * ASCII as itself, then the model's Latin code pages (ESC t n), then its Chinese mode (FS &, double-byte GB18030);
 * what none has is printed without its accents when that leaves ASCII ("é" as "e"), else as '?'. The byte mapping
 * is iconv-lite's tables, not ours.
 *
 * A row starts from no assumption about the printer's mode: the first run that needs a mode selects it, so each
 * row's bytes stand alone (the driver sends rows in chunks, and a reprint can start anywhere).
 */
import iconv from 'iconv-lite';
import type { PrinterModelProfile } from './model-profiles.js';

const ESC = 0x1b;
const FS = 0x1c;

export const ESCPOS_TEXT = {
  /** FS &: enter the Chinese (Kanji) double-byte mode. */
  chineseOn: Buffer.from([FS, 0x26]),
  /** FS .: leave it; bytes from 0x80 then print from the ESC t code page. */
  chineseOff: Buffer.from([FS, 0x2e]),
  /** ESC t n: select code page n of the model's table. */
  codePage: (n: number) => Buffer.from([ESC, 0x74, n]),
} as const;

/** One printable character, placed: how the printer gets it and how many columns it takes. */
export interface PlacedChar {
  ch: string;
  /** 'ascii'; 'chinese'; or the ESC t number of the Latin code page that has it. */
  place: 'ascii' | 'chinese' | number;
  bytes: Buffer;
  /** Chinese characters are full width: two columns of the normal font. */
  columns: 1 | 2;
}

const cache = new Map<string, Buffer | null>();

/** The bytes of one character in an iconv-lite encoding, or null when the encoding does not have it. */
function encodeIn(ch: string, encoding: string): Buffer | null {
  const key = `${encoding}\u0000${ch}`;
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const bytes = iconv.encode(ch, encoding);
  // iconv-lite writes '?' for what a table lacks; '?' itself is ASCII and never asked here.
  const found = bytes.length === 0 || (bytes.length === 1 && bytes[0] === 0x3f) ? null : bytes;
  cache.set(key, found);
  return found;
}

/** The ASCII a character folds to without its marks ("é" "e", "Ö" "O"), or '?' when that is not ASCII. */
function fold(ch: string): string {
  if (ch === '€') return 'EUR';
  const bare = ch.normalize('NFD').replace(/\p{M}/gu, '');
  return /^[\x20-\x7e]+$/.test(bare) ? bare : '?';
}

function ascii(ch: string): PlacedChar {
  return { ch, place: 'ascii', bytes: Buffer.from(ch, 'latin1'), columns: 1 };
}

/**
 * The characters of a text as the model prints them. Whitespace controls become a space (a newline in a field
 * should not glue words together); other control characters are dropped, so content can never inject a command.
 */
export function placeText(text: string, profile: PrinterModelProfile): PlacedChar[] {
  const out: PlacedChar[] = [];
  for (const ch of text.normalize('NFC')) {
    const code = ch.codePointAt(0) ?? 0;
    if (code >= 0x20 && code <= 0x7e) {
      out.push(ascii(ch));
      continue;
    }
    if (code === 0x09 || code === 0x0a || code === 0x0b || code === 0x0c || code === 0x0d) {
      out.push(ascii(' '));
      continue;
    }
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) continue;
    const placed = placeWide(ch, profile);
    if (placed) out.push(placed);
    else for (const c of fold(ch)) out.push(ascii(c));
  }
  return out;
}

function placeWide(ch: string, profile: PrinterModelProfile): PlacedChar | undefined {
  for (const page of profile.latin) {
    const bytes = encodeIn(ch, page.encoding);
    if (bytes?.length === 1) return { ch, place: page.escT, bytes, columns: 1 };
  }
  if (!profile.chinese) return undefined;
  const bytes = encodeIn(ch, profile.chinese.encoding);
  // A one-byte answer from the Chinese table would be a control or ASCII byte: never a glyph of that mode.
  if (!bytes || bytes.length < 2) return undefined;
  return { ch, place: 'chinese', bytes, columns: 2 };
}

/** The columns a placed text takes on paper. */
export function columnsOf(chars: readonly PlacedChar[]): number {
  return chars.reduce((sum, c) => sum + c.columns, 0);
}

/** The bytes of one printed row: each run of a code page or of Chinese preceded by the command that selects it. */
export function encodeRow(chars: readonly PlacedChar[], profile: PrinterModelProfile): Buffer {
  const parts: Buffer[] = [];
  let mode: 'unknown' | 'chinese' | number = 'unknown';
  for (const c of chars) {
    if (c.place === 'chinese' && mode !== 'chinese') {
      parts.push(ESCPOS_TEXT.chineseOn);
      mode = 'chinese';
    } else if (typeof c.place === 'number' && mode !== c.place) {
      // Leaving Chinese mode only on a model that has one: others would print the FS bytes' neighbours.
      if (profile.chinese) parts.push(ESCPOS_TEXT.chineseOff);
      parts.push(ESCPOS_TEXT.codePage(c.place));
      mode = c.place;
    }
    parts.push(c.bytes);
  }
  return Buffer.concat(parts);
}

/**
 * Split into rows of at most `width` columns, breaking at the last space that fits or beside a Chinese character
 * (Chinese has no spaces between words). Spacing inside a row is kept, since receipts align columns with spaces.
 * A word longer than the row is broken; an empty text is one empty row (a blank line).
 */
export function wrapPlaced(chars: readonly PlacedChar[], width: number): PlacedChar[][] {
  const w = Math.max(1, Math.floor(width));
  const rows: PlacedChar[][] = [];
  let rest = chars.slice();
  while (columnsOf(rest) > w) {
    let fit = 0;
    let used = 0;
    while (fit < rest.length && used + rest[fit]!.columns <= w) used += rest[fit++]!.columns;
    if (fit === 0) fit = 1;
    let breakAt = 0;
    let atSpace = false;
    for (let i = fit; i > 0; i--) {
      if (rest[i]?.ch === ' ') {
        breakAt = i;
        atSpace = true;
        break;
      }
      if (rest[i - 1]!.columns === 2 || (i < rest.length && rest[i]!.columns === 2)) {
        breakAt = i;
        break;
      }
    }
    const head = trimEndSpaces(rest.slice(0, breakAt));
    if (breakAt > 0 && head.length > 0) {
      rows.push(head);
      rest = rest.slice(breakAt);
      if (atSpace || rest[0]?.ch === ' ') rest = trimStartSpaces(rest);
    } else {
      rows.push(rest.slice(0, fit));
      rest = rest.slice(fit);
    }
  }
  if (rest.length > 0 || rows.length === 0) rows.push(rest);
  return rows;
}

function trimEndSpaces(chars: PlacedChar[]): PlacedChar[] {
  let end = chars.length;
  while (end > 0 && chars[end - 1]!.ch === ' ') end--;
  return chars.slice(0, end);
}

function trimStartSpaces(chars: PlacedChar[]): PlacedChar[] {
  let start = 0;
  while (start < chars.length && chars[start]!.ch === ' ') start++;
  return chars.slice(start);
}
