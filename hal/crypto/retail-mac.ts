/**
 * ISO 9797-1 MAC algorithm 3 (the "retail MAC" of ANSI X9.19): CBC-MAC with single DES under K, then the last block
 * decrypted under K' and encrypted under K again. It MACs ISO 8583 messages (field 64/128) and is the block MAC of the
 * EMV application cryptograms.
 */
import { CryptoInputError, desDecrypt, desEncrypt, xor } from './des.js';

/** ISO 9797-1 padding method 1 (zeros to a whole block; none when already whole) or 2 (0x80 then zeros, always). */
export type MacPadding = 1 | 2;

export function padForMac(data: Uint8Array, method: MacPadding): Buffer {
  const marked = method === 2 ? Buffer.concat([Buffer.from(data), Buffer.from([0x80])]) : Buffer.from(data);
  const rest = marked.length % 8;
  const padded = rest === 0 && marked.length > 0 ? marked : Buffer.concat([marked, Buffer.alloc(8 - rest)]);
  return padded;
}

/** The 8-byte MAC of `data` under a 16-byte key (K = first 8 bytes, K' = last 8). */
export function retailMac(key: Uint8Array, data: Uint8Array, padding: MacPadding = 1): Buffer {
  if (key.length !== 16) throw new CryptoInputError(`a retail MAC key is 16 bytes, got ${key.length}`);
  const k1 = key.subarray(0, 8);
  const k2 = key.subarray(8, 16);
  const padded = padForMac(data, padding);
  let chain: Buffer = Buffer.alloc(8);
  for (let offset = 0; offset < padded.length; offset += 8)
    chain = desEncrypt(k1, xor(chain, padded.subarray(offset, offset + 8)));
  return desEncrypt(k1, desDecrypt(k2, chain));
}
