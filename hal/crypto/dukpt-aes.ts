/**
 * ANSI X9.24-3:2017 AES DUKPT, host side. Every key is derived by AES-ECB encrypting 16-byte derivation data blocks
 * under its parent key: version, key block counter, key usage, the algorithm and bit length of the derived key, then
 * the initial key ID (for the initial key) or the device's derivation ID and the transaction counter (the others).
 *
 * The 12-byte KSN is the 8-byte initial key ID (BDK ID, derivation ID) and a 32-bit transaction counter with at most
 * 16 one-bits.
 */
import { aesEncrypt } from './aes.js';
import { CryptoInputError } from './des.js';

export const AES_KSN_BYTES = 12;
export const AES_INITIAL_KEY_ID_BYTES = 8;
export const AES_MAX_ONE_BITS = 16;

export type AesDukptKeyType = '2tdea' | '3tdea' | 'aes128' | 'aes192' | 'aes256';

const ALGORITHM: Record<AesDukptKeyType, { code: number; bits: number }> = {
  '2tdea': { code: 0, bits: 128 },
  '3tdea': { code: 1, bits: 192 },
  aes128: { code: 2, bits: 128 },
  aes192: { code: 3, bits: 192 },
  aes256: { code: 4, bits: 256 },
};

/** The working key usages of X9.24-3 (the two key derivation usages stay internal). */
export type AesKeyUsage =
  | 'key-encryption'
  | 'pin'
  | 'mac-generation'
  | 'mac-verification'
  | 'mac-both'
  | 'data-encrypt'
  | 'data-decrypt'
  | 'data-both';

const USAGE: Record<AesKeyUsage | 'derivation' | 'initial-key', number> = {
  'key-encryption': 0x0002,
  pin: 0x1000,
  'mac-generation': 0x2000,
  'mac-verification': 0x2001,
  'mac-both': 0x2002,
  'data-encrypt': 0x3000,
  'data-decrypt': 0x3001,
  'data-both': 0x3002,
  derivation: 0x8000,
  'initial-key': 0x8001,
};

export function aesKeyTypeOf(key: Uint8Array): AesDukptKeyType {
  if (key.length === 16) return 'aes128';
  if (key.length === 24) return 'aes192';
  if (key.length === 32) return 'aes256';
  throw new CryptoInputError(`an AES DUKPT key is 16, 24 or 32 bytes, got ${key.length}`);
}

export function checkAesKsn(ksn: Uint8Array): Buffer {
  if (ksn.length !== AES_KSN_BYTES) throw new CryptoInputError(`an AES DUKPT KSN is 12 bytes, got ${ksn.length}`);
  return Buffer.from(ksn);
}

export function aesCounterOf(ksn: Uint8Array): number {
  return checkAesKsn(ksn).readUInt32BE(8);
}

export function aesKsn(initialKeyId: Uint8Array, counter: number): Buffer {
  if (initialKeyId.length !== AES_INITIAL_KEY_ID_BYTES) {
    throw new CryptoInputError(`an AES DUKPT initial key ID is 8 bytes, got ${initialKeyId.length}`);
  }
  const ksn = Buffer.alloc(AES_KSN_BYTES);
  ksn.set(initialKeyId, 0);
  ksn.writeUInt32BE(counter >>> 0, 8);
  return ksn;
}

/** The 16-byte derivation data (X9.24-3 6.3.2); `tail` is the initial key ID, or derivation ID + counter. */
function derivationData(usage: number, type: AesDukptKeyType, tail: Uint8Array): Buffer {
  const data = Buffer.alloc(16);
  data[0] = 0x01;
  data[1] = 0x01;
  data.writeUInt16BE(usage, 2);
  data.writeUInt16BE(ALGORITHM[type].code, 4);
  data.writeUInt16BE(ALGORITHM[type].bits, 6);
  data.set(tail, 8);
  return data;
}

/** Derive a key of `type` under `parent`: one AES block per 128 bits, the key block counter in byte 1. */
function deriveKey(parent: Uint8Array, data: Buffer, type: AesDukptKeyType): Buffer {
  const bytes = ALGORITHM[type].bits / 8;
  const blocks: Buffer[] = [];
  for (let i = 1; i * 16 - 16 < bytes; i++) {
    data[1] = i;
    blocks.push(aesEncrypt(parent, data));
  }
  return Buffer.concat(blocks).subarray(0, bytes);
}

function counterTail(ksn: Buffer, counter: number): Buffer {
  const tail = Buffer.alloc(8);
  ksn.copy(tail, 0, 4, 8);
  tail.writeUInt32BE(counter >>> 0, 4);
  return tail;
}

/** The initial key loaded into the device with this initial key ID, from the BDK (same type as the BDK). */
export function deriveAesInitialKey(bdk: Uint8Array, initialKeyId: Uint8Array): Buffer {
  const type = aesKeyTypeOf(bdk);
  if (initialKeyId.length !== AES_INITIAL_KEY_ID_BYTES) {
    throw new CryptoInputError(`an AES DUKPT initial key ID is 8 bytes, got ${initialKeyId.length}`);
  }
  return deriveKey(bdk, derivationData(USAGE['initial-key'], type, initialKeyId), type);
}

/** One step down the tree: the intermediate derivation key of `counter` under its parent. */
export function aesDerivationKey(parent: Uint8Array, ksn: Uint8Array, counter: number): Buffer {
  const type = aesKeyTypeOf(parent);
  return deriveKey(parent, derivationData(USAGE.derivation, type, counterTail(checkAesKsn(ksn), counter)), type);
}

/** The transaction (derivation) key of the KSN's counter, from the initial key. */
export function aesTransactionKeyFromInitialKey(initialKey: Uint8Array, ksn: Uint8Array): Buffer {
  const counter = aesCounterOf(ksn);
  let key: Buffer = Buffer.from(initialKey);
  aesKeyTypeOf(key);
  let working = 0;
  for (let bit = 0x80000000; bit >= 1; bit /= 2) {
    if (Math.floor(counter / bit) % 2 === 0) continue;
    working += bit;
    key = aesDerivationKey(key, ksn, working);
  }
  return key;
}

/** The working key of one usage from a transaction key. */
export function aesWorkingKey(
  transactionKey: Uint8Array,
  ksn: Uint8Array,
  usage: AesKeyUsage,
  type: AesDukptKeyType = 'aes128',
): Buffer {
  const k = checkAesKsn(ksn);
  aesKeyTypeOf(transactionKey);
  return deriveKey(transactionKey, derivationData(USAGE[usage], type, counterTail(k, aesCounterOf(k))), type);
}

/** Host side in one call: BDK + KSN → the working key of that usage and type. */
export function aesDukptKey(
  bdk: Uint8Array,
  ksn: Uint8Array,
  usage: AesKeyUsage,
  type: AesDukptKeyType = 'aes128',
): Buffer {
  const k = checkAesKsn(ksn);
  const initial = deriveAesInitialKey(bdk, k.subarray(0, AES_INITIAL_KEY_ID_BYTES));
  return aesWorkingKey(aesTransactionKeyFromInitialKey(initial, k), k, usage, type);
}
