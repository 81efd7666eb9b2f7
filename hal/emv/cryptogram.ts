/**
 * The card's cryptography as EMV Book 2 (Annex A1.3 and section 8) defines it, computed the same way by the card
 * model and by the host that checks it:
 *
 *   ICC master key  MK  = option A from the issuer master key IMK and PAN || PAN sequence number
 *   session key     SK  = common session key derivation from MK and the ATC
 *   cryptogram      AC  = ISO 9797-1 MAC algorithm 3, padding method 2, under SK, over the CDOL data
 *   answer          ARPC = TDES(SK)[ARQC xor (ARC || 00...)]  (method 1); tag 91 = ARPC || ARC
 */
import { CryptoInputError, desEncrypt, retailMac, xor } from '../crypto/index.js';
import { parseField55 } from './field55.js';

export type CryptogramType = 'ARQC' | 'TC' | 'AAC';

/** Cryptogram Information Data (9F27): the type in bits 8-7. */
export const CID: Readonly<Record<CryptogramType, number>> = { AAC: 0x00, TC: 0x40, ARQC: 0x80 };

export function cryptogramTypeOf(cid: number): CryptogramType | undefined {
  const bits = cid & 0xc0;
  return bits === 0x80 ? 'ARQC' : bits === 0x40 ? 'TC' : bits === 0x00 ? 'AAC' : undefined;
}

/** Every byte of a DES key with odd parity, as the derivations require of the keys they produce. */
export function withOddParity(key: Uint8Array): Buffer {
  const out = Buffer.from(key);
  for (let i = 0; i < out.length; i++) {
    const b = out[i]! & 0xfe;
    let ones = 0;
    for (let v = b; v; v >>= 1) ones += v & 1;
    out[i] = ones % 2 === 0 ? b | 1 : b;
  }
  return out;
}

/** Book 2 A1.4.1 option A: Y = the rightmost 16 digits of PAN || PSN; MK = TDES(IMK)[Y] || TDES(IMK)[Y xor FF..]. */
export function deriveIccMasterKey(imk: Uint8Array, pan: string, psn: string | number = 0): Buffer {
  if (imk.length !== 16) throw new CryptoInputError(`an issuer master key is 16 bytes, got ${imk.length}`);
  if (!/^\d{12,19}$/.test(pan)) throw new CryptoInputError('a PAN is 12 to 19 digits');
  const seq = typeof psn === 'number' ? String(psn).padStart(2, '0') : psn;
  if (!/^\d{2}$/.test(seq)) throw new CryptoInputError('a PAN sequence number is 2 digits');
  const digits = `${pan}${seq}`.slice(-16).padStart(16, '0');
  const y = Buffer.from(digits, 'hex');
  const left = desEncrypt(imk, y);
  const right = desEncrypt(imk, xor(y, Buffer.alloc(8, 0xff)));
  return withOddParity(Buffer.concat([left, right]));
}

/** Book 2 A1.3.1: SK = TDES(MK)[R0 R1 F0 R3..R7] || TDES(MK)[R0 R1 0F R3..R7]. */
export function deriveCommonSessionKey(mk: Uint8Array, r: Uint8Array): Buffer {
  if (mk.length !== 16) throw new CryptoInputError(`an ICC master key is 16 bytes, got ${mk.length}`);
  if (r.length !== 8) throw new CryptoInputError(`the diversification value R is 8 bytes, got ${r.length}`);
  const f1 = Buffer.from(r);
  f1[2] = 0xf0;
  const f2 = Buffer.from(r);
  f2[2] = 0x0f;
  return withOddParity(Buffer.concat([desEncrypt(mk, f1), desEncrypt(mk, f2)]));
}

/** The application cryptogram session key: R = ATC || 00 00 00 00 00 00. */
export function acSessionKey(mk: Uint8Array, atc: number): Buffer {
  const r = Buffer.alloc(8);
  r.writeUInt16BE(atc & 0xffff, 0);
  return deriveCommonSessionKey(mk, r);
}

/** The data objects a cryptogram covers, in the order of the card's CDOL (Book 2 8.1.1, Book 4's minimum set). */
export interface CdolData {
  amount: Uint8Array; // 9F02, 6
  amountOther: Uint8Array; // 9F03, 6
  terminalCountry: Uint8Array; // 9F1A, 2
  tvr: Uint8Array; // 95, 5
  currency: Uint8Array; // 5F2A, 2
  date: Uint8Array; // 9A, 3
  type: Uint8Array; // 9C, 1
  unpredictableNumber: Uint8Array; // 9F37, 4
  aip: Uint8Array; // 82, 2
  atc: Uint8Array; // 9F36, 2
  /** 9F10: its card verification results part is covered. */
  issuerApplicationData: Uint8Array;
}

/** The CDOL order by tag, as the data is read out of field 55. */
export const CDOL_TAGS = ['9F02', '9F03', '9F1A', '95', '5F2A', '9A', '9C', '9F37', '82', '9F36', '9F10'] as const;

/**
 * The card verification results inside the issuer application data. The model's 9F10 has the layout of Visa's
 * CVN 10 (length, derivation key index, cryptogram version, then the CVR with its own length byte): bytes 3 to 6.
 */
