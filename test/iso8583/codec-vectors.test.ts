import { describe, expect, it } from 'vitest';
import { pack, unpack } from '../../src/iso8583/codec.js';
import { Iso8583Error, type Iso8583ErrorCode } from '../../src/iso8583/errors.js';
import { FIELDS } from '../../src/iso8583/fields.js';
import type { IsoMessage } from '../../src/iso8583/types.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function expectIsoError(
  fn: () => unknown,
  expected: { code: Iso8583ErrorCode; field: number | undefined; offset: number },
): Iso8583Error {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(Iso8583Error);
  const err = caught as Iso8583Error;
  expect(err.name).toBe('Iso8583Error');
  expect({ code: err.code, field: err.field, offset: err.offset }).toEqual(expected);
  return err;
}

// 0200 with fields 2,3,4,7,11,22,41,42,49; bytes derived by hand from the ASCII table.
const PURCHASE: IsoMessage = {
  mti: '0200',
  fields: {
    2: '4761739001010010',
    3: '000000',
    4: '000000001000',
    7: '0612143015',
    11: '000123',
    22: '051',
    41: 'TERM0001',
    42: 'MERCHANT0000001',
    49: '978',
  },
};
const PURCHASE_HEX = [
  '30323030', // MTI "0200"                                  offset 0
  '7220040000c08000', // bits 2,3,4,7 | 11 | 22 | 41,42 | 49     offset 4
  '3136', // field 2 LLVAR prefix "16"                       offset 12
  '34373631373339303031303130303130', // PAN                 offset 14
  '303030303030', // field 3 "000000"                        offset 30
  '303030303030303031303030', // field 4 "000000001000"      offset 36
  '30363132313433303135', // field 7 "0612143015"            offset 48
  '303030313233', // field 11 "000123"                       offset 58
  '303531', // field 22 "051"                                offset 64
  '5445524d30303031', // field 41 "TERM0001"                 offset 67
  '4d45524348414e54303030303030 31', // field 42             offset 75
  '393738', // field 49 "978"                                offset 90
].join('');
const PURCHASE_BYTES = hex(PURCHASE_HEX);

// 0400 with fields 11 and 90: bit 1 in the primary bitmap, bit 90 in the secondary.
const REVERSAL: IsoMessage = {
  mti: '0400',
  fields: { 11: '000123', 90: '020000012306121430150000000000000000000000' },
};
const REVERSAL_BYTES = hex(
  '30343030' + // MTI "0400"
    '8020000000000000' + // bit 1 (secondary follows), bit 11
    '0000004000000000' + // bit 90 = bit 26 of the secondary bitmap -> byte 3, 0x40
    '303030313233' + // field 11
    '30323030' + // field 90: original MTI "0200"
    '303030313233' + //   original STAN "000123"
    '30363132313433303135' + //   original transmission date-time "0612143015"
    '3030303030303030303030' + //   acquiring institution id, zeros
    '3030303030303030303030', //   forwarding institution id, zeros
);

// 0200 with field 11, binary field 52 (PIN block) and binary LLLVAR field 55 (ICC data).
const PIN_ICC: IsoMessage = {
  mti: '0200',
  fields: {
    11: '000123',
    52: new Uint8Array([0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef]),
    55: new Uint8Array([0x5f, 0x2a, 0x02, 0x09, 0x78]),
  },
};
const PIN_ICC_BYTES = hex(
  '30323030' +
    '0020000000001200' + // bit 11 -> byte 1 0x20; bits 52, 55 -> byte 6 0x10|0x02
    '303030313233' + // field 11
    '0123456789abcdef' + // field 52, 8 raw bytes, no prefix
    '303035' + // field 55 LLLVAR prefix "005" (bytes)
    '5f2a020978', // field 55 TLV: 5F2A (currency) len 2 value 0978
);

