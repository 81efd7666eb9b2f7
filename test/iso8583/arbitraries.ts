/** fast-check arbitraries for ISO 8583 messages, derived from the field table. */
import fc from 'fast-check';
import { FIELDS, isDataField, type FieldSpec } from '../../src/iso8583/fields.js';
import type { FieldValue, IsoMessage } from '../../src/iso8583/types.js';

const range = (from: number, to: number): string[] =>
  Array.from({ length: to - from + 1 }, (_, i) => String.fromCharCode(from + i));
const DIGITS = range(0x30, 0x39);
const LETTERS = [...range(0x41, 0x5a), ...range(0x61, 0x7a)];

export const CHARSETS: Record<string, readonly string[]> = {
  n: DIGITS,
  a: [...LETTERS, ' '],
  an: [...LETTERS, ...DIGITS, ' '],
  ans: range(0x20, 0x7e),
  z: [...DIGITS, '=', 'D'],
};

export const DATA_FIELDS: readonly FieldSpec[] = FIELDS.filter((f) => isDataField(f.number));

function text(chars: readonly string[], minLength: number, maxLength: number): fc.Arbitrary<string> {
  return fc.string({ unit: fc.constantFrom(...chars), minLength, maxLength });
}

/** A valid value for the field; fixed fields get their full length so the round trip is exact. */
export function valueArb(spec: FieldSpec): fc.Arbitrary<FieldValue> {
  const min = spec.length === 'fixed' ? spec.max : 0;
  if (spec.type === 'b') return fc.uint8Array({ minLength: min, maxLength: spec.max });
  if (spec.type === 'x+n') {
    return fc
      .tuple(fc.constantFrom('C', 'D'), text(DIGITS, spec.max - 1, spec.max - 1))
      .map(([sign, digits]) => sign + digits);
  }
  const chars = CHARSETS[spec.type];
  if (chars === undefined) throw new Error(`no charset for ${spec.type}`);
  return text(chars, min, spec.max);
}

export const mtiArb: fc.Arbitrary<string> = text(DIGITS, 4, 4);

/** A few fields, typical of real traffic. */
const sparseFieldsArb: fc.Arbitrary<Partial<Record<number, FieldValue>>> = fc
  .uniqueArray(fc.constantFrom(...DATA_FIELDS), { maxLength: 10, selector: (f) => f.number })
  .chain((specs) => fc.tuple(...specs.map((s) => valueArb(s).map((v) => [s.number, v] as const))))
  .map((pairs) => Object.fromEntries(pairs) as Partial<Record<number, FieldValue>>);

/** Any subset of all data fields, to cover every row of the table. */
const denseFieldsArb: fc.Arbitrary<Partial<Record<number, FieldValue>>> = fc
  .record(Object.fromEntries(DATA_FIELDS.map((s) => [String(s.number), valueArb(s)])), { requiredKeys: [] })
  .map((rec) => {
    const out: Partial<Record<number, FieldValue>> = {};
    for (const [k, v] of Object.entries(rec)) if (v !== undefined) out[Number(k)] = v;
    return out;
  });

export const messageArb: fc.Arbitrary<IsoMessage> = fc.record({
  mti: mtiArb,
  fields: fc.oneof(sparseFieldsArb, denseFieldsArb),
});
