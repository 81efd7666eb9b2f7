/**
 * ISO 8583 (1987) codec, driven by the field table in fields.ts.
 *
 * Wire encoding:
 * - MTI: 4 ASCII digits.
 * - Primary bitmap: 8 binary bytes, most significant bit of the first byte = field 1.
 *   Field 1 set => an 8-byte binary secondary bitmap (fields 65..128) follows. It is present
 *   if and only if some field 65..128 is present; unpack rejects an empty secondary bitmap so
 *   that every accepted frame re-packs to the same bytes.
 * - Field 65 (tertiary bitmap) is not supported: its bit set on unpack is 'bad-bitmap'.
 * - Fields follow in ascending number order, each encoded as:
 *   - n: ASCII digits. Fixed n is left-padded with '0' on pack.
 *   - a / an / ans: ASCII characters (a = letters and space; an = letters, digits and space;
 *     ans = printable 0x20..0x7E). Fixed ones are right-padded with spaces on pack.
 *   - z (track data): ASCII characters from [0-9=D].
 *   - x+n: 'C' (credit) or 'D' (debit) then n digits, fixed total length 1+n; the digits are
 *     left-padded with '0' on pack.
 *   - b: raw bytes. Fixed binary lengths are in bytes (b64 = 8 bytes) and must be exact.
 *   - LLVAR / LLLVAR: 2 / 3 ASCII digit length prefix before the value; it counts bytes for
 *     binary fields and characters otherwise (the same thing, as all characters are ASCII).
 * - Nothing may follow the last field.
 *
 * Unpack returns values as they are on the wire (padding kept), so unpack(x) re-packs to x.
 * Errors are always Iso8583Error, with the field number and byte offset at fault.
 */
import { Iso8583Error, describeChar } from './errors.js';
import { FIELDS, type FieldSpec, type FieldType } from './fields.js';
import type { FieldValue, IsoMessage } from './types.js';

const MTI_LENGTH = 4;
const BITMAP_LENGTH = 8;

// Per-class lookup tables: allowed[code] === 1 when the byte is valid in that class.
function charTable(test: (c: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let c = 0; c < 256; c++) t[c] = test(c) ? 1 : 0;
  return t;
}
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isAlpha = (c: number): boolean => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
const DIGITS = charTable(isDigit);
const CLASS_TABLES: Record<Exclude<FieldType, 'b'>, Uint8Array> = {
  n: DIGITS,
  a: charTable((c) => isAlpha(c) || c === 0x20),
  an: charTable((c) => isAlpha(c) || isDigit(c) || c === 0x20),
  ans: charTable((c) => c >= 0x20 && c <= 0x7e),
  z: charTable((c) => isDigit(c) || c === 0x3d /* = */ || c === 0x44 /* D */),
  // Only the digits after the sign; the sign is checked separately.
  'x+n': DIGITS,
};
const CLASS_NAMES: Record<Exclude<FieldType, 'b'>, string> = {
  n: 'numeric',
  a: 'alphabetic',
  an: 'alphanumeric',
  ans: 'printable',
  z: 'track',
  'x+n': 'signed amount',
};
const SIGN_C = 0x43;
const SIGN_D = 0x44;

function badCharDetail(c: number, type: Exclude<FieldType, 'b'>): string {
  const what = type === 'n' || type === 'x+n' ? 'non-numeric character' : 'character';
  return `${what} ${describeChar(c)} in ${CLASS_NAMES[type]} field`;
}

function prefixLength(spec: FieldSpec): number {
  return spec.length === 'fixed' ? 0 : spec.length === 'llvar' ? 2 : 3;
}

function spec(n: number): FieldSpec {
  // Callers only pass 2..128, all of which are in the table.
  return FIELDS[n - 1] as FieldSpec;
}

// ---------------------------------------------------------------- pack

interface Planned {
  n: number;
  spec: FieldSpec;
  value: FieldValue;
  offset: number; // where the field (prefix included) starts in the output
}

