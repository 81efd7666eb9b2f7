/**
 * ANSI X9.24-1:2009 triple DES DUKPT (Derived Unique Key Per Transaction).
 *
 * The 10-byte key serial number (KSN) is the initial KSN (key set ID, device ID) with a 21-bit transaction counter
 * in its rightmost bits. The host derives the device's initial key (IPEK) from the base derivation key (BDK) and the
 * KSN, then walks the set bits of the counter from the left, one non-reversible key generation per bit, to reach the
 * key of that transaction. The device never holds the IPEK after loading: it keeps the 21 future keys it will need.
 */
import { CryptoInputError, desEncrypt, xor } from './des.js';

export const TDES_KSN_BYTES = 10;
export const TDES_COUNTER_BITS = 21;
export const TDES_COUNTER_MASK = 0x1fffff;
/** A counter with more one-bits is never used: the keys it would need were never generated. */
export const TDES_MAX_ONE_BITS = 10;

/** The key-generation mask (X9.24-1 A.6): both halves XORed with C0C0C0C000000000. */
const KEY_MASK = Buffer.from('C0C0C0C000000000C0C0C0C000000000', 'hex');

/** The variants that turn a transaction key into a working key (X9.24-1:2009 A.6 and its Table A-1). */
export type TdesKeyUsage = 'pin' | 'mac-request' | 'mac-response' | 'data-request' | 'data-response';

const VARIANTS: Record<TdesKeyUsage, Buffer> = {
  pin: Buffer.from('00000000000000FF00000000000000FF', 'hex'),
  'mac-request': Buffer.from('000000000000FF00000000000000FF00', 'hex'),
  'mac-response': Buffer.from('00000000FF00000000000000FF000000', 'hex'),
  'data-request': Buffer.from('0000000000FF00000000000000FF0000', 'hex'),
  'data-response': Buffer.from('000000FF00000000000000FF00000000', 'hex'),
};

/** The device has used its last counter value: it must be reloaded with a new initial key. */
export class DukptExhaustedError extends Error {
  override readonly name = 'DukptExhaustedError';
}

export function checkKsn(ksn: Uint8Array): Buffer {
  if (ksn.length !== TDES_KSN_BYTES) throw new CryptoInputError(`a TDES DUKPT KSN is 10 bytes, got ${ksn.length}`);
  return Buffer.from(ksn);
}

function check16(key: Uint8Array, what: string): Buffer {
  if (key.length !== 16) throw new CryptoInputError(`a ${what} is 16 bytes, got ${key.length}`);
  return Buffer.from(key);
}

export function counterOf(ksn: Uint8Array): number {
  const k = checkKsn(ksn);
  return k.readUIntBE(7, 3) & TDES_COUNTER_MASK;
}

/** The KSN with its counter replaced. */
export function withCounter(ksn: Uint8Array, counter: number): Buffer {
  const k = checkKsn(ksn);
  const top = k.readUIntBE(7, 3) & ~TDES_COUNTER_MASK & 0xffffff;
  k.writeUIntBE((top | (counter & TDES_COUNTER_MASK)) >>> 0, 7, 3);
  return k;
}

export function oneBits(n: number): number {
  let count = 0;
  for (let v = n >>> 0; v !== 0; v &= v - 1) count++;
  return count;
}

/** The initial key (IPEK, "initial PIN encryption key") of the device whose KSN this is (counter ignored). */
export function deriveTdesIpek(bdk: Uint8Array, ksn: Uint8Array): Buffer {
  const base = check16(bdk, 'BDK');
  const ksn8 = withCounter(ksn, 0).subarray(0, 8);
  const left = desEncrypt(base, ksn8);
  const right = desEncrypt(xor(base, KEY_MASK), ksn8);
  return Buffer.concat([left, right]);
}

/** One non-reversible key generation: a new 16-byte key from the current key and the 8-byte KSN register. */
export function nonReversibleKey(key: Uint8Array, ksnRegister: Uint8Array): Buffer {
  const half = (k: Buffer): Buffer => {
    const left = k.subarray(0, 8);
    const right = k.subarray(8, 16);
    return xor(desEncrypt(left, xor(ksnRegister, right)), right);
  };
  const k = Buffer.from(key);
  const rightHalf = half(k);
  const leftHalf = half(xor(k, KEY_MASK));
  return Buffer.concat([leftHalf, rightHalf]);
}

/** The rightmost 8 bytes of the KSN with the counter set to `counter`: the register the key generation reads. */
function ksnRegister(ksn: Uint8Array, counter: number): Buffer {
  return withCounter(ksn, counter).subarray(2, 10);
}

/** The transaction key for the KSN's counter, from the initial key (host side, or rebuilding a device's state). */
export function tdesTransactionKeyFromIpek(ipek: Uint8Array, ksn: Uint8Array): Buffer {
  let key = check16(ipek, 'TDES DUKPT initial key');
  const counter = counterOf(ksn);
  let working = 0;
  for (let bit = 1 << (TDES_COUNTER_BITS - 1); bit !== 0; bit >>>= 1) {
    if ((counter & bit) === 0) continue;
    working |= bit;
    key = nonReversibleKey(key, ksnRegister(ksn, working));
  }
  return key;
}

/** Host side: the transaction key for this KSN, from the BDK. */
export function tdesTransactionKey(bdk: Uint8Array, ksn: Uint8Array): Buffer {
  return tdesTransactionKeyFromIpek(deriveTdesIpek(bdk, ksn), ksn);
}

/**
 * The working key of one usage from a transaction key. PIN and MAC keys are the variant itself; the data keys are
 * the variant encrypted under itself, half by half (X9.24-1:2009 A.4, "data encryption key").
 */
export function tdesWorkingKey(transactionKey: Uint8Array, usage: TdesKeyUsage): Buffer {
  const variant = xor(check16(transactionKey, 'TDES DUKPT transaction key'), VARIANTS[usage]);
  if (usage !== 'data-request' && usage !== 'data-response') return variant;
  return Buffer.concat([desEncrypt(variant, variant.subarray(0, 8)), desEncrypt(variant, variant.subarray(8, 16))]);
}

/** Host side in one call: BDK + KSN → the working key of that usage. */
export function tdesDukptKey(bdk: Uint8Array, ksn: Uint8Array, usage: TdesKeyUsage): Buffer {
  return tdesWorkingKey(tdesTransactionKey(bdk, ksn), usage);
}

/** The counter that follows `counter` on a device: +1, or past the values that would have too many one-bits. */
export function nextTdesCounter(counter: number): number {
  if (oneBits(counter) < TDES_MAX_ONE_BITS) return counter + 1;
  return counter + (counter & -counter);
}
