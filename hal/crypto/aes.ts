/** AES block operations (ECB over whole blocks): the primitive of AES DUKPT and the ISO 9564 format 4 PIN block. */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { CryptoInputError } from './des.js';

const NAMES: Record<number, string> = { 16: 'aes-128-ecb', 24: 'aes-192-ecb', 32: 'aes-256-ecb' };

function ecb(mode: 'encrypt' | 'decrypt', key: Uint8Array, data: Uint8Array): Buffer {
  const name = NAMES[key.length];
  if (!name) throw new CryptoInputError(`an AES key is 16, 24 or 32 bytes, got ${key.length}`);
  if (data.length % 16 !== 0) throw new CryptoInputError(`AES data must be whole 16-byte blocks, got ${data.length}`);
  const cipher = mode === 'encrypt' ? createCipheriv(name, key, null) : createDecipheriv(name, key, null);
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(data), cipher.final()]);
}

export function aesEncrypt(key: Uint8Array, data: Uint8Array): Buffer {
  return ecb('encrypt', key, data);
}

export function aesDecrypt(key: Uint8Array, data: Uint8Array): Buffer {
  return ecb('decrypt', key, data);
}