export function pack(msg: IsoMessage): Buffer {
  if (msg === null || typeof msg !== 'object') {
    throw new Iso8583Error('bad-format', 'message must be an object', 0);
  }
  const mti: unknown = msg.mti;
  if (typeof mti !== 'string' || mti.length !== MTI_LENGTH) {
    throw new Iso8583Error(
      'bad-mti',
      `MTI must be ${MTI_LENGTH} digits, got ${typeof mti === 'string' ? JSON.stringify(mti) : typeof mti}`,
      0,
    );
  }
  for (let i = 0; i < MTI_LENGTH; i++) {
    const c = mti.charCodeAt(i);
    if (c > 0xff || DIGITS[c] !== 1) {
      throw new Iso8583Error('bad-mti', `non-digit character ${describeChar(c)} in MTI`, i);
    }
  }
  const fields: Partial<Record<number, FieldValue>> = msg.fields ?? {};
  if (typeof fields !== 'object') {
    throw new Iso8583Error('bad-format', 'fields must be an object', MTI_LENGTH);
  }
  checkFieldKeys(fields);

  // First pass: lengths and offsets, so the buffer is allocated once.
  const planned: Planned[] = [];
  let secondary = false;
  for (let n = 2; n <= 128; n++) {
    const value = fields[n];
    if (value === undefined) continue;
    if (n > 64) secondary = true;
    planned.push({ n, spec: spec(n), value, offset: 0 });
  }
  let offset = MTI_LENGTH + BITMAP_LENGTH * (secondary ? 2 : 1);
  for (const p of planned) {
    p.offset = offset;
    offset += encodedLength(p);
  }

  const out = Buffer.allocUnsafe(offset);
  out.write(mti, 0, 'latin1');
  out.fill(0, MTI_LENGTH, MTI_LENGTH + BITMAP_LENGTH * (secondary ? 2 : 1));
  if (secondary) out[MTI_LENGTH] = 0x80;
  for (const p of planned) {
    const i = MTI_LENGTH + ((p.n - 1) >> 3);
    out[i] = (out[i] ?? 0) | (0x80 >> ((p.n - 1) & 7));
    writeField(out, p);
  }
  return out;
}

function checkFieldKeys(fields: object): void {
  for (const key of Object.keys(fields)) {
    if ((fields as Record<string, unknown>)[key] === undefined) continue;
    const n = /^(0|[1-9][0-9]{0,8})$/.test(key) ? Number(key) : NaN;
    const field = Number.isNaN(n) ? undefined : n;
    if (n === 1) {
      throw new Iso8583Error('unknown-field', 'field 1 is the secondary bitmap, set by the codec', MTI_LENGTH, 1);
    }
    if (n === 65) {
      throw new Iso8583Error('unknown-field', 'field 65 (tertiary bitmap) is not supported', MTI_LENGTH, 65);
    }
    if (!(n >= 2 && n <= 128)) {
      throw new Iso8583Error(
        'unknown-field',
        `field key ${JSON.stringify(key)} is not a field number 2..128`,
        MTI_LENGTH,
        field,
      );
    }
  }
}

function encodedLength(p: Planned): number {
  const { spec: s, value, n, offset } = p;
  const prefix = prefixLength(s);
  let length: number;
  if (s.type === 'b') {
    if (!(value instanceof Uint8Array)) {
      throw new Iso8583Error('bad-format', 'binary field needs a Uint8Array value', offset, n);
    }
    length = value.length;
    if (length > s.max) {
      throw new Iso8583Error(
        'too-long',
        `${length} bytes exceeds ${s.length === 'fixed' ? 'length' : 'maximum'} ${s.max}`,
        offset,
        n,
      );
    }
    // A short PIN block or MAC is a bug upstream, never something to pad.
    if (s.length === 'fixed' && length !== s.max) {
      throw new Iso8583Error('bad-format', `binary field needs exactly ${s.max} bytes, got ${length}`, offset, n);
    }
  } else {
    if (typeof value !== 'string') {
      throw new Iso8583Error('bad-format', 'non-binary field needs a string value', offset, n);
    }
    length = value.length;
    if (length > s.max) {
      throw new Iso8583Error(
        'too-long',
        `${length} characters exceeds ${s.length === 'fixed' ? 'length' : 'maximum'} ${s.max}`,
        offset,
        n,
      );
    }
    if (s.length === 'fixed') length = s.max;
  }
  return prefix + length;
}

function writeField(out: Buffer, p: Planned): void {
  const { spec: s, value, n } = p;
  let pos = p.offset;
  if (s.length !== 'fixed') {
    const digits = prefixLength(s);
    out.write(String(value.length).padStart(digits, '0'), pos, 'latin1');
    pos += digits;
  }
  if (typeof value !== 'string') {
    out.set(value, pos);
    return;
  }
  const type = s.type as Exclude<FieldType, 'b'>;
  const table = CLASS_TABLES[type];
  const len = value.length;
  const pad = s.length === 'fixed' ? s.max - len : 0;
  let start = 0;
  if (type === 'x+n') {
    const sign = len > 0 ? value.charCodeAt(0) : -1;
    if (sign !== SIGN_C && sign !== SIGN_D) {
      const what = sign < 0 ? 'empty value' : `character ${describeChar(sign)}`;
      throw new Iso8583Error('bad-format', `${what}: signed amount must start with 'C' or 'D'`, pos, n);
    }
    out[pos++] = sign;
    start = 1;
  }
  if (pad > 0 && (type === 'n' || type === 'x+n')) {
    out.fill(0x30, pos, pos + pad);
    pos += pad;
  }
  for (let i = start; i < len; i++) {
    const c = value.charCodeAt(i);
    if (c > 0xff || table[c] !== 1) {
      throw new Iso8583Error('bad-format', badCharDetail(c, type), pos, n);
    }
    out[pos++] = c;
  }
  if (pad > 0 && type !== 'n' && type !== 'x+n') out.fill(0x20, pos, pos + pad);
}

