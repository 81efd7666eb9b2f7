import { describe, expect, it } from 'vitest';
import { tokenMatches } from '../../src/ecr/client-tokens.js';

describe('tokenMatches', () => {
  it('accepts any configured token and nothing else', () => {
    const tokens = ['till-1-secret', 'till-2-secret'];
    expect(tokenMatches('till-2-secret', tokens)).toBe(true);
    expect(tokenMatches('till-1-secret', tokens)).toBe(true);
    expect(tokenMatches('till-3-secret', tokens)).toBe(false);
    expect(tokenMatches('till-1-secre', tokens)).toBe(false);
    expect(tokenMatches('TILL-1-SECRET', tokens)).toBe(false);
  });

  it('refuses a missing or empty token, and never matches an empty configured one', () => {
    expect(tokenMatches(undefined, ['a'])).toBe(false);
    expect(tokenMatches('', ['', 'a'])).toBe(false);
    expect(tokenMatches('a', [])).toBe(false);
    expect(tokenMatches('a', [''])).toBe(false);
  });
});
