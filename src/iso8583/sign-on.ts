/**
 * Sign-on with key exchange: the terminal's 0800 (field 70 = 001) and the key block of the host's 0810. The host
 * sends the session MAC key encrypted under the terminal master key, with its key check value, in field 48:
 * `MAK` + 32 hex digits (the double-length key, encrypted) + 6 hex digits (its check value). The codec only reads
 * and writes that text; decrypting and checking the key is the acquirer client's.
 */
import { Iso8583Error } from './errors.js';
import { formatStan, formatTransmissionDateTime, MTI } from './messages.js';
import type { IsoMessage } from './types.js';

/** Field 70: network management information codes. */
export const NETWORK_CODE = { signOn: '001', echo: '301' } as const;

/** Field 48 of an 0810 answering a sign-on. */
export const KEY_BLOCK_FIELD = 48;

export interface EncryptedKey {
  /** The 16-byte key encrypted under the master key (two TDES ECB blocks). */
  encrypted: Uint8Array;
  /** Its key check value: 6 hex digits, upper case. */
  checkValue: string;
}

const KEY_BLOCK = /^MAK([0-9A-F]{32})([0-9A-F]{6})$/;

export function buildSignOn(s: { stan: number; terminalId: string; transmittedAt: Date }): IsoMessage {
  return {
    mti: MTI.networkRequest,
    fields: {
      7: formatTransmissionDateTime(s.transmittedAt),
      11: formatStan(s.stan),
      41: s.terminalId,
      70: NETWORK_CODE.signOn,
    },
  };
}

export function isSignOn(msg: IsoMessage): boolean {
  return msg.mti === MTI.networkRequest && msg.fields[70] === NETWORK_CODE.signOn;
}

export function encodeKeyBlock(mac: EncryptedKey): string {
  if (mac.encrypted.length !== 16) throw new RangeError('an encrypted double-length key is 16 bytes');
  if (!/^[0-9A-F]{6}$/.test(mac.checkValue)) throw new RangeError('a key check value is 6 hex digits');
  return `MAK${Buffer.from(mac.encrypted).toString('hex').toUpperCase()}${mac.checkValue}`;
}

/** The MAC key of an 0810's field 48; Iso8583Error 'missing-field' or 'bad-format' when it is not there as agreed. */
export function parseKeyBlock(msg: IsoMessage): EncryptedKey {
  const value = msg.fields[KEY_BLOCK_FIELD];
  if (value === undefined)
    throw new Iso8583Error('missing-field', 'a sign-on answer without its key block', -1, KEY_BLOCK_FIELD);
  const m = typeof value === 'string' ? KEY_BLOCK.exec(value) : null;
  if (!m) throw new Iso8583Error('bad-format', 'the key block is not MAK + 32 + 6 hex digits', -1, KEY_BLOCK_FIELD);
  return { encrypted: Buffer.from(m[1]!, 'hex'), checkValue: m[2]! };
}
