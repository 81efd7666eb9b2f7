/**
 * ISO 8583 field 55 (ICC system related data): the card's and the terminal's EMV objects the acquirer needs to
 * check the cryptogram, as one BER-TLV string. Built on the terminal from the kernel's data; checked by the host
 * simulator and by the tests on captured frames. It never carries the PAN, track data or the cardholder's name.
 */
import { isSensitiveTag, lengthFits } from './tags.js';
import { decodeTlv, encodeTlv, isConstructed, TlvError, type TlvNode } from './tlv.js';

/** The tags acquirers require in a chip or contactless 0200, in the order they are written (plus 84 or 4F). */
export const FIELD55_REQUIRED = [
  '9F26',
  '9F27',
  '9F10',
  '9F37',
  '9F36',
  '95',
  '9A',
  '9C',
  '9F02',
  '9F03',
  '5F2A',
  '82',
  '9F1A',
  '9F33',
  '9F34',
  '9F35',
  '5F34',
] as const;

/** Carried when known, after the required ones. */
export const FIELD55_OPTIONAL = ['9F09', '9F1E', '9F41', '9F53', '9F66', '9F6C', '9F07', '8A', '9B', '9F5B'] as const;

export type Field55ErrorCode = 'missing-tags' | 'sensitive-tags' | 'bad-length' | 'bad-tlv';

export class Field55Error extends Error {
  override readonly name = 'Field55Error';
  constructor(
    readonly code: Field55ErrorCode,
    /** The tags at fault (never their values). */
    readonly tags: readonly string[],
    message: string,
  ) {
    super(message);
  }
}

export type EmvData = Readonly<Record<string, Uint8Array>>;

/**
 * Field 55 from the card's and the terminal's data (tag → value, later sources winning). Refuses sensitive tags
 * anywhere in the input, names every missing required tag, and writes the required tags, then 84 or 4F, then the
 * optional ones present.
 */
export function buildField55(...sources: EmvData[]): Uint8Array {
  const data: Record<string, Uint8Array> = {};
  for (const source of sources) for (const [tag, value] of Object.entries(source)) data[tag.toUpperCase()] = value;
  const sensitive = Object.keys(data).filter(isSensitiveTag);
  if (sensitive.length > 0) {
    throw new Field55Error('sensitive-tags', sensitive, `field 55 refuses card data: ${sensitive.join(' ')}`);
  }
  checkRequired(new Set(Object.keys(data)));
  const application = data['84'] !== undefined ? '84' : '4F';
  const order = [...FIELD55_REQUIRED, application, ...FIELD55_OPTIONAL];
  const nodes: TlvNode[] = [];
  for (const tag of order) {
    const value = data[tag];
    if (value !== undefined) nodes.push({ tag, value });
  }
  checkLengths(nodes);
  return encodeTlv(nodes);
}

/**
 * Parses field 55 as received and checks it as the acquirer does: standard TLV, every required tag, no sensitive
 * tag, lengths within the dictionary. Returns the objects by tag.
 */
export function parseField55(bytes: Uint8Array): Map<string, Uint8Array> {
  let nodes: TlvNode[];
  try {
    nodes = decodeTlv(bytes);
  } catch (error) {
    if (error instanceof TlvError) throw new Field55Error('bad-tlv', [], `field 55 is not BER-TLV: ${error.message}`);
    throw error;
  }
  const map = new Map<string, Uint8Array>();
  for (const node of nodes) if (!isConstructed(node)) map.set(node.tag, node.value);
  const sensitive = nodes.map((n) => n.tag).filter(isSensitiveTag);
  if (sensitive.length > 0) {
    throw new Field55Error('sensitive-tags', sensitive, `field 55 carries card data: ${sensitive.join(' ')}`);
  }
  checkRequired(new Set(map.keys()));
  checkLengths(nodes);
  return map;
}

function checkRequired(present: ReadonlySet<string>): void {
  const missing: string[] = FIELD55_REQUIRED.filter((tag) => !present.has(tag));
  if (!present.has('84') && !present.has('4F')) missing.push('84|4F');
  if (missing.length > 0) throw new Field55Error('missing-tags', missing, `field 55 lacks ${missing.join(' ')}`);
}

function checkLengths(nodes: readonly TlvNode[]): void {
  const bad = nodes.filter((n) => !isConstructed(n) && !lengthFits(n.tag, n.value.length)).map((n) => n.tag);
  if (bad.length > 0)
    throw new Field55Error('bad-length', bad, `field 55 values of the wrong length: ${bad.join(' ')}`);
}
