/**
 * DES and triple DES block operations, the primitives of the payment-industry algorithms (retail MAC, DUKPT, PIN
 * blocks, key check values). Node's OpenSSL keeps single DES in its legacy provider, so single DES is run as triple
 * DES with the same key three times (EDE with K1 = K2 = K3 is DES under K).
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';

export class CryptoInputError extends Error {
  override readonly name = 'CryptoInputError';
}

function ecb(mode: 'encrypt' | 'decrypt', key: Uint8Array, data: Uint8Array): Buffer {
  if (data.length % 8 !== 0)
    throw new CryptoInputError(`DES data must be whole 8-byte blocks, got ${data.length} bytes`);
  const k = tripleKey(key);
  const cipher =
    mode === 'encrypt' ? createCipheriv('des-ede3-ecb', k, null) : createDecipheriv('des-ede3-ecb', k, null);
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(data), cipher.final()]);
}

/** An 8-, 16- or 24-byte DES key as the 24 bytes of EDE3 (K1 K2 K3). */
function tripleKey(key: Uint8Array): Buffer {
  const k = Buffer.from(key);
  if (k.length === 8) return Buffer.concat([k, k, k]);
  if (k.length === 16) return Buffer.concat([k, k.subarray(0, 8)]);
  if (k.length === 24) return k;
  throw new CryptoInputError(`a DES key is 8, 16 or 24 bytes, got ${k.length}`);
}

/** DES (8-byte key) or triple DES (16- or 24-byte key) ECB encryption of whole blocks. */
export function desEncrypt(key: Uint8Array, data: Uint8Array): Buffer {
  return ecb('encrypt', key, data);
}

export function desDecrypt(key: Uint8Array, data: Uint8Array): Buffer {
  return ecb('decrypt', key, data);
}

export function xor(a: Uint8Array, b: Uint8Array): Buffer {
  if (a.length !== b.length) throw new CryptoInputError(`xor of ${a.length} and ${b.length} bytes`);
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (a[i] ?? 0) ^ (b[i] ?? 0);
  return out;
}
