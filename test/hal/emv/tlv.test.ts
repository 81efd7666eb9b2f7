/** The BER-TLV codec against EMV Book 3 Annex B: known encodings, every kind of bad input, and properties. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeTlv,
  encodeTlv,
  findTlv,
  primitivesByTag,
  tlv,
  TlvError,
  type TlvErrorCode,
  type TlvNode,
} from '../../../hal/emv/tlv.js';

const h = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text.replace(/\s/g, ''), 'hex'));

function expectTlvError(input: string, code: TlvErrorCode, offset: number): void {
  let error: unknown;
  try {
    decodeTlv(h(input));
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(TlvError);
  expect({ code: (error as TlvError).code, offset: (error as TlvError).offset }).toEqual({ code, offset });
}

describe('decodeTlv', () => {
  it('reads one-, two- and three-byte tags and the short and long length forms', () => {
    const nodes = decodeTlv(h('9A 03 261231  9F02 06 000000001234  DF8101 01 7F  5F2A 02 0978'));
    expect(nodes).toEqual([
      { tag: '9A', value: h('261231') },
      { tag: '9F02', value: h('000000001234') },
      { tag: 'DF8101', value: h('7F') },
      { tag: '5F2A', value: h('0978') },
    ]);
    const long = new Uint8Array(200).fill(0xab);
    expect(decodeTlv(h(`9F10 81C8 ${Buffer.from(long).toString('hex')}`))).toEqual([{ tag: '9F10', value: long }]);
    const longer = new Uint8Array(300).fill(1);
    expect(decodeTlv(h(`86 82012C ${Buffer.from(longer).toString('hex')}`))).toEqual([{ tag: '86', value: longer }]);
  });

  it('decodes constructed templates (bit 6 of the first tag byte) recursively', () => {
    // A READ RECORD answer: template 70 holding 57 and 5F20, and issuer script template 71 holding 9F18 and 86.
    const nodes = decodeTlv(h('70 0B 57 03 112233 5F20 03 414243  71 0C 9F18 04 00000001 86 03 841E00'));
    expect(nodes).toEqual([
      {
        tag: '70',
        children: [
          { tag: '57', value: h('112233') },
          { tag: '5F20', value: h('414243') },
        ],
      },
      {
        tag: '71',
        children: [
          { tag: '9F18', value: h('00000001') },
          { tag: '86', value: h('841E00') },
        ],
      },
    ]);
    expect(findTlv(nodes, '86')).toEqual({ tag: '86', value: h('841E00') });
    expect(findTlv(nodes, '9f18')).toEqual({ tag: '9F18', value: h('00000001') });
  });

  it('skips 00 and FF padding before, between and after objects, also inside templates', () => {
    expect(decodeTlv(h('00 FF 9A 01 26 00 00 9C 01 00 FF FF 70 05 00 82 01 19 FF 00'))).toEqual([
      { tag: '9A', value: h('26') },
      { tag: '9C', value: h('00') },
      { tag: '70', children: [{ tag: '82', value: h('19') }] },
    ]);
    expect(decodeTlv(h(''))).toEqual([]);
    expect(decodeTlv(h('0000FF'))).toEqual([]);
  });

  it('refuses bad input with a typed error naming the problem and its byte offset', () => {
    expectTlvError('9A 01 26 9F', 'truncated-tag', 3);
    expectTlvError('DF 81', 'truncated-tag', 0);
    expectTlvError('DF 81 81 01 01 00', 'bad-tag', 0);
    expectTlvError('9F 80 01 00', 'bad-tag', 0);
    expectTlvError('9A', 'truncated-length', 1);
    expectTlvError('9A 82 01', 'truncated-length', 1);
    expectTlvError('9A 80 00 00', 'indefinite-length', 1);
    expectTlvError('9A 81 05 0102030405', 'non-minimal-length', 1);
    expectTlvError(`9A 82 00FF ${'00'.repeat(255)}`, 'non-minimal-length', 1);
    expectTlvError('9A 84 00000001 00', 'oversize-length', 1);
    expectTlvError('9A 03 2612', 'length-past-end', 0);
    expectTlvError('9A 01 26 9F02 83 FFFFFF 00', 'length-past-end', 3);
    // A value inside a template may not run past the template's own end.
    expectTlvError('70 03 82 02 19 00', 'length-past-end', 2);
  });

  it('limits template nesting', () => {
    let nested = h('82 01 19');
    for (let i = 0; i < 3; i++) nested = tlvTemplate(nested);
    expect(() => decodeTlv(nested, { maxDepth: 3 })).not.toThrow();
    expectErrorCode(() => decodeTlv(nested, { maxDepth: 2 }), 'too-deep');
    let deep = h('82 01 19');
    for (let i = 0; i < 50; i++) deep = tlvTemplate(deep);
    expectErrorCode(() => decodeTlv(deep), 'too-deep');
  });
});

function tlvTemplate(inner: Uint8Array): Uint8Array {
  return encodeTlv([{ tag: '70', children: decodeTlv(inner, { maxDepth: 64 }) }]);
}

function expectErrorCode(fn: () => unknown, code: TlvErrorCode): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(TlvError);
    expect((e as TlvError).code).toBe(code);
    return;
  }
  throw new Error(`expected TlvError ${code}`);
}

describe('encodeTlv', () => {
  it('writes minimal lengths and nested templates', () => {
    expect(Buffer.from(tlv('9F02', h('000000001234'))).toString('hex')).toBe('9f0206000000001234');
    expect(
      Buffer.from(tlv('9F10', new Uint8Array(128)))
        .subarray(0, 4)
        .toString('hex'),
    ).toBe('9f108180');
    expect(
      Buffer.from(tlv('86', new Uint8Array(256)))
        .subarray(0, 4)
        .toString('hex'),
    ).toBe('86820100');
    expect(
      Buffer.from(tlv('86', new Uint8Array(0x10000)))
        .subarray(0, 5)
        .toString('hex'),
    ).toBe('8683010000');
    const script = encodeTlv([{ tag: '72', children: [{ tag: '86', value: h('841E0000') }] }]);
    expect(Buffer.from(script).toString('hex')).toBe('720686048' + '41e0000');
  });

  it('refuses objects it cannot write', () => {
    expectErrorCode(() => tlv('XYZ', h('00')), 'bad-object');
    expectErrorCode(() => tlv('9F', h('00')), 'bad-object');
    expectErrorCode(() => tlv('9A01', h('00')), 'bad-object');
    expectErrorCode(() => tlv('00', h('00')), 'bad-object');
    expectErrorCode(() => tlv('70', h('00')), 'bad-object');
    expectErrorCode(() => encodeTlv([{ tag: '9A', children: [] }]), 'bad-object');
  });

  it('reads back the primitives of field 55 by tag', () => {
    const map = primitivesByTag(decodeTlv(encodeTlv([{ tag: '9F26', value: h('0102030405060708') }])));
    expect(map.get('9F26')).toEqual(h('0102030405060708'));
  });
});

/** Valid tags: first byte not padding; a 11111 tag number takes one or two subsequent bytes. */
const tagArb: fc.Arbitrary<string> = fc
  .tuple(
    fc.integer({ min: 1, max: 0xfe }),
    fc.integer({ min: 1, max: 0x7f }),
    fc.integer({ min: 0, max: 0x7f }),
    fc.boolean(),
  )
  .map(([first, b2, b3, twoMore]) => {
    if ((first & 0x1f) !== 0x1f) return hexByte(first);
    return twoMore ? hexByte(first) + hexByte(0x80 | b2) + hexByte(b3) : hexByte(first) + hexByte(b2);
  });

