/**
 * Where a message's MAC goes and what it covers. The MAC is the last field of the message: field 64 when only the
 * primary bitmap is used, field 128 when the message has a secondary bitmap (field 64 then stays absent). It covers
 * the packed message from the MTI up to the MAC field, with the bitmap already saying the MAC is present, so the
 * sender and the receiver compute it over the same bytes. The codec knows nothing of keys: the acquirer client and
 * the host compute the MAC itself.
 */
import { pack } from './codec.js';
import { Iso8583Error } from './errors.js';
import type { IsoMessage } from './types.js';

export const MAC_LENGTH = 8;

/** Field 128 when the message has a secondary bitmap (any field 65..128 present), else field 64. */
export function macFieldOf(msg: IsoMessage): 64 | 128 {
  for (let n = 66; n <= 128; n++) if (msg.fields[n] !== undefined) return 128;
  return 64;
}

/** The MAC the message carries (field 64 or 128, whichever is its MAC field), if any. */
export function macOf(msg: IsoMessage): Uint8Array | undefined {
  const value = msg.fields[macFieldOf(msg)];
  return value instanceof Uint8Array && value.length === MAC_LENGTH ? value : undefined;
}

/** The message with `mac` in its MAC field (and no MAC left in the other one). */
export function withMac(msg: IsoMessage, mac: Uint8Array): IsoMessage {
  if (mac.length !== MAC_LENGTH) throw new Iso8583Error('bad-format', `a MAC is ${MAC_LENGTH} bytes`, -1, 64);
  const field = macFieldOf(msg);
  const fields = { ...msg.fields, [field]: new Uint8Array(mac) };
  if (field === 128) delete fields[64];
  return { mti: msg.mti, fields };
}

/** The message without any MAC (fields 64 and 128 removed). */
export function withoutMac(msg: IsoMessage): IsoMessage {
  const fields = { ...msg.fields };
  delete fields[64];
  delete fields[128];
  return { mti: msg.mti, fields };
}

/**
 * The exact bytes the MAC covers: the message packed with its MAC field present, up to (not including) that field.
 * As the MAC field is the last one, that is the packed message without its last 8 bytes. Throws Iso8583Error when
 * the message does not pack.
 */
export function macInput(msg: IsoMessage): Buffer {
  const field = macFieldOf(msg);
  const fields = { ...withoutMac(msg).fields, [field]: new Uint8Array(MAC_LENGTH) };
  const packed = pack({ mti: msg.mti, fields });
  return packed.subarray(0, packed.length - MAC_LENGTH);
}
