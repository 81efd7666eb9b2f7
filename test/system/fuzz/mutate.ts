/**
 * Mutators shared by the fuzz surfaces. Pure random bytes rarely get past a parser's first check, so most cases start
 * from a valid sample and damage it: bytes flipped, set, inserted, deleted, duplicated, the input truncated, a 16-bit
 * length overwritten. JSON inputs are also damaged structurally (a value replaced, a key dropped or added) so the
 * schema checks behind the syntax check are reached too. Everything is a fast-check arbitrary, so it follows the seed.
 */
import fc from 'fast-check';

export type ByteMutationKind =
  | 'flip'
  | 'set'
  | 'interesting'
  | 'insert'
  | 'delete'
  | 'duplicate'
  | 'truncate'
  | 'set16'
  | 'swap';

export interface ByteMutation {
  kind: ByteMutationKind;
  at: number;
  value: number;
  len: number;
}

const BYTE_KINDS: ByteMutationKind[] = [
  'flip',
  'set',
  'interesting',
  'insert',
  'delete',
  'duplicate',
  'truncate',
  'set16',
  'swap',
];

export const byteMutation: fc.Arbitrary<ByteMutation> = fc.record({
  kind: fc.constantFrom(...BYTE_KINDS),
  at: fc.nat(),
  value: fc.nat(),
  len: fc.integer({ min: 1, max: 16 }),
});

/** 16-bit values that sit on length checks: zero, one, small, the usual limits and one past them. */
const INTERESTING_16 = [
  0, 1, 2, 7, 8, 0x7f, 0x80, 0xff, 0x100, 255, 256, 4096, 4097, 8192, 8193, 0x7fff, 0x8000, 0xfffe, 0xffff,
];

/**
 * Applies mutations in order; `interesting` lists bytes that mean something to the parser (delimiters, digits,
 * control bytes) and is used by the 'interesting' and 'insert' kinds half the time.
 */
export function applyByteMutations(
  input: Uint8Array,
  mutations: readonly ByteMutation[],
  interesting: readonly number[] = [],
): Uint8Array {
  let b = Array.from(input);
  const pick = (v: number): number =>
    interesting.length > 0 && v % 2 === 0 ? (interesting[(v >>> 1) % interesting.length] as number) : v & 0xff;
  for (const m of mutations) {
    const at = b.length === 0 ? 0 : m.at % b.length;
    switch (m.kind) {
      case 'flip':
        if (b.length > 0) b[at] = (b[at] as number) ^ (1 << (m.value % 8));
        break;
      case 'set':
        if (b.length > 0) b[at] = m.value & 0xff;
        break;
      case 'interesting':
        if (b.length > 0) b[at] = pick(m.value);
        break;
      case 'insert':
        b.splice(at, 0, ...Array.from({ length: 1 + (m.len % 4) }, (_, i) => pick(m.value + i * 2)));
        break;
      case 'delete':
        b.splice(at, m.len);
        break;
      case 'duplicate':
        b.splice(at, 0, ...b.slice(at, at + m.len));
        break;
      case 'truncate':
        b = b.slice(0, at);
        break;
      case 'set16': {
        if (b.length < 2) break;
        const v = INTERESTING_16[m.value % INTERESTING_16.length] as number;
        const p = Math.min(at, b.length - 2);
        b[p] = v >> 8;
        b[p + 1] = v & 0xff;
        break;
      }
      case 'swap': {
        const other = b.length === 0 ? 0 : (at + m.len) % b.length;
        const x = b[at];
        const y = b[other];
        if (x !== undefined && y !== undefined) {
          b[at] = y;
          b[other] = x;
        }
        break;
      }
    }
  }
  return Uint8Array.from(b);
}

/** Up to `max` mutations; a quarter of the time none, so valid inputs stay in the mix and prove acceptance. */
export function mutationList<T>(mutation: fc.Arbitrary<T>, max = 4): fc.Arbitrary<T[]> {
  return fc.oneof(
    { weight: 1, arbitrary: fc.constant<T[]>([]) },
    { weight: 3, arbitrary: fc.array(mutation, { minLength: 1, maxLength: max }) },
  );
}

/** A value that is usually absent: one case in `oneIn` has it. */
export function rarely<T>(arb: fc.Arbitrary<T>, oneIn = 8): fc.Arbitrary<T | undefined> {
  return fc.oneof({ weight: oneIn - 1, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });
}

/** A valid sample with up to `max` byte mutations. */
export function mutatedBytes(
  valid: fc.Arbitrary<Uint8Array>,
  interesting: readonly number[] = [],
  max = 4,
): fc.Arbitrary<Uint8Array> {
  return fc
    .tuple(valid, mutationList(byteMutation, max))
    .map(([bytes, mutations]) => applyByteMutations(bytes, mutations, interesting));
}

/** Random bytes, half of them drawn from the parser's meaningful bytes. */
export function biasedBytes(interesting: readonly number[], maxLength: number): fc.Arbitrary<Uint8Array> {
  const byte =
    interesting.length === 0
      ? fc.integer({ min: 0, max: 255 })
      : fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(...interesting));
  return fc.array(byte, { maxLength, size: 'max' }).map((a) => Uint8Array.from(a));
}

/** Splits bytes into chunks as a socket or a serial port might deliver them. */
export const chunkSizes: fc.Arbitrary<number[]> = fc.array(fc.integer({ min: 1, max: 64 }), { maxLength: 6 });