function hexByte(b: number): string {
  return b.toString(16).padStart(2, '0').toUpperCase();
}

const primitiveArb: fc.Arbitrary<TlvNode> = fc
  .tuple(tagArb, fc.uint8Array({ maxLength: 300 }))
  .map(([tag, value]) => ({ tag: withConstructedBit(tag, false), value }));

const nodeArb: fc.Memo<TlvNode> = fc.memo((n) =>
  n <= 1
    ? primitiveArb
    : fc.oneof(
        primitiveArb,
        fc
          .tuple(tagArb, fc.array(nodeArb(n - 1), { maxLength: 3 }))
          .map(([tag, children]) => ({ tag: withConstructedBit(tag, true), children })),
      ),
);

/** Bit 6 of the first tag byte says constructed; it leaves the tag number bits alone. */
function withConstructedBit(tag: string, on: boolean): string {
  const first = Number.parseInt(tag.slice(0, 2), 16);
  const flipped = on ? first | 0x20 : first & ~0x20;
  // Keep clear of the padding bytes: 00 becomes 01 and FF becomes 7F (same tag number bits, constructed).
  const safe = flipped === 0 ? 0x01 : flipped === 0xff ? 0x7f : flipped;
  return hexByte(safe) + tag.slice(2);
}

describe('TLV properties', () => {
  it('decode(encode(x)) equals x', () => {
    fc.assert(
      fc.property(fc.array(nodeArb(4), { maxLength: 5 }), (nodes) => {
        expect(decodeTlv(encodeTlv(nodes), { maxDepth: 64 })).toEqual(nodes);
      }),
      { numRuns: 300 },
    );
  });

  it('random bytes either decode or throw TlvError, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          const nodes = decodeTlv(bytes);
          // What decodes re-encodes to the same bytes without the padding.
          expect(decodeTlv(encodeTlv(nodes))).toEqual(nodes);
        } catch (error) {
          expect(error).toBeInstanceOf(TlvError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('mutations of valid field 55 data throw only TlvError', () => {
    const valid = encodeTlv([
      { tag: '9F26', value: h('0102030405060708') },
      { tag: '71', children: [{ tag: '86', value: h('841E0000') }] },
    ]);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: valid.length - 1 }), fc.integer({ min: 0, max: 255 }), (at, byte) => {
        const copy = valid.slice();
        copy[at] = byte;
        try {
          decodeTlv(copy.subarray(0, at + 1 + (byte % 4)));
        } catch (error) {
          expect(error).toBeInstanceOf(TlvError);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
