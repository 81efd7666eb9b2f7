/**
 * nexo OutputContent (Display and Print requests) as the lines the terminal shows or prints: Text with its styles,
 * XHTML reduced to its text, a bar code. MessageRef (predefined texts the register refers to by id) has no texts
 * here to refer to, and the bar codes the printer cannot draw are named, not guessed.
 */
import { isObject, type Json, NexoFormatError } from './fields.js';

export interface OutputLine {
  text: string;
  align?: 'left' | 'center' | 'right';
  bold?: boolean;
  doubleHeight?: boolean;
  doubleWidth?: boolean;
}

export type OutputParse =
  | { ok: true; lines: OutputLine[]; barcode?: { kind: 'code128' | 'qr'; data: string } }
  | { ok: false; unsupported: string };

/** More segments than any document the printer takes (the terminal bounds documents further). */
const MAX_SEGMENTS = 1000;
/** A register's XHTML document, decoded: larger is not a receipt. */
const MAX_XHTML_BYTES = 64 * 1024;

const ALIGN: Record<string, OutputLine['align']> = {
  Left: 'left',
  Justified: 'left',
  Centred: 'center',
  Right: 'right',
};
const BARCODES: Record<string, 'code128' | 'qr'> = { Code128: 'code128', QRCODE: 'qr' };

export function parseOutputContent(content: unknown, path: string): OutputParse {
  if (!isObject(content)) throw new NexoFormatError(path, 'expected an object');
  const format = content['OutputFormat'];
  switch (format) {
    case 'Text':
      return { ok: true, lines: textLines(content['OutputText'], `${path}.OutputText`) };
    case 'XHTML':
      return { ok: true, lines: xhtmlLines(content['OutputXHTML'], `${path}.OutputXHTML`) };
    case 'BarCode':
      return barcode(content['OutputBarcode'], `${path}.OutputBarcode`);
    case 'MessageRef':
      return { ok: false, unsupported: 'OutputFormat MessageRef' };
    default:
      throw new NexoFormatError(`${path}.OutputFormat`, 'expected Text, XHTML, BarCode or MessageRef');
  }
}

/** Each OutputText is a line, unless its EndOfLineFlag is false: then the next one continues it. */
function textLines(value: unknown, path: string): OutputLine[] {
  if (!Array.isArray(value) || value.length === 0) throw new NexoFormatError(path, 'expected a list of texts');
  if (value.length > MAX_SEGMENTS) throw new NexoFormatError(path, `more than ${MAX_SEGMENTS} texts`);
  const lines: OutputLine[] = [];
  let open: OutputLine | undefined;
  value.forEach((segment: unknown, i) => {
    if (!isObject(segment)) throw new NexoFormatError(`${path}[${i}]`, 'expected an object');
    const text = segment['Text'] ?? '';
    if (typeof text !== 'string') throw new NexoFormatError(`${path}[${i}].Text`, 'expected a text');
    if (open) open.text += text;
    else {
      open = { text, ...styleOf(segment) };
      lines.push(open);
    }
    if (segment['EndOfLineFlag'] !== false) open = undefined;
  });
  return lines;
}

function styleOf(segment: Json): Omit<OutputLine, 'text'> {
  const align = typeof segment['Alignment'] === 'string' ? ALIGN[segment['Alignment']] : undefined;
  return {
    ...(align ? { align } : {}),
    ...(segment['CharacterStyle'] === 'Bold' ? { bold: true } : {}),
    ...(segment['CharacterHeight'] === 'DoubleHeight' ? { doubleHeight: true } : {}),
    ...(segment['CharacterWidth'] === 'DoubleWidth' ? { doubleWidth: true } : {}),
  };
}

/** The text of a base64 XHTML document: block ends and <br> end lines, other tags go, entities are decoded. */
function xhtmlLines(value: unknown, path: string): OutputLine[] {
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/=\s]+$/.test(value))
    throw new NexoFormatError(path, 'expected base64 XHTML');
  const bytes = Buffer.from(value, 'base64');
  if (bytes.length > MAX_XHTML_BYTES) throw new NexoFormatError(path, `larger than ${MAX_XHTML_BYTES} bytes`);
  const text = bytes
    .toString('utf8')
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<\/(p|div|h[1-6]|li|tr)>/gi, '\n')
    .replace(/<[^>]*>/g, '')
    .replace(/&(amp|lt|gt|quot|apos|nbsp|#\d{1,5});/g, entity);
  const lines = text.split('\n').map((line) => line.trim());
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines.map((line) => ({ text: line }));
}

function entity(_: string, name: string): string {
  const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };
  return named[name] ?? String.fromCharCode(Number(name.slice(1)));
}

function barcode(value: unknown, path: string): OutputParse {
  if (!isObject(value)) throw new NexoFormatError(path, 'expected an object');
  const type = value['BarcodeType'];
  const data = value['BarcodeValue'];
  if (typeof data !== 'string' || data.length === 0 || data.length > 512)
    throw new NexoFormatError(`${path}.BarcodeValue`, 'expected a text of 1 to 512 characters');
  const kind = typeof type === 'string' ? BARCODES[type] : undefined;
  if (!kind) return { ok: false, unsupported: `BarcodeType ${typeof type === 'string' ? type : 'missing'}` };
  return { ok: true, lines: [], barcode: { kind, data } };
}
