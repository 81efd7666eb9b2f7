/**
 * An off-screen frame in the framebuffer's own pixel format, drawn with rectangles and bitmap text, then written to
 * the device in one go. Formats: 32 bits (XRGB8888, bytes B G R X: what fbdev drivers give for 32 bpp), 24 bits
 * (B G R) and 16 bits (RGB565, little endian).
 */
import { baseGlyphColumns, glyphColumns, glyphPixel, GLYPH_COLUMNS, GLYPH_ROWS } from './bitmap-font.js';
import {
  UNIFONT_ASCENT,
  UNIFONT_ROWS,
  type UnifontGlyph,
  unifontGlyph,
  unifontPixel,
  unifontScale,
} from './unifont.js';
import { CHAR_WIDTH, columnsOfChar, textLength, type Box, type TextRun } from './screen-layout.js';

export type BitsPerPixel = 16 | 24 | 32;

/** '#rrggbb' as 0xRRGGBB. */
export function parseColour(colour: string): number {
  const m = /^#([0-9a-f]{6})$/i.exec(colour);
  if (!m) throw new RangeError(`not a #rrggbb colour: ${colour}`);
  return Number.parseInt(m[1]!, 16);
}

/** 0xRRGGBB as the device would store it: RGB565 keeps the top 5/6/5 bits. */
export function quantise(rgb: number, bitsPerPixel: BitsPerPixel): number {
  if (bitsPerPixel !== 16) return rgb & 0xffffff;
  const r = (rgb >> 16) & 0xf8;
  const g = (rgb >> 8) & 0xfc;
  const b = rgb & 0xf8;
  return (r << 16) | (g << 8) | b;
}

export class FrameCanvas {
  readonly buffer: Buffer;
  private readonly bytes: number;

  constructor(
    readonly width: number,
    readonly height: number,
    readonly stride: number,
    readonly bitsPerPixel: BitsPerPixel,
  ) {
    this.bytes = bitsPerPixel / 8;
    if (stride < width * this.bytes) throw new RangeError(`stride ${stride} is shorter than a row of ${width} pixels`);
    this.buffer = Buffer.alloc(stride * height);
  }

  setPixel(x: number, y: number, rgb: number): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const at = y * this.stride + x * this.bytes;
    if (this.bitsPerPixel === 16) {
      const v = (((rgb >> 19) & 0x1f) << 11) | (((rgb >> 10) & 0x3f) << 5) | ((rgb >> 3) & 0x1f);
      this.buffer.writeUInt16LE(v, at);
      return;
    }
    this.buffer[at] = rgb & 0xff;
    this.buffer[at + 1] = (rgb >> 8) & 0xff;
    this.buffer[at + 2] = (rgb >> 16) & 0xff;
    if (this.bitsPerPixel === 32) this.buffer[at + 3] = 0xff;
  }

  fillRect(x: number, y: number, width: number, height: number, rgb: number): void {
    const x0 = Math.max(0, Math.round(x));
    const y0 = Math.max(0, Math.round(y));
    const x1 = Math.min(this.width, Math.round(x + width));
    const y1 = Math.min(this.height, Math.round(y + height));
    for (let py = y0; py < y1; py++) for (let px = x0; px < x1; px++) this.setPixel(px, py, rgb);
  }

  fillBox(box: Box): void {
    this.fillRect(box.x, box.y, box.width, box.height, parseColour(box.colour));
  }

  /** A one-pixel outline. */
  strokeRect(x: number, y: number, width: number, height: number, rgb: number): void {
    this.fillRect(x, y, width, 1, rgb);
    this.fillRect(x, y + height - 1, width, 1, rgb);
    this.fillRect(x, y, 1, height, rgb);
    this.fillRect(x + width - 1, y, 1, height, rgb);
  }

  /**
   * A line of text on the layout's monospace grid: each character in a cell of size × CHAR_WIDTH (two cells for a
   * wide one), the next character after its columns. A 5×7 glyph is scaled to its cell (one column of spacing) with
   * its bottom row on the baseline; a Unifont glyph (16 rows of 8 or 16 pixels) at a whole scale of the font size
   * (unifontScale), centred in its cells, its row 13 on the baseline.
   */
  drawText(run: TextRun): void {
    const rgb = parseColour(run.colour);
    const cell = run.size * CHAR_WIDTH;
    const start = run.anchor === 'middle' ? run.x - (textLength(run.text) * cell) / 2 : run.x;
    let column = 0;
    for (const ch of Array.from(run.text)) {
      const x0 = start + column * cell;
      const columns = columnsOfChar(ch);
      column += columns;
      if (ch === ' ') continue;
      const small = glyphColumns(ch);
      const unifont = small ? undefined : unifontGlyph(ch);
      if (unifont) this.drawUnifont(unifont, x0, columns * cell, run, rgb);
      else this.drawSmall(small ?? baseGlyphColumns(ch), x0, run, rgb);
    }
  }

  /** One scaled glyph pixel: the pixels whose centres fall inside it (the usual rasterisation rule). */
  private fillScaled(x0: number, top: number, sx: number, sy: number, c: number, r: number, rgb: number): void {
    const px = Math.round(x0 + c * sx);
    const py = Math.round(top + r * sy);
    const w = Math.max(1, Math.round(x0 + (c + 1) * sx) - px);
    const h = Math.max(1, Math.round(top + (r + 1) * sy) - py);
    this.fillRect(px, py, w, h, rgb);
  }

  private drawSmall(columns: number[] | undefined, x0: number, run: TextRun, rgb: number): void {
    const sx = (run.size * CHAR_WIDTH) / (GLYPH_COLUMNS + 1);
    const glyphHeight = Math.round(run.size * 0.7);
    const sy = glyphHeight / GLYPH_ROWS;
    const top = run.y - glyphHeight;
    if (!columns) {
      this.strokeRect(Math.round(x0 + sx / 2), Math.round(top), Math.round(GLYPH_COLUMNS * sx), glyphHeight, rgb);
      return;
    }
    // Bold smears each column one to the right (into the spacing column), on the glyph grid, not in pixels.
    const columnsDrawn = run.bold ? GLYPH_COLUMNS + 1 : GLYPH_COLUMNS;
    for (let c = 0; c < columnsDrawn; c++)
      for (let r = 0; r < GLYPH_ROWS; r++) {
        const on =
          (c < GLYPH_COLUMNS && glyphPixel(columns, c, r)) || (run.bold && c > 0 && glyphPixel(columns, c - 1, r));
        if (on) this.fillScaled(x0, top, sx, sy, c, r, rgb);
      }
  }

  /**
   * Unifont is drawn at a whole scale (1 up to a 24 px font, 2 from 24, ...): scaled by a fraction its 16 rows lose
   * strokes, and a Chinese character is no longer readable. The glyph is centred in its cells.
   */
  private drawUnifont(glyph: UnifontGlyph, x0: number, width: number, run: TextRun, rgb: number): void {
    const scale = unifontScale(run.size);
    const left = Math.round(x0 + (width - glyph.width * scale) / 2);
    const top = Math.round(run.y) - UNIFONT_ASCENT * scale;
    for (let c = 0; c < glyph.width; c++)
      for (let r = 0; r < UNIFONT_ROWS; r++) {
        // Bold smears each column one to the right, as for the 5×7 font (Unifont leaves a blank last column).
        const on = unifontPixel(glyph, c, r) || (run.bold && unifontPixel(glyph, c - 1, r));
        if (on) this.fillRect(left + c * scale, top + r * scale, scale, scale, rgb);
      }
  }
}