// ---------------------------------------------------------------- unpack

export function unpack(bytes: Uint8Array): IsoMessage {
  if (!(bytes instanceof Uint8Array)) {
    throw new Iso8583Error('bad-format', 'input must be a Uint8Array', 0);
  }
  const total = bytes.length;
  if (total < MTI_LENGTH) {
    throw new Iso8583Error('short-message', `${total} bytes, too short for the ${MTI_LENGTH}-digit MTI`, 0);
  }
  for (let i = 0; i < MTI_LENGTH; i++) {
    const c = bytes[i] as number;
    if (DIGITS[c] !== 1) throw new Iso8583Error('bad-mti', `non-digit byte ${describeChar(c)} in MTI`, i);
  }
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const mti = view.toString('latin1', 0, MTI_LENGTH);

  let pos = MTI_LENGTH + BITMAP_LENGTH;
  if (total < pos) {
    throw new Iso8583Error(
      'short-message',
      `primary bitmap cut short: ${total - MTI_LENGTH} of ${BITMAP_LENGTH} bytes`,
      MTI_LENGTH,
    );
  }
  const secondary = ((bytes[MTI_LENGTH] as number) & 0x80) !== 0;
  if (secondary) {
    const start = pos;
    pos += BITMAP_LENGTH;
    if (total < pos) {
      throw new Iso8583Error(
        'short-message',
        `secondary bitmap cut short: ${total - start} of ${BITMAP_LENGTH} bytes`,
        start,
      );
    }
    if (((bytes[start] as number) & 0x80) !== 0) {
      throw new Iso8583Error('bad-bitmap', 'bit 65 (tertiary bitmap) is set; not supported', start, 65);
    }
    let any = 0;
    for (let i = start; i < pos; i++) any |= bytes[i] as number;
    if (any === 0) {
      throw new Iso8583Error('bad-bitmap', 'bit 1 is set but the secondary bitmap is empty', MTI_LENGTH, 1);
    }
  }

  const fields: Partial<Record<number, FieldValue>> = {};
  const last = secondary ? 128 : 64;
  for (let n = 2; n <= last; n++) {
    const bit = (bytes[MTI_LENGTH + ((n - 1) >> 3)] as number) & (0x80 >> ((n - 1) & 7));
    if (bit === 0) continue;
    const s = spec(n);
    const fieldStart = pos;
    let length = s.max;
    if (s.length !== 'fixed') {
      const digits = prefixLength(s);
      if (pos + digits > total) {
        throw new Iso8583Error('short-message', `message ends inside the ${digits}-digit length prefix`, pos, n);
      }
      length = 0;
      for (let i = 0; i < digits; i++) {
        const c = bytes[pos + i] as number;
        if (DIGITS[c] !== 1) {
          throw new Iso8583Error(
            'bad-length-prefix',
            `non-digit byte ${describeChar(c)} in length prefix`,
            fieldStart,
            n,
          );
        }
        length = length * 10 + (c - 0x30);
      }
      if (length > s.max) {
        throw new Iso8583Error('bad-length-prefix', `length ${length} exceeds maximum ${s.max}`, fieldStart, n);
      }
      pos += digits;
    }
    const end = pos + length;
    if (end > total) {
      throw new Iso8583Error(
        'short-message',
        `message ends inside the value: ${total - pos} of ${length} bytes`,
        pos,
        n,
      );
    }
    if (s.type === 'b') {
      // Copy, so the message does not pin or alias the caller's receive buffer.
      fields[n] = new Uint8Array(bytes.subarray(pos, end));
    } else {
      checkChars(bytes, pos, end, s.type, n);
      fields[n] = view.toString('latin1', pos, end);
    }
    pos = end;
  }
  if (pos !== total) {
    throw new Iso8583Error('trailing-bytes', `${total - pos} bytes after the last field`, pos);
  }
  return { mti, fields };
}

function checkChars(bytes: Uint8Array, start: number, end: number, type: Exclude<FieldType, 'b'>, n: number): void {
  let i = start;
  if (type === 'x+n') {
    const sign = bytes[i] as number;
    if (sign !== SIGN_C && sign !== SIGN_D) {
      throw new Iso8583Error(
        'bad-format',
        `byte ${describeChar(sign)}: signed amount must start with 'C' or 'D'`,
        i,
        n,
      );
    }
    i++;
  }
  const table = CLASS_TABLES[type];
  for (; i < end; i++) {
    const c = bytes[i] as number;
    if (table[c] !== 1) throw new Iso8583Error('bad-format', badCharDetail(c, type), i, n);
  }
}