export function chunk(bytes: Uint8Array, sizes: readonly number[]): Uint8Array[] {
  if (sizes.length === 0) return [bytes];
  const out: Uint8Array[] = [];
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const size = sizes[i % sizes.length] as number;
    out.push(bytes.subarray(at, at + size));
    at += size;
  }
  return out;
}

// ---- JSON structure ----

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export type JsonMutationKind = 'replace' | 'copy' | 'delete' | 'add' | 'number' | 'string' | 'wrap';

export interface JsonMutation {
  kind: JsonMutationKind;
  /** Picks the node to change among all nodes, depth first. */
  target: number;
  /** Picks a second node for 'copy' (its value is copied over the target). */
  source: number;
  value: Json;
  key: string;
  tweak: number;
}

/** Keys that have tripped JavaScript code before. */
const NASTY_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '',
  ' ',
  'id',
  'cmd',
  '0',
  '\u0000',
];

export const jsonMutation: fc.Arbitrary<JsonMutation> = fc.record({
  kind: fc.constantFrom<JsonMutationKind>('replace', 'copy', 'delete', 'add', 'number', 'string', 'wrap'),
  target: fc.nat(),
  source: fc.nat(),
  value: fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
  key: fc.oneof(fc.constantFrom(...NASTY_KEYS), fc.string({ maxLength: 12 })),
  tweak: fc.integer(),
});

/** Numbers around the limits a schema checks. */
const NUMBER_TWEAKS = [
  0,
  -1,
  1,
  0.5,
  -0.0,
  1e-7,
  99,
  100,
  255,
  256,
  65535,
  65536,
  99_999_999,
  100_000_000,
  2 ** 31 - 1,
  2 ** 31,
  2 ** 53,
  2 ** 53 + 2,
  1e21,
  -1e21,
  Number.MAX_VALUE,
];

interface Slot {
  parent: Json[] | { [key: string]: Json } | undefined;
  key: string | number | undefined;
  value: Json;
}

function slots(root: Json): Slot[] {
  const out: Slot[] = [];
  const walk = (value: Json, parent: Slot['parent'], key: Slot['key']): void => {
    out.push({ parent, key, value });
    if (Array.isArray(value)) for (const [i, v] of value.entries()) walk(v, value, i);
    else if (value !== null && typeof value === 'object')
      for (const k of Object.keys(value)) walk(value[k] as Json, value, k);
  };
  walk(root, undefined, undefined);
  return out;
}

function setSlot(slot: Slot, value: Json | undefined): Json | undefined {
  const { parent, key } = slot;
  if (parent === undefined) return value;
  if (Array.isArray(parent) && typeof key === 'number') {
    if (value === undefined) parent.splice(key, 1);
    else parent[key] = value;
  } else if (!Array.isArray(parent) && typeof key === 'string') {
    if (value === undefined) delete parent[key];
    else Object.defineProperty(parent, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return undefined;
}

/** Applies structural mutations to a deep copy of `input`. */
export function applyJsonMutations(input: Json, mutations: readonly JsonMutation[]): Json {
  let root = structuredClone(input);
  for (const m of mutations) {
    const all = slots(root);
    const slot = all[m.target % all.length] as Slot;
    let next: Json | undefined = slot.value;
    switch (m.kind) {
      case 'replace':
        next = structuredClone(m.value);
        break;
      case 'copy':
        next = structuredClone((all[m.source % all.length] as Slot).value);
        break;
      case 'delete':
        next = slot.parent === undefined ? slot.value : undefined;
        break;
      case 'add':
        if (Array.isArray(slot.value)) slot.value.push(structuredClone(m.value));
        else if (slot.value !== null && typeof slot.value === 'object') {
          Object.defineProperty(slot.value, m.key, {
            value: structuredClone(m.value),
            enumerable: true,
            writable: true,
            configurable: true,
          });
        }
        break;
      case 'number':
        next =
          typeof slot.value === 'number'
            ? ([slot.value + 1, slot.value - 1, slot.value * 10, -slot.value, slot.value + 0.5][
                Math.abs(m.tweak) % 5
              ] as number)
            : (NUMBER_TWEAKS[Math.abs(m.tweak) % NUMBER_TWEAKS.length] as number);
        break;
      case 'string': {
        // JSON, not String(): an object with a "toString" key of its own cannot be converted.
        const s = typeof slot.value === 'string' ? slot.value : JSON.stringify(slot.value);
        const choices = [
          '',
          s.slice(0, -1),
          `${s}x`,
          s.repeat(40),
          ` ${s}`,
          s.toUpperCase(),
          `${s}\u0000`,
          `${s}\uD800`,
          String(m.tweak),
        ];
        next = choices[Math.abs(m.tweak) % choices.length] as string;
        break;
      }
      case 'wrap':
        next = Math.abs(m.tweak) % 2 === 0 ? [slot.value] : { value: slot.value };
        break;
    }
    if (next !== slot.value) {
      const replaced = setSlot(slot, next);
      if (slot.parent === undefined) root = replaced === undefined ? null : replaced;
    }
  }
  return root;
}

export function mutatedJson(valid: fc.Arbitrary<Json>, max = 3): fc.Arbitrary<Json> {
  return fc.tuple(valid, mutationList(jsonMutation, max)).map(([v, ms]) => applyJsonMutations(v, ms));
}