// 0800 echo with a MAC in field 128: secondary bitmap bits 70 and 128.
const ECHO_MAC: IsoMessage = {
  mti: '0800',
  fields: { 70: '301', 128: new Uint8Array([0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x02, 0x03]) },
};
const ECHO_MAC_BYTES = hex('30383030' + '8000000000000000' + '0400000000000001' + '333031' + 'deadbeef00010203');

describe('known byte vectors', () => {
  it.each([
    ['0200 purchase', PURCHASE, PURCHASE_BYTES, 93],
    ['0400 with secondary bitmap and field 90', REVERSAL, REVERSAL_BYTES, 68],
    ['binary field 52 and LLLVAR field 55', PIN_ICC, PIN_ICC_BYTES, 34],
    ['field 128 MAC', ECHO_MAC, ECHO_MAC_BYTES, 31],
  ] as const)('%s packs to the expected bytes and unpacks back', (_name, msg, bytes, length) => {
    expect(bytes.length).toBe(length);
    const packed = pack(msg);
    expect(packed.toString('hex')).toBe(bytes.toString('hex'));
    expect(unpack(bytes)).toEqual(msg);
  });

  it('returns binary values as plain Uint8Array copies, not views of the input', () => {
    const input = Buffer.from(PIN_ICC_BYTES);
    const msg = unpack(input);
    const f52 = msg.fields[52];
    expect(f52).toBeInstanceOf(Uint8Array);
    expect(Buffer.isBuffer(f52)).toBe(false);
    input.fill(0);
    expect(f52).toEqual(PIN_ICC.fields[52]);
  });

  it('accepts a Uint8Array that is a view into a larger buffer', () => {
    const big = new Uint8Array(PURCHASE_BYTES.length + 10);
    big.set(PURCHASE_BYTES, 5);
    expect(unpack(big.subarray(5, 5 + PURCHASE_BYTES.length))).toEqual(PURCHASE);
  });

  it('left-pads fixed numeric fields with zeros and right-pads fixed text with spaces', () => {
    const bytes = pack({ mti: '0200', fields: { 4: '1000', 41: 'T1', 28: 'D5' } });
    const back = unpack(bytes);
    expect(back.fields).toEqual({ 4: '000000001000', 28: 'D00000005', 41: 'T1      ' });
  });

  it('packs a message with no fields as MTI and an empty bitmap', () => {
    const bytes = pack({ mti: '0800', fields: {} });
    expect(bytes.toString('hex')).toBe('30383030' + '0000000000000000');
    expect(unpack(bytes)).toEqual({ mti: '0800', fields: {} });
  });

  it('ignores fields whose value is undefined', () => {
    expect(pack({ mti: '0200', fields: { 11: '000001', 12: undefined } })).toEqual(
      pack({ mti: '0200', fields: { 11: '000001' } }),
    );
  });
});

