/**
 * What a printer model can print beyond ASCII: its Latin code pages (by the ESC t number of its own table) and its
 * Chinese mode. ESC/POS printers take no Unicode: each model numbers its code pages its own way, and Chinese is a
 * double-byte mode entered with FS & and left with FS . (Epson's "Kanji mode"; GB18030 on the Simplified Chinese
 * models and on the Chinese 58 mm printers, which are in that mode from power-on).
 */

/** A single-byte code page as iconv-lite names it, with the number ESC t selects it by on this model. */
export interface LatinCodePage {
  /** iconv-lite encoding name: 'cp858' (PC858: CP850 with €), 'cp1252' (WPC1252). */
  encoding: 'cp858' | 'cp1252' | 'cp437' | 'cp850';
  /** n of ESC t n in this model's table. */
  escT: number;
}

export interface PrinterModelProfile {
  /** The name the configuration uses (`hal.printer.model`). */
  name: string;
  /** Latin code pages in order of preference; the first that has a character prints it. */
  latin: readonly LatinCodePage[];
  /** The double-byte Chinese mode, absent when the model has none (Chinese then prints as '?'). */
  chinese?: {
    /** 'gb18030' takes every character (4-byte sequences too); 'gbk' only the 2-byte ones a GBK font holds. */
    encoding: 'gb18030' | 'gbk';
    /** Whether the model is in Chinese mode after power-on and ESC @ (the Chinese printers are). */
    activeAfterInit: boolean;
  };
}

/** Plain ASCII: what every ESC/POS printer prints the same. Accented letters are printed without their accents. */
export const ASCII_PROFILE: PrinterModelProfile = Object.freeze({ name: 'ascii', latin: [] });

/**
 * The profiles the configuration can name. Numbers of ESC t from the vendors' command references: Epson's table has
 * PC437 at 0, PC850 at 2, WPC1252 at 16 and PC858 at 19; the Chinese 58 mm printers (Xprinter, GOOJPRT, Rongta and
 * the like) follow the same numbering for those pages.
 */
export const PRINTER_MODEL_NAMES = ['ascii', 'epson-tm-t88', 'epson-tm-t88-chinese', 'generic-chinese-58mm'] as const;
export type PrinterModelName = (typeof PRINTER_MODEL_NAMES)[number];

export const PRINTER_MODEL_PROFILES: Readonly<Record<PrinterModelName, PrinterModelProfile>> = Object.freeze({
  ascii: ASCII_PROFILE,
  /** Epson TM-T88 (IV to VII), international firmware: Latin code pages, no Chinese font. */
  'epson-tm-t88': {
    name: 'epson-tm-t88',
    latin: [
      { encoding: 'cp858', escT: 19 },
      { encoding: 'cp1252', escT: 16 },
    ],
  },
  /** Epson TM-T88 Simplified Chinese models: the same Latin pages and GB18030 in Kanji mode (FS &). */
  'epson-tm-t88-chinese': {
    name: 'epson-tm-t88-chinese',
    latin: [
      { encoding: 'cp858', escT: 19 },
      { encoding: 'cp1252', escT: 16 },
    ],
    chinese: { encoding: 'gb18030', activeAfterInit: false },
  },
  /** Generic Chinese 58 mm thermal printer: GB18030 native (Chinese mode from power-on), WPC1252 for € text. */
  'generic-chinese-58mm': {
    name: 'generic-chinese-58mm',
    latin: [
      { encoding: 'cp1252', escT: 16 },
      { encoding: 'cp858', escT: 19 },
    ],
    chinese: { encoding: 'gb18030', activeAfterInit: true },
  },
});

/** The profile named in the configuration; an unknown name is a RangeError (the schema refuses it first). */
export function printerModelProfile(name: string): PrinterModelProfile {
  const profile = (PRINTER_MODEL_PROFILES as Readonly<Record<string, PrinterModelProfile | undefined>>)[name];
  if (!profile) throw new RangeError(`unknown printer model "${name}": one of ${PRINTER_MODEL_NAMES.join(', ')}`);
  return profile;
}