export function cvrPart(iad: Uint8Array): Uint8Array {
  if (iad.length < 7) throw new CryptoInputError(`issuer application data of ${iad.length} bytes has no CVR`);
  return iad.subarray(3, 7);
}

const CDOL_LENGTHS: ReadonlyArray<[keyof CdolData, number]> = [
  ['amount', 6],
  ['amountOther', 6],
  ['terminalCountry', 2],
  ['tvr', 5],
  ['currency', 2],
  ['date', 3],
  ['type', 1],
  ['unpredictableNumber', 4],
  ['aip', 2],
  ['atc', 2],
];

export function cdolBytes(data: CdolData): Buffer {
  const parts: Uint8Array[] = [];
  for (const [name, length] of CDOL_LENGTHS) {
    if (data[name].length !== length) throw new CryptoInputError(`CDOL ${name} is ${length} bytes`);
    parts.push(data[name]);
  }
  parts.push(cvrPart(data.issuerApplicationData));
  return Buffer.concat(parts);
}

/** ARQC, TC or AAC: MAC algorithm 3 with padding method 2 under the session key over the CDOL data. */
export function applicationCryptogram(sessionKey: Uint8Array, data: Uint8Array): Buffer {
  return retailMac(sessionKey, data, 2);
}

/** The authorisation response code (8A) as its two ASCII bytes. */
export function arcBytes(arc: string): Buffer {
  if (!/^[0-9A-Z]{2}$/.test(arc)) throw new CryptoInputError('an authorisation response code is 2 characters');
  return Buffer.from(arc, 'ascii');
}

/** Book 2 8.2.1, ARPC method 1: TDES(key)[ARQC xor (ARC || 00 00 00 00 00 00)]. */
export function arpcMethod1(key: Uint8Array, arqc: Uint8Array, arc: Uint8Array): Buffer {
  if (arqc.length !== 8 || arc.length !== 2) throw new CryptoInputError('ARPC needs an 8-byte ARQC and a 2-byte ARC');
  return desEncrypt(key, xor(arqc, Buffer.concat([arc, Buffer.alloc(6)])));
}

/** Tag 91 for method 1: ARPC || ARC (10 bytes). */
export function issuerAuthenticationDataFor(sessionKey: Uint8Array, arqc: Uint8Array, arc: string): Buffer {
  const code = arcBytes(arc);
  return Buffer.concat([arpcMethod1(sessionKey, arqc, code), code]);
}

/** The card's check of tag 91 at the second GENERATE AC: the ARPC recomputed over its own ARQC. */
export function arpcValid(sessionKey: Uint8Array, arqc: Uint8Array, tag91: Uint8Array): boolean {
  if (tag91.length !== 10) return false;
  const expected = arpcMethod1(sessionKey, arqc, tag91.subarray(8, 10));
  return expected.equals(Buffer.from(tag91.subarray(0, 8)));
}

export interface ArqcCheck {
  /** The cryptogram in 9F26 is the one the card's key computes over the data beside it. */
  valid: boolean;
  type: CryptogramType | undefined;
  atc: number;
  /** Tag 91 for the answer (ARPC method 1 || ARC), computed under the same session key. */
  issuerAuthenticationData(arc: string): Buffer;
}

/**
 * The host's check of a cryptogram: the card's keys derived from the issuer master key, PAN and PSN, the MAC
 * recomputed over the CDOL data read from field 55. `psn` defaults to 5F34 of field 55. Throws Field55Error when
 * field 55 itself is unusable, CryptoInputError for a PAN or PSN that is not digits.
 */
export function verifyArqc(imk: Uint8Array, iccData: Uint8Array, pan: string, psn?: string | number): ArqcCheck {
  const tags = parseField55(iccData);
  const get = (tag: string): Uint8Array => tags.get(tag) ?? new Uint8Array();
  // Without a PSN from the message (field 23), the card's own 5F34 in field 55 says it.
  psn ??= Buffer.from(get('5F34')).toString('hex');
  const atcBytes = get('9F36');
  const atc = Buffer.from(atcBytes).readUInt16BE(0);
  const sk = acSessionKey(deriveIccMasterKey(imk, pan, psn), atc);
  const data = cdolFromTags(get);
  const cryptogram = Buffer.from(get('9F26'));
  let valid: boolean;
  try {
    valid = cryptogram.length === 8 && applicationCryptogram(sk, cdolBytes(data)).equals(cryptogram);
  } catch (error) {
    // Data of the wrong shape (an IAD without CVR) cannot carry a good cryptogram.
    if (!(error instanceof CryptoInputError)) throw error;
    valid = false;
  }
  return {
    valid,
    type: cryptogramTypeOf(get('9F27')[0] ?? 0xff),
    atc,
    issuerAuthenticationData: (arc) => issuerAuthenticationDataFor(sk, cryptogram, arc),
  };
}

export function cdolFromTags(get: (tag: string) => Uint8Array): CdolData {
  return {
    amount: get('9F02'),
    amountOther: get('9F03'),
    terminalCountry: get('9F1A'),
    tvr: get('95'),
    currency: get('5F2A'),
    date: get('9A'),
    type: get('9C'),
    unpredictableNumber: get('9F37'),
    aip: get('82'),
    atc: get('9F36'),
    issuerApplicationData: get('9F10'),
  };
}
