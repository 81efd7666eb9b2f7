/**
 * The framebuffer display, judged from the pixels: a regular file of the right size stands in for /dev/fb0 (its
 * geometry in a fake /sys/class/graphics/fb0), and the test reads the frame back. Colours are read at places the
 * layout fixes; text is read back glyph by glyph from the 5×7 font's own table (oled-font-5x7) and the grid rule
 * (Unifont's glyphs, Chinese among them, in unifont.test.ts)
 * (a cell of size × 0.6 px, glyph height round(size × 0.7), bottom row on the baseline; bold smears each column one
 * to the right), without the driver's drawing code.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Screen } from '../../../hal/display/contract.js';
import { FramebufferDisplay, readFramebufferGeometry } from '../../../hal/display/framebuffer.js';
import { layoutScreen, SEVERITY_COLOURS, type TextRun } from '../../../hal/display/screen-layout.js';
import { DeviceFaultError } from '../../../hal/fault.js';

const font = createRequire(import.meta.url)('oled-font-5x7') as {
  width: number;
  height: number;
  fontData: number[];
  lookup: string[];
};

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pos-fb-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

interface Fb {
  path: string;
  sysfs: string;
  width: number;
  height: number;
  bpp: 16 | 32;
  stride: number;
}

/** A framebuffer file and its sysfs attributes, as the kernel shows them. */
function fakeFramebuffer(width: number, height: number, bpp: 16 | 32, stride = (width * bpp) / 8): Fb {
  const sysfs = join(dir, 'sys', 'fb0');
  const path = join(dir, 'fb0');
  mkdirSync(sysfs, { recursive: true });
  writeFileSync(join(sysfs, 'virtual_size'), `${width},${height}\n`);
  writeFileSync(join(sysfs, 'bits_per_pixel'), `${bpp}\n`);
  writeFileSync(join(sysfs, 'stride'), `${stride}\n`);
  writeFileSync(path, Buffer.alloc(stride * height));
  return { path, sysfs, width, height, bpp, stride };
}

/** The pixel at (x, y) of the frame in the file, as 0xRRGGBB (RGB565 widened by repeating its top bits' zeros). */
function pixelReader(fb: Fb): (x: number, y: number) => number {
  const frame = readFileSync(fb.path);
  return (x, y) => {
    const at = y * fb.stride + (x * fb.bpp) / 8;
    if (fb.bpp === 16) {
      const v = frame.readUInt16LE(at);
      return (((v >> 11) & 0x1f) << 19) | (((v >> 5) & 0x3f) << 10) | ((v & 0x1f) << 3);
    }
    return (frame[at + 2]! << 16) | (frame[at + 1]! << 8) | frame[at]!;
  };
}

const rgb = (hex: string) => Number.parseInt(hex.slice(1), 16);
const rgb565 = (hex: string) => rgb(hex) & 0xf8fcf8;

/** Glyph masks, 5 (or 6 when bold) columns × 7 rows, from the font's table: the reference the pixels are read against. */
function glyphMask(index: number, bold: boolean): string {
  const cols = font.fontData.slice(index * font.width, (index + 1) * font.width);
  const on = (c: number, r: number) => c >= 0 && c < font.width && ((cols[c]! >> r) & 1) === 1;
  let mask = '';
  for (let r = 0; r < font.height; r++)
    for (let c = 0; c < font.width + 1; c++) mask += on(c, r) || (bold && on(c - 1, r)) ? '#' : '.';
  return mask;
}

/** Reads a laid-out line of text back from the pixels: '□' for a cell drawn as a box, '?' for an unknown one. */
function readText(pixel: (x: number, y: number) => number, run: TextRun, ink: number, length: number): string {
  const cell = run.size * 0.6;
  const sx = cell / (font.width + 1);
  const gh = Math.round(run.size * 0.7);
  const sy = gh / font.height;
  const start = run.anchor === 'middle' ? run.x - (length * cell) / 2 : run.x;
  const top = run.y - gh;
  let out = '';
  for (let i = 0; i < length; i++) {
    const x0 = start + i * cell;
    let mask = '';
    for (let r = 0; r < font.height; r++)
      for (let c = 0; c < font.width + 1; c++)
        mask += pixel(Math.floor(x0 + (c + 0.5) * sx), Math.floor(top + (r + 0.5) * sy)) === ink ? '#' : '.';
    if (!mask.includes('#')) {
      out += ' ';
      continue;
    }
    const index = font.lookup.findIndex((_, k) => glyphMask(k, run.bold) === mask);
    if (index >= 0) {
      out += font.lookup[index];
      continue;
    }
    // A box: its outline's left and right edges are set on every glyph row.
    const left = pixel(Math.round(x0 + sx / 2), Math.floor(top + gh / 2)) === ink;
    out += left ? '□' : '?';
  }
  return out;
}

const paperOut: Screen = {
  title: 'Paper out',
  code: 'E301',
  severity: 'error',
  lines: ['The printer is out of paper', 'Load a new paper roll, then reprint'],
};

describe('readFramebufferGeometry', () => {
  it('reads virtual_size, bits_per_pixel and stride as the kernel writes them', async () => {
    const fb = fakeFramebuffer(480, 272, 16, 1024);
    expect(await readFramebufferGeometry(fb.sysfs)).toEqual({
      width: 480,
      height: 272,
      bitsPerPixel: 16,
      stride: 1024,
    });
  });

  it('refuses a geometry it cannot draw', async () => {
    const fb = fakeFramebuffer(320, 240, 32);
    writeFileSync(join(fb.sysfs, 'bits_per_pixel'), '8\n');
    await expect(readFramebufferGeometry(fb.sysfs)).rejects.toThrow(/8 bits per pixel/);
    writeFileSync(join(fb.sysfs, 'bits_per_pixel'), '32\n');
    writeFileSync(join(fb.sysfs, 'stride'), '640\n');
    await expect(readFramebufferGeometry(fb.sysfs)).rejects.toThrow(/stride 640/);
    writeFileSync(join(fb.sysfs, 'virtual_size'), '320x240\n');
    await expect(readFramebufferGeometry(fb.sysfs)).rejects.toThrow(/virtual_size/);
  });
});

