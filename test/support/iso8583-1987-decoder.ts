/**
 * An ISO 8583:1987 decoder written for the tests from the standard's data element table, sharing nothing with
 * src/iso8583 (not its table, not its codec): what a real acquirer's front end would read from our bytes. ASCII
 * MTI, binary bitmaps, ASCII length prefixes and ASCII data, binary fields as raw bytes. Only the elements a
 * terminal exchanges are listed; any other bit set is an error, as it would be at a strict acquirer.
 */
type Kind = 'n' | 'an' | 'ans' | 'z' | 'b';
type Spec = { kind: Kind; fixed?: number; ll?: number; lll?: number };

// Field: [class, fixed length | LL max | LLL max] from ISO 8583:1987.
const TABLE: Record<number, Spec> = {
  2: { kind: 'n', ll: 19 },
  3: { kind: 'n', fixed: 6 },
  4: { kind: 'n', fixed: 12 },
  7: { kind: 'n', fixed: 10 },
  11: { kind: 'n', fixed: 6 },
  12: { kind: 'n', fixed: 6 },
  13: { kind: 'n', fixed: 4 },
  14: { kind: 'n', fixed: 4 },
  22: { kind: 'n', fixed: 3 },
  25: { kind: 'n', fixed: 2 },
  32: { kind: 'n', ll: 11 },
  33: { kind: 'n', ll: 11 },
  35: { kind: 'z', ll: 37 },
  37: { kind: 'an', fixed: 12 },
  38: { kind: 'an', fixed: 6 },
  39: { kind: 'an', fixed: 2 },
  41: { kind: 'ans', fixed: 8 },
  42: { kind: 'ans', fixed: 15 },
  49: { kind: 'n', fixed: 3 },
  52: { kind: 'b', fixed: 8 },
  55: { kind: 'b', lll: 999 },
  62: { kind: 'ans', lll: 999 },
  64: { kind: 'b', fixed: 8 },
  70: { kind: 'n', fixed: 3 },
  90: { kind: 'n', fixed: 42 },
  128: { kind: 'b', fixed: 8 },
};

const CHARSET: Record<Exclude<Kind, 'b'>, RegExp> = {
  n: /^[0-9]*$/,
  an: /^[A-Za-z0-9 ]*$/,
  ans: /^[\x20-\x7e]*$/,
  z: /^[0-9=D]*$/,
};

export type Decoded = { mti: string; fields: Map<number, string | Buffer> };

export function decode1987(bytes: Uint8Array): Decoded {
  const buf = Buffer.from(bytes);
  let at = 0;
  const take = (n: number, what: string): Buffer => {
    if (at + n > buf.length) throw new Error(`${what}: ${n} bytes wanted at offset ${at}, ${buf.length - at} left`);
    const out = buf.subarray(at, at + n);
    at += n;
    return out;
  };
  const mti = take(4, 'MTI').toString('latin1');
  if (!/^0[1-9][0-9]{2}$/.test(mti)) throw new Error(`MTI ${mti}`);
  const bits: number[] = [];
  const readBitmap = (base: number) => {
    const map = take(8, 'bitmap');
    for (let i = 0; i < 64; i++) if (map[i >> 3]! & (0x80 >> (i & 7))) bits.push(base + i + 1);
  };
  readBitmap(0);
  if (bits.includes(1)) readBitmap(64);
  const fields = new Map<number, string | Buffer>();
  for (const n of bits.filter((b) => b !== 1)) {
    const spec = TABLE[n];
    if (!spec) throw new Error(`field ${n}: not an element a terminal exchanges`);
    let length = spec.fixed;
    if (length === undefined) {
      const digits = spec.ll !== undefined ? 2 : 3;
      const prefix = take(digits, `field ${n} length`).toString('latin1');
      if (!/^[0-9]+$/.test(prefix)) throw new Error(`field ${n}: length prefix ${prefix}`);
      length = Number(prefix);
      if (length > (spec.ll ?? spec.lll)!) throw new Error(`field ${n}: length ${length} over ${spec.ll ?? spec.lll}`);
    }
    const raw = take(length, `field ${n}`);
    if (spec.kind === 'b') {
      fields.set(n, Buffer.from(raw));
      continue;
    }
    const text = raw.toString('latin1');
    if (!CHARSET[spec.kind].test(text)) throw new Error(`field ${n}: ${JSON.stringify(text)} is not ${spec.kind}`);
    fields.set(n, text);
  }
  if (at !== buf.length) throw new Error(`${buf.length - at} bytes after the last field`);
  return { mti, fields };
}
