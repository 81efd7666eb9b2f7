/**
 * The display's Unifont subset and its Chinese: the committed subset (hal/display/unifont-glyphs.ts) holds every
 * character of every catalogue string, its bitmaps are GNU Unifont's own, and a Chinese screen drawn into a
 * framebuffer file shows each glyph's bitmap, pixel for pixel at the grid rule (a whole scale, centred in its cells,
 * two cells of size × 0.6 px for a wide glyph, row 13 on the baseline), the next character two columns on.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Screen } from '../../../hal/display/contract.js';
import { FramebufferDisplay } from '../../../hal/display/framebuffer.js';
import { layoutScreen, SEVERITY_COLOURS, type TextRun } from '../../../hal/display/screen-layout.js';
import { UNIFONT_HEX } from '../../../hal/display/unifont-glyphs.js';
import { anomalyByName, renderAnomalyScreen } from '../../../src/anomaly/taxonomy.js';
import { LANGUAGES, messagesFor } from '../../../src/i18n/index.js';

const SYSTEM_HEX = '/usr/share/unifont/unifont.hex';

/** The committed subset, read as Unifont hex entries: code point → bitmap digits. */
function committed(): Map<number, string> {
  const map = new Map<number, string>();
  for (const entry of UNIFONT_HEX.split(/\s+/).filter(Boolean)) {
    const [code, bitmap] = entry.split(':');
    map.set(Number.parseInt(code!, 16), bitmap!);
  }
  return map;
}

/** Every text of a catalogue, parameterised ones called with samples (both branches of a count). */
function texts(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (typeof value === 'function')
    return [1, 2, 'E301'].map((x) => String((value as (x: never) => unknown)(x as never)));
  if (value && typeof value === 'object') return Object.values(value).flatMap(texts);
  return [];
}

describe('the committed Unifont subset', () => {
  it('holds every character of every catalogue string (a new translation needs npm run glyphs)', () => {
    const subset = committed();
    const missing = new Set<string>();
    for (const language of LANGUAGES)
      for (const text of texts(messagesFor(language)))
        for (const ch of text) if (ch !== ' ' && !subset.has(ch.codePointAt(0)!)) missing.add(`${language} ${ch}`);
    expect([...missing]).toEqual([]);
  });

  it('holds printable ASCII and Latin-1', () => {
    const subset = committed();
    for (let cp = 0x21; cp <= 0xff; cp++)
      if (cp <= 0x7e || cp >= 0xa0) expect(subset.has(cp), cp.toString(16)).toBe(true);
  });

  it.skipIf(!existsSync(SYSTEM_HEX))("has GNU Unifont's own bitmaps", () => {
    const unifont = new Map(
      readFileSync(SYSTEM_HEX, 'ascii')
        .split('\n')
        .map((l) => l.trim().split(':') as [string, string])
        .map(([c, b]) => [Number.parseInt(c, 16), b]),
    );
    for (const [cp, bitmap] of committed()) expect(bitmap, cp.toString(16)).toBe(unifont.get(cp));
  });
});

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pos-fb-unifont-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A 320×240 XRGB8888 framebuffer file, and its pixel reader as 0xRRGGBB. */
async function drawn(screen: Screen): Promise<(x: number, y: number) => number> {
  const path = join(dir, 'fb0');
  writeFileSync(path, Buffer.alloc(320 * 240 * 4));
  const display = await FramebufferDisplay.open({ path, width: 320, height: 240, bitsPerPixel: 32 });
  await display.show(screen);
  await display.close();
  const frame = readFileSync(path);
  return (x, y) => {
    const at = (y * 320 + x) * 4;
    return (frame[at + 2]! << 16) | (frame[at + 1]! << 8) | frame[at]!;
  };
}

/** The 16 rows of a glyph as '#'/'.' strings, from the hex digits (high bit leftmost). */
function bitmapRows(hex: string): string[] {
  const digits = hex.length / 16;
  return Array.from({ length: 16 }, (_, r) =>
    Number.parseInt(hex.slice(r * digits, (r + 1) * digits), 16)
      .toString(2)
      .padStart(digits * 4, '0')
      .replace(/1/g, '#')
      .replace(/0/g, '.'),
  );
}

/**
 * Reads the glyph at grid column `column` of a run back as rows. The rule: a whole scale, round(size / 16) and at
 * least 1; the glyph centred in its cells (one, or two for a wide one, of size × 0.6 px); row 13 on the baseline.
 */
function readGlyph(pixel: (x: number, y: number) => number, run: TextRun, column: number, wide: boolean, ink: number) {
  const cell = run.size * 0.6;
  const width = wide ? 16 : 8;
  const scale = Math.max(1, Math.round(run.size / 16));
  const left = Math.round(run.x + column * cell + ((wide ? 2 : 1) * cell - width * scale) / 2);
  const top = Math.round(run.y) - 14 * scale;
  return Array.from({ length: 16 }, (_, r) => {
    let row = '';
    for (let c = 0; c < width; c++) row += pixel(left + c * scale, top + r * scale) === ink ? '#' : '.';
    return row;
  });
}

describe('a Chinese screen on the framebuffer', () => {
  const subset = committed();
  const hexOf = (ch: string) => subset.get(ch.codePointAt(0)!)!;

  it('draws each Chinese glyph of the body as its Unifont bitmap, two columns wide', async () => {
    const screen = renderAnomalyScreen(anomalyByName('printer-paper-out'), { language: 'zh-CN' });
    expect(screen.lines[0]).toBe('打印机缺纸');
    const pixel = await drawn(screen);
    const body = layoutScreen(screen).body[0]!;
    expect(body.anchor).toBe('start');
    const ink = 0x111827;
    Array.from('打印机缺纸').forEach((ch, i) => {
      expect(readGlyph(pixel, body, 2 * i, true, ink), ch).toEqual(bitmapRows(hexOf(ch)));
    });
  });

  it('advances by the glyph width: after two wide glyphs the next character is four columns on', async () => {
    const screen: Screen = { title: 'x', severity: 'info', lines: ['缺纸é'] };
    const pixel = await drawn(screen);
    const body = layoutScreen(screen).body[0]!;
    const ink = 0x111827;
    expect(readGlyph(pixel, body, 2, true, ink)).toEqual(bitmapRows(hexOf('纸')));
    expect(readGlyph(pixel, body, 4, false, ink)).toEqual(bitmapRows(hexOf('é')));
  });

  it('draws the Chinese title in the header colours, bold', async () => {
    const screen = renderAnomalyScreen(anomalyByName('printer-paper-out'), { language: 'zh-CN' });
    const pixel = await drawn(screen);
    const title = layoutScreen(screen).title!;
    expect(title.bold).toBe(true);
    const ink = Number.parseInt(SEVERITY_COLOURS.error.text.slice(1), 16);
    // Bold smears each bitmap column one to the right.
    const smeared = bitmapRows(hexOf('缺')).map((row) =>
      Array.from(row, (c, i) => (c === '#' || (i > 0 && row[i - 1] === '#') ? '#' : '.')).join(''),
    );
    expect(readGlyph(pixel, title, 0, true, ink)).toEqual(smeared);
  });
});
