/**
 * Supervisor PINs are stored only as a slow salted hash (scrypt), in the form
 * `scrypt$N$r$p$<salt base64>$<hash base64>`. Verification is constant-time.
 */
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

const DEFAULTS = { N: 16_384, r: 8, p: 1, keyLength: 32 };
export const PIN_HASH_PATTERN = /^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/;

export function hashPin(pin: string, salt: Buffer = randomBytes(16)): string {
  const { N, r, p, keyLength } = DEFAULTS;
  const hash = scryptSync(pin, salt, keyLength, { N, r, p });
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export function verifyPin(pin: string, stored: string): boolean {
  if (!PIN_HASH_PATTERN.test(stored)) return false;
  const [, n, r, p, saltB64, hashB64] = stored.split('$') as [string, string, string, string, string, string];
  const expected = Buffer.from(hashB64, 'base64');
  const actual = scryptSync(pin, Buffer.from(saltB64, 'base64'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: 256 * Number(n) * Number(r),
  });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
