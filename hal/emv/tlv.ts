/**
 * BER-TLV as EMV Book 3 Annex B restricts it: tags of one to three bytes, definite lengths in the short form or the
 * 81/82/83 long forms (minimal only), constructed templates decoded recursively, 00 and FF padding between objects
 * skipped. Everything that is not that is a TlvError naming the problem and the byte where it was found: the bytes
 * come from a card, a card module or a host, and none of them is trusted.
 */

export const TLV_ERROR_CODES = [
  /** The input ends inside a tag. */
  'truncated-tag',
  /** A tag longer than three bytes, or one whose second byte carries no tag number. */
  'bad-tag',
  /** The input ends inside a length. */
  'truncated-length',
  /** 80 (indefinite length): EMV uses definite lengths only. */
  'indefinite-length',
  /** A long form where a shorter one would do (81 05, 82 00 7F...). */
  'non-minimal-length',
  /** A length of more than three bytes (84 and above). */
  'oversize-length',
  /** The value runs past the end of the input (or of its template). */
  'length-past-end',
  /** Templates nested deeper than the limit. */
  'too-deep',
  /** An object handed to the encoder that cannot be encoded (bad tag text, wrong kind for its tag). */
  'bad-object',
] as const;
export type TlvErrorCode = (typeof TLV_ERROR_CODES)[number];

export class TlvError extends Error {
  override readonly name = 'TlvError';
  constructor(
    readonly code: TlvErrorCode,
    /** Byte offset in the outermost input where the problem starts (-1 for the encoder). */
    readonly offset: number,
    message?: string,
  ) {
    super(message ?? `TLV ${code} at byte ${offset}`);
  }
}

/** A primitive object carries its value; a constructed one (a template) carries the objects inside it. */
export type TlvNode = TlvPrimitive | TlvConstructed;
export interface TlvPrimitive {
  /** Upper-case hex, as the specifications write tags: '9F26'. */
  tag: string;
  value: Uint8Array;
}
export interface TlvConstructed {
  tag: string;
  children: TlvNode[];
}

export interface TlvDecodeOptions {
  /** Deepest template nesting accepted (a template at top level is depth 1). Default 8. */
  maxDepth?: number;
}

const DEFAULT_MAX_DEPTH = 8;
const MAX_TAG_BYTES = 3;
const MAX_LENGTH = 0xffffff;

export function isConstructedTag(tag: string): boolean {
  const first = Number.parseInt(tag.slice(0, 2), 16);
  return (first & 0x20) !== 0;
}

export function isConstructed(node: TlvNode): node is TlvConstructed {
  return 'children' in node;
}

/** Decodes a sequence of objects (padding between them skipped). Throws TlvError on anything malformed. */
export function decodeTlv(input: Uint8Array, options: TlvDecodeOptions = {}): TlvNode[] {
  const bytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  return decodeRange(bytes, 0, bytes.length, 0, options.maxDepth ?? DEFAULT_MAX_DEPTH);
}

function decodeRange(bytes: Uint8Array, start: number, end: number, depth: number, maxDepth: number): TlvNode[] {
  const nodes: TlvNode[] = [];
  let at = start;
  while (at < end) {
    const first = bytes[at]!;
    // Book 3 Annex B: 00 and FF before, between or after objects are padding.
    if (first === 0x00 || first === 0xff) {
      at++;
      continue;
    }
    const tagStart = at;
    at = readTag(bytes, at, end);
    const tag = hex(bytes.subarray(tagStart, at));
    const { length, next } = readLength(bytes, at, end);
    at = next;
    if (length > end - at) throw new TlvError('length-past-end', tagStart, `TLV value of ${tag} runs past the end`);
    if ((first & 0x20) !== 0) {
      if (depth + 1 > maxDepth)
        throw new TlvError('too-deep', tagStart, `TLV templates nested deeper than ${maxDepth}`);
      nodes.push({ tag, children: decodeRange(bytes, at, at + length, depth + 1, maxDepth) });
    } else {
      nodes.push({ tag, value: bytes.slice(at, at + length) });
    }
    at += length;
  }
  return nodes;
}