describe('unpack rejects malformed input', () => {
  const mutate = (base: Uint8Array, at: number, byte: number): Buffer => {
    const b = Buffer.from(base);
    b[at] = byte;
    return b;
  };

  it('too short for the MTI', () => {
    expectIsoError(() => unpack(Buffer.from('020')), { code: 'short-message', field: undefined, offset: 0 });
    expectIsoError(() => unpack(new Uint8Array(0)), { code: 'short-message', field: undefined, offset: 0 });
  });

  it('non-digit MTI', () => {
    expectIsoError(() => unpack(mutate(PURCHASE_BYTES, 2, 0x41)), { code: 'bad-mti', field: undefined, offset: 2 });
  });

  it('truncated primary bitmap', () => {
    expectIsoError(() => unpack(PURCHASE_BYTES.subarray(0, 8)), { code: 'short-message', field: undefined, offset: 4 });
  });

  it('truncated secondary bitmap', () => {
    expectIsoError(() => unpack(REVERSAL_BYTES.subarray(0, 15)), {
      code: 'short-message',
      field: undefined,
      offset: 12,
    });
  });

  it('bit 65 (tertiary bitmap) set', () => {
    const err = expectIsoError(() => unpack(mutate(REVERSAL_BYTES, 12, 0x80)), {
      code: 'bad-bitmap',
      field: 65,
      offset: 12,
    });
    expect(err.message).toMatch(/tertiary/);
  });

  it('bit 1 set with an empty secondary bitmap', () => {
    const bytes = hex('30383030' + '8000000000000000' + '0000000000000000');
    expectIsoError(() => unpack(bytes), { code: 'bad-bitmap', field: 1, offset: 4 });
  });

  it('has no bit for a field missing from the table (all 128 are defined)', () => {
    // So 'unknown-field' cannot arise on unpack; bit 65 is the only unsupported bit, covered above.
    expect(FIELDS.map((f) => f.number)).toEqual(Array.from({ length: 128 }, (_, i) => i + 1));
  });

  it('non-digit length prefix', () => {
    expectIsoError(() => unpack(mutate(PURCHASE_BYTES, 13, 0x3a)), {
      code: 'bad-length-prefix',
      field: 2,
      offset: 12,
    });
  });

  it('length prefix above the field maximum', () => {
    // "20" for field 2 (n..19); the frame is otherwise long enough.
    const bytes = mutate(mutate(PURCHASE_BYTES, 12, 0x32), 13, 0x30);
    const err = expectIsoError(() => unpack(bytes), { code: 'bad-length-prefix', field: 2, offset: 12 });
    expect(err.message).toBe('field 2 at offset 12: length 20 exceeds maximum 19');
  });

  it('LLLVAR prefix above the field maximum', () => {
    // Field 55 prefix "999" is the most LLLVAR can say (the standard's maximum); "99A" is no length at all.
    const bytes = Buffer.concat([PIN_ICC_BYTES.subarray(0, 26), Buffer.from('99A'), Buffer.alloc(999)]);
    expectIsoError(() => unpack(bytes), { code: 'bad-length-prefix', field: 55, offset: 26 });
  });

  it('non-numeric character in a numeric field', () => {
    const err = expectIsoError(() => unpack(mutate(PURCHASE_BYTES, 40, 0x58)), {
      code: 'bad-format',
      field: 4,
      offset: 40,
    });
    expect(err.message).toBe("field 4 at offset 40: non-numeric character 'X' in numeric field");
  });

  it('non-printable byte in an ans field', () => {
    const err = expectIsoError(() => unpack(mutate(PURCHASE_BYTES, 70, 0x7f)), {
      code: 'bad-format',
      field: 41,
      offset: 70,
    });
    expect(err.message).toContain('0x7f');
  });

  it('bad character in track 2 and a bad x+n sign', () => {
    const track2 = pack({ mti: '0200', fields: { 35: '4761739001010010=2512' } });
    // offset 12 prefix, value from 14; '=' at 30 replaced by '^'.
    expectIsoError(() => unpack(mutate(track2, 30, 0x5e)), { code: 'bad-format', field: 35, offset: 30 });
    const fee = pack({ mti: '0200', fields: { 28: 'C00000150' } });
    expectIsoError(() => unpack(mutate(fee, 12, 0x2b)), { code: 'bad-format', field: 28, offset: 12 });
  });

  it('message ends inside a fixed field', () => {
    expectIsoError(() => unpack(PURCHASE_BYTES.subarray(0, 80)), { code: 'short-message', field: 42, offset: 75 });
  });

  it('message ends inside a length prefix or a variable value', () => {
    expectIsoError(() => unpack(PURCHASE_BYTES.subarray(0, 13)), { code: 'short-message', field: 2, offset: 12 });
    expectIsoError(() => unpack(PURCHASE_BYTES.subarray(0, 20)), { code: 'short-message', field: 2, offset: 14 });
  });

  it('message ends before a field announced by the bitmap', () => {
    expectIsoError(() => unpack(PURCHASE_BYTES.subarray(0, 12)), { code: 'short-message', field: 2, offset: 12 });
  });

  it('trailing bytes after the last field', () => {
    const bytes = Buffer.concat([PURCHASE_BYTES, Buffer.from([0x00])]);
    expectIsoError(() => unpack(bytes), { code: 'trailing-bytes', field: undefined, offset: 93 });
  });

  it('input that is not a byte array', () => {
    expectIsoError(() => unpack('0200' as unknown as Uint8Array), { code: 'bad-format', field: undefined, offset: 0 });
  });
});

