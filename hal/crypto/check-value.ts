/** Key check values: how two parties confirm they hold the same key without showing it. */
import { desEncrypt } from './des.js';

/** The triple DES key check value: the first 3 bytes of a block of zeros encrypted under the key, as hex. */
export function tdesCheckValue(key: Uint8Array): string {
  return desEncrypt(key, Buffer.alloc(8)).subarray(0, 3).toString('hex').toUpperCase();
}
