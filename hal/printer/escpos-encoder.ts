/**
 * ESC/POS encoder for receipt documents. Pure: a document in, printer bytes out. Text goes through the printer
 * model's profile (escpos-text.ts): its Latin code pages and Chinese mode; with no profile it is the ASCII profile,
 * which prints the same on every printer. Control characters are stripped, so content can never inject a command.
 *
 * Every text or rule line starts by setting alignment, emphasis and size explicitly, and each row selects the code
 * page or Chinese mode its characters need, so each line's bytes stand alone and the driver can send them in chunks.
 * Text longer than the line wraps at spaces or beside a Chinese character (a word longer than the line is broken);
 * Chinese characters take two columns; a rule is exactly the line's width of dashes.
 */
import type { ReceiptDocument, ReceiptLine } from './contract.js';
import { encodeRow, placeText, wrapPlaced } from './escpos-text.js';
import { ASCII_PROFILE, type PrinterModelProfile } from './model-profiles.js';

const ESC = 0x1b;
const GS = 0x1d;
const LF = 0x0a;

export const ESCPOS = {
  init: Buffer.from([ESC, 0x40]),
  /** GS V 66 0: feed to the cutting position, then cut. */
  cut: Buffer.from([GS, 0x56, 0x42, 0x00]),
  lineFeed: Buffer.from([LF]),
} as const;

/** Code 128 data per GS k 73 is at most 255 bytes including the 2-byte code-set prefix. */
const CODE128_MAX_ENCODED = 255;
/** Module width in dots; 2 is the smallest most thermal printers accept. */
const CODE128_MODULE_DOTS = 2;
/** Dots per character column at the normal font, to estimate the paper width from the column count. */
const DOTS_PER_COLUMN = 12;
/** Byte-mode QR data kept small enough (about version 19, error level M) to fit 58 mm paper at 4-dot modules. */
export const QR_MAX_BYTES = 600;
const QR_MODULE_DOTS = 4;
/** Error correction level M (~15% recovery): survives a crease or smudge on a receipt. */
const QR_ECC_M = 0x31;

export interface EncodedReceipt {
  /** ESC @: resets the printer's modes. */
  init: Buffer;
  /** One buffer per document line, in order (a long text line holds several printed rows). */
  lines: Buffer[];
  /** Barcode and cut, sent after the lines. */
  trailer: Buffer;
}

/** The whole document as one byte string. */
export function encodeReceipt(doc: ReceiptDocument, columns: number, profile?: PrinterModelProfile): Buffer {
  const parts = encodeReceiptParts(doc, columns, profile);
  return Buffer.concat([parts.init, ...parts.lines, parts.trailer]);
}

/**
 * The document split so a driver can send it a few lines at a time and check status in between. The profile is the
 * one given, else the one the document was stamped with (`withPrinterModel`), else plain ASCII.
 */
export function encodeReceiptParts(
  doc: ReceiptDocument,
  columns: number,
  profile: PrinterModelProfile = doc.printerModel ?? ASCII_PROFILE,
): EncodedReceipt {
  const cols = validColumns(columns);
  const trailer: Buffer[] = [];
  if (doc.barcode) trailer.push(encodeBarcode(doc.barcode.kind, doc.barcode.data, cols));
  if (doc.cut) trailer.push(ESCPOS.cut);
  return {
    init: ESCPOS.init,
    lines: doc.lines.map((line) => encodeLine(line, cols, profile)),
    trailer: Buffer.concat(trailer),
  };
}

export function encodeLine(line: ReceiptLine, columns: number, profile: PrinterModelProfile = ASCII_PROFILE): Buffer {
  const cols = validColumns(columns);
  if (line.kind === 'rule') {
    return Buffer.concat([style('left', false, false, false), ascii('-'.repeat(cols)), ESCPOS.lineFeed]);
  }
  const width = Math.max(1, Math.floor(cols / (line.doubleWidth ? 2 : 1)));
  const rows = wrapPlaced(placeText(line.text, profile), width);
  const body = rows.flatMap((row) => [encodeRow(row, profile), ESCPOS.lineFeed]);
  return Buffer.concat([
    style(line.align ?? 'left', line.bold ?? false, line.doubleHeight ?? false, line.doubleWidth ?? false),
    ...body,
  ]);
}