describe('pack rejects invalid messages', () => {
  it('value too long for a fixed field', () => {
    expectIsoError(() => pack({ mti: '0200', fields: { 4: '1234567890123' } }), {
      code: 'too-long',
      field: 4,
      offset: 12,
    });
  });

  it('value too long for a variable field', () => {
    expectIsoError(() => pack({ mti: '0200', fields: { 3: '000000', 2: '1'.repeat(20) } }), {
      code: 'too-long',
      field: 2,
      offset: 12,
    });
    expectIsoError(() => pack({ mti: '0200', fields: { 11: '000001', 55: new Uint8Array(1000) } }), {
      code: 'too-long',
      field: 55,
      offset: 18,
    });
  });

  it('bad character, with the offset where it would be written', () => {
    // Field 4 "12a4" is padded to 12: eight zeros, then '1', '2', 'a' at 12 + 8 + 2.
    const err = expectIsoError(() => pack({ mti: '0200', fields: { 4: '12a4' } }), {
      code: 'bad-format',
      field: 4,
      offset: 22,
    });
    expect(err.message).toBe("field 4 at offset 22: non-numeric character 'a' in numeric field");
    expectIsoError(() => pack({ mti: '0200', fields: { 41: 'TÉRM0001' } }), {
      code: 'bad-format',
      field: 41,
      offset: 13,
    });
    expectIsoError(() => pack({ mti: '0200', fields: { 39: '0_' } }), { code: 'bad-format', field: 39, offset: 13 });
    expectIsoError(() => pack({ mti: '0200', fields: { 35: '4761^2512' } }), {
      code: 'bad-format',
      field: 35,
      offset: 18,
    });
    expectIsoError(() => pack({ mti: '0200', fields: { 28: '+150' } }), { code: 'bad-format', field: 28, offset: 12 });
    expectIsoError(() => pack({ mti: '0200', fields: { 28: '' } }), { code: 'bad-format', field: 28, offset: 12 });
  });

  it('wrong value type or binary length', () => {
    expectIsoError(() => pack({ mti: '0200', fields: { 52: '0123456789ABCDEF' } }), {
      code: 'bad-format',
      field: 52,
      offset: 12,
    });
    expectIsoError(() => pack({ mti: '0200', fields: { 4: new Uint8Array(12) } }), {
      code: 'bad-format',
      field: 4,
      offset: 12,
    });
    expectIsoError(() => pack({ mti: '0200', fields: { 52: new Uint8Array(7) } }), {
      code: 'bad-format',
      field: 52,
      offset: 12,
    });
  });

  it('field number out of range or reserved for a bitmap', () => {
    for (const n of [0, 129, 1000]) {
      expectIsoError(() => pack({ mti: '0200', fields: { [n]: '1' } }), { code: 'unknown-field', field: n, offset: 4 });
    }
    expectIsoError(() => pack({ mti: '0200', fields: { 1: new Uint8Array(8) } }), {
      code: 'unknown-field',
      field: 1,
      offset: 4,
    });
    expectIsoError(() => pack({ mti: '0200', fields: { 65: new Uint8Array(8) } }), {
      code: 'unknown-field',
      field: 65,
      offset: 4,
    });
    const odd = { mti: '0200', fields: { '-3': '1', 2.5: '1' } } as unknown as IsoMessage;
    expectIsoError(() => pack(odd), { code: 'unknown-field', field: undefined, offset: 4 });
  });

  it('bad MTI', () => {
    expectIsoError(() => pack({ mti: '200', fields: {} }), { code: 'bad-mti', field: undefined, offset: 0 });
    expectIsoError(() => pack({ mti: '02X0', fields: {} }), { code: 'bad-mti', field: undefined, offset: 2 });
  });
});