describe('FramebufferDisplay', () => {
  it('draws the picture layout at 32 bpp: colours where the layout puts them, and the text read back', async () => {
    const fb = fakeFramebuffer(320, 240, 32);
    const display = await FramebufferDisplay.open({ path: fb.path, sysfsDir: fb.sysfs });
    expect(display.geometry).toEqual({ width: 320, height: 240, bitsPerPixel: 32, stride: 1280 });
    await display.show(paperOut);
    const pixel = pixelReader(fb);
    const layout = layoutScreen(paperOut, { width: 320, height: 240 });
    const colours = SEVERITY_COLOURS.error;

    expect(pixel(0, 120)).toBe(rgb('#9ca3af')); // frame
    expect(pixel(200, 4)).toBe(rgb(colours.fill)); // header, clear of title and badge
    expect(pixel(160, 150)).toBe(rgb('#ffffff')); // body background
    const badge = layout.badge!.box;
    expect(pixel(Math.ceil(badge.x) + 1, Math.ceil(badge.y) + 1)).toBe(rgb(colours.text));
    const action = layout.action!;
    expect(pixel(action.bar.x + 1, Math.ceil(action.bar.y) + 2)).toBe(rgb(colours.fill));
    expect(pixel(action.box.x + action.box.width - 3, Math.ceil(action.box.y) + 2)).toBe(rgb(colours.tint));

    expect(readText(pixel, layout.title!, rgb(colours.text), 9)).toBe('Paper out');
    expect(readText(pixel, layout.badge!.text, rgb(colours.fill), 4)).toBe('E301');
    expect(readText(pixel, layout.body[0]!, rgb('#111827'), 27)).toBe('The printer is out of paper');
    const actionText = action.lines.map((l) => readText(pixel, l, rgb('#111827'), Array.from(l.text).length));
    expect(actionText).toEqual(['Load a new paper roll, then', 'reprint']);
    await display.close();
  });

  it('uses the device geometry: a 480×272 RGB565 panel with padded rows', async () => {
    const fb = fakeFramebuffer(480, 272, 16, 1024);
    const display = await FramebufferDisplay.open({ path: fb.path, sysfsDir: fb.sysfs });
    const ready: Screen = { title: 'Ready', severity: 'success', lines: ['Insert, tap or swipe card'] };
    await display.show(ready);
    const pixel = pixelReader(fb);
    const layout = layoutScreen(ready, { width: 480, height: 272 });
    expect(pixel(470, 4)).toBe(rgb565(SEVERITY_COLOURS.success.fill));
    expect(pixel(479, 200)).toBe(rgb565('#9ca3af'));
    expect(layout.action).toBeUndefined();
    expect(readText(pixel, layout.title!, rgb565('#ffffff'), 5)).toBe('Ready');
    expect(readText(pixel, layout.body[0]!, rgb565('#111827'), 25)).toBe('Insert, tap or swipe card');
    // The padding past each row (bytes 960..1023) is left alone.
    const frame = readFileSync(fb.path);
    expect(frame.subarray(960, 1024).every((b) => b === 0)).toBe(true);
    await display.close();
  });

  it('draws € and umlauts from the 5×7 font, ā (in no font) as a, and a character in no font as a box', async () => {
    const fb = fakeFramebuffer(320, 240, 32);
    const display = await FramebufferDisplay.open({ path: fb.path, width: 320, height: 240, bitsPerPixel: 32 });
    const screen: Screen = { title: 'Kāfe 3,50 €', severity: 'info', lines: ['Grün ☃ Öl'] };
    await display.show(screen);
    const pixel = pixelReader(fb);
    const layout = layoutScreen(screen);
    expect(readText(pixel, layout.title!, rgb('#ffffff'), 11)).toBe('Kafe 3,50 €');
    expect(readText(pixel, layout.body[0]!, rgb('#111827'), 9)).toBe('Grün □ Öl');
    await display.close();
  });

  it('blanks the screen on clear', async () => {
    const fb = fakeFramebuffer(320, 240, 32);
    const display = await FramebufferDisplay.open({ path: fb.path, sysfsDir: fb.sysfs });
    await display.show(paperOut);
    await display.clear();
    const frame = readFileSync(fb.path);
    const lit = [];
    for (let i = 0; i < frame.length; i += 4) if ((frame.readUInt32LE(i) & 0xffffff) !== 0) lit.push(i);
    expect(lit).toEqual([]);
    await display.close();
  });

  it('a display that cannot be written is offline, and is drawn on again once it is back', async () => {
    const fb = fakeFramebuffer(320, 240, 32);
    const display = await FramebufferDisplay.open({ path: fb.path, sysfsDir: fb.sysfs });
    rmSync(fb.path);
    const err = await display.show(paperOut).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeviceFaultError);
    expect(err).toMatchObject({ device: 'display', code: 'offline', detail: { errno: 'ENOENT' } });
    writeFileSync(fb.path, Buffer.alloc(fb.stride * fb.height));
    await display.show(paperOut);
    expect(pixelReader(fb)(200, 4)).toBe(rgb(SEVERITY_COLOURS.error.fill));
    await display.close();
  });
});
