/**
 * The screen's first font: the 5×7 font of the `oled-font-5x7` package (ASCII, Ä Ö Ü ä ö ü, €, °), five column
 * bytes per glyph with bit 0 at the top. What it lacks is drawn from the GNU Unifont subset (unifont.ts: accented
 * letters, ß, Chinese); a character in neither is drawn as its base letter when Unicode decomposes it (the accent is
 * lost, the word stays readable), else as an empty box, so a missing glyph is visible rather than silently dropped.
 */
import { createRequire } from 'node:module';

type Font = typeof import('oled-font-5x7').default;
const font = createRequire(import.meta.url)('oled-font-5x7') as Font;

export const GLYPH_COLUMNS = font.width;
export const GLYPH_ROWS = font.height;

const glyphs = new Map<string, number[]>();
font.lookup.forEach((ch, i) => {
  glyphs.set(ch, font.fontData.slice(i * font.width, (i + 1) * font.width));
});

/** Column bytes of a character the font has. */
export function glyphColumns(ch: string): number[] | undefined {
  return glyphs.get(ch);
}

/** Column bytes of the base letter of a character Unicode decomposes (é → e), when the font has it. */
export function baseGlyphColumns(ch: string): number[] | undefined {
  const base = ch.normalize('NFD')[0];
  return base && base !== ch ? glyphs.get(base) : undefined;
}

/** Whether glyph `columns` has its pixel at (column, row) set. */
export function glyphPixel(columns: number[], column: number, row: number): boolean {
  return (((columns[column] ?? 0) >> row) & 1) === 1;
}