/** ESC a (alignment), ESC E (emphasis), GS ! (character size: 0x10 double width, 0x01 double height). */
function style(align: 'left' | 'center' | 'right', bold: boolean, doubleHeight: boolean, doubleWidth: boolean): Buffer {
  const a = align === 'center' ? 1 : align === 'right' ? 2 : 0;
  const size = (doubleWidth ? 0x10 : 0) | (doubleHeight ? 0x01 : 0);
  return Buffer.from([ESC, 0x61, a, ESC, 0x45, bold ? 1 : 0, GS, 0x21, size]);
}

/** Printable ASCII only (barcode data): as the ASCII profile prints a text, accents dropped, the rest '?'. */
export function toPrinterText(text: string): string {
  return placeText(text, ASCII_PROFILE)
    .map((c) => c.ch)
    .join('');
}

/**
 * Split into rows of at most `width` characters, breaking at the last space that fits. Spacing inside a row is kept,
 * since receipts align columns with spaces. An empty text is one empty row (a blank line).
 */
export function wrapText(text: string, width: number): string[] {
  return wrapPlaced(placeText(text, ASCII_PROFILE), width).map((row) => row.map((c) => c.ch).join(''));
}

function encodeBarcode(kind: 'code128' | 'qr', data: string, columns: number): Buffer {
  const text = toPrinterText(data);
  const encoded = kind === 'code128' ? encodeCode128(text, columns) : encodeQr(text);
  // A code that cannot be printed whole is printed as text rather than silently lost or truncated.
  const center = style('center', false, false, false);
  if (!encoded)
    return Buffer.concat([center, ...wrapText(text, columns).flatMap((row) => [ascii(row), ESCPOS.lineFeed])]);
  return Buffer.concat([center, encoded, ESCPOS.lineFeed]);
}

/** GS k 73 (CODE128) in code set B, human-readable text below; undefined when too long or too wide for the paper. */
function encodeCode128(text: string, columns: number): Buffer | undefined {
  if (text.length === 0) return undefined;
  // In the GS k data '{' starts a code-set or function escape, so a literal '{' is sent as '{{'.
  const payload = ascii(`{B${text.replace(/\{/g, '{{')}`);
  if (payload.length > CODE128_MAX_ENCODED) return undefined;
  // Start, data, check and stop symbols are 11 modules each, plus a 2-module termination bar.
  const modules = 11 * (text.length + 3) + 2;
  if (modules * CODE128_MODULE_DOTS > columns * DOTS_PER_COLUMN) return undefined;
  return Buffer.concat([
    Buffer.from([GS, 0x48, 0x02]), // HRI below
    Buffer.from([GS, 0x68, 80]), // height in dots
    Buffer.from([GS, 0x77, CODE128_MODULE_DOTS]),
    Buffer.from([GS, 0x6b, 73, payload.length]),
    payload,
  ]);
}

/** GS ( k, function 165 (model 2), 167 (module size), 169 (error level), 180 (store), 181 (print). */
function encodeQr(text: string): Buffer | undefined {
  const data = ascii(text);
  if (data.length === 0 || data.length > QR_MAX_BYTES) return undefined;
  const storeLen = data.length + 3;
  return Buffer.concat([
    Buffer.from([GS, 0x28, 0x6b, 0x04, 0x00, 0x31, 0x41, 0x32, 0x00]),
    Buffer.from([GS, 0x28, 0x6b, 0x03, 0x00, 0x31, 0x43, QR_MODULE_DOTS]),
    Buffer.from([GS, 0x28, 0x6b, 0x03, 0x00, 0x31, 0x45, QR_ECC_M]),
    Buffer.from([GS, 0x28, 0x6b, storeLen & 0xff, storeLen >> 8, 0x31, 0x50, 0x30]),
    data,
    Buffer.from([GS, 0x28, 0x6b, 0x03, 0x00, 0x31, 0x51, 0x30]),
  ]);
}

function ascii(text: string): Buffer {
  return Buffer.from(text, 'latin1');
}

function validColumns(columns: number): number {
  if (!Number.isInteger(columns) || columns < 1 || columns > 255) {
    throw new RangeError(`columns must be an integer from 1 to 255, got ${columns}`);
  }
  return columns;
}