/** Returns the offset after the tag. */
function readTag(bytes: Uint8Array, at: number, end: number): number {
  const start = at;
  const first = bytes[at++]!;
  if ((first & 0x1f) !== 0x1f) return at;
  for (let n = 1; ; n++) {
    if (at >= end) throw new TlvError('truncated-tag', start);
    if (n >= MAX_TAG_BYTES) throw new TlvError('bad-tag', start, 'TLV tag longer than 3 bytes');
    const b = bytes[at++]!;
    // ISO/IEC 8825-1: the first subsequent byte must carry tag number bits.
    if (n === 1 && (b & 0x7f) === 0) throw new TlvError('bad-tag', start, 'TLV tag with an empty subsequent byte');
    if ((b & 0x80) === 0) return at;
  }
}

function readLength(bytes: Uint8Array, at: number, end: number): { length: number; next: number } {
  const start = at;
  if (at >= end) throw new TlvError('truncated-length', start);
  const first = bytes[at++]!;
  if (first < 0x80) return { length: first, next: at };
  if (first === 0x80) throw new TlvError('indefinite-length', start);
  const count = first & 0x7f;
  if (count > 3) throw new TlvError('oversize-length', start);
  if (end - at < count) throw new TlvError('truncated-length', start);
  let length = 0;
  for (let i = 0; i < count; i++) length = length * 256 + bytes[at++]!;
  if (length < minimumForLengthBytes(count)) throw new TlvError('non-minimal-length', start);
  return { length, next: at };
}

/** The smallest length that needs `count` length bytes after 8x. */
function minimumForLengthBytes(count: number): number {
  return count === 1 ? 0x80 : 2 ** (8 * (count - 1));
}

export function encodeTlv(nodes: readonly TlvNode[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const node of nodes) parts.push(encodeNode(node));
  return concat(parts);
}

function encodeNode(node: TlvNode): Uint8Array {
  const tag = tagBytes(node.tag);
  const constructed = ((tag[0] ?? 0) & 0x20) !== 0;
  if (constructed !== isConstructed(node)) {
    throw new TlvError('bad-object', -1, `tag ${node.tag} is ${constructed ? 'constructed' : 'primitive'}`);
  }
  const value = isConstructed(node) ? encodeTlv(node.children) : node.value;
  return concat([tag, lengthBytes(value.length), value]);
}

/** The bytes of a tag written as hex; refuses text that does not decode as exactly one tag. */
export function tagBytes(tag: string): Uint8Array {
  if (!/^([0-9A-Fa-f]{2}){1,3}$/.test(tag)) throw new TlvError('bad-object', -1, 'a tag is 1 to 3 bytes of hex');
  const bytes = Uint8Array.from(Buffer.from(tag, 'hex'));
  const first = bytes[0]!;
  if (first === 0x00 || first === 0xff) throw new TlvError('bad-object', -1, '00 and FF are padding, not tags');
  let end: number;
  try {
    end = readTag(bytes, 0, bytes.length);
  } catch {
    throw new TlvError('bad-object', -1, `tag ${tag} is not a valid tag`);
  }
  if (end !== bytes.length) throw new TlvError('bad-object', -1, `tag ${tag} is not a valid tag`);
  return bytes;
}

function lengthBytes(length: number): Uint8Array {
  if (length > MAX_LENGTH) throw new TlvError('bad-object', -1, 'TLV value longer than 83 FF FF FF');
  if (length < 0x80) return Uint8Array.of(length);
  if (length <= 0xff) return Uint8Array.of(0x81, length);
  if (length <= 0xffff) return Uint8Array.of(0x82, length >> 8, length & 0xff);
  return Uint8Array.of(0x83, length >> 16, (length >> 8) & 0xff, length & 0xff);
}

/** One primitive object, the common case: tlv('9F02', amountBytes). */
export function tlv(tag: string, value: Uint8Array): Uint8Array {
  return encodeNode({ tag: tag.toUpperCase(), value });
}

/** The first object with this tag, searching templates depth first. */
export function findTlv(nodes: readonly TlvNode[], tag: string): TlvNode | undefined {
  const wanted = tag.toUpperCase();
  for (const node of nodes) {
    if (node.tag === wanted) return node;
    if (isConstructed(node)) {
      const inner = findTlv(node.children, wanted);
      if (inner) return inner;
    }
  }
  return undefined;
}

/** Every primitive at the top level by tag (the last one wins on a repeat): the shape field 55 is read in. */
export function primitivesByTag(nodes: readonly TlvNode[]): Map<string, Uint8Array> {
  const map = new Map<string, Uint8Array>();
  for (const node of nodes) if (!isConstructed(node)) map.set(node.tag, node.value);
  return map;
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex').toUpperCase();
}

function concat(parts: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
