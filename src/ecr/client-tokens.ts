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
  return matchingToken(presented, tokens) !== undefined;
}

/**
 * The index of the configured token `presented` equals, or undefined; compared as tokenMatches does. The index names
 * a register (for per-client limits and lockouts) without the token itself ever being kept or logged.
 */
export function matchingToken(presented: string | undefined, tokens: readonly string[]): number | undefined {
  if (typeof presented !== 'string' || presented.length === 0) return undefined;
  const mine = digest(presented);
  let matched: number | undefined;
  tokens.forEach((token, i) => {
    if (typeof token !== 'string' || token.length === 0) return;
    if (timingSafeEqual(mine, digest(token)) && matched === undefined) matched = i;
  });
  return matched;
}
