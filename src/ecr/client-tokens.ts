/** The ECR token check shared by the ECR server and anything else that accepts a register's token. */
import { createHash, timingSafeEqual } from 'node:crypto';

// Hashing first gives equal-length buffers, so the comparison time does not reveal a token's length.
function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/**
 * True when `presented` equals one of `tokens`. Every token is compared, without stopping at a match. An empty token,
 * presented or configured, never matches: an empty configuration entry must not open the door.
 */
export function tokenMatches(presented: string | undefined, tokens: readonly string[]): boolean {
  if (typeof presented !== 'string' || presented.length === 0) return false;
  const mine = digest(presented);
  let matched = false;
  for (const token of tokens) {
    if (typeof token !== 'string' || token.length === 0) continue;
    if (timingSafeEqual(mine, digest(token))) matched = true;
  }
  return matched;
}
