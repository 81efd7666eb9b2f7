// oled-font-5x7 ships no types: a 5×7 font, five column bytes per glyph (bit 0 the top row), in lookup order.
declare module 'oled-font-5x7' {
  const font: { monospace: boolean; width: number; height: number; fontData: number[]; lookup: string[] };
  export default font;
}
