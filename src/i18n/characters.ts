/**
 * Every character the catalogues can put on a screen or a slip: what the display's glyph subset must hold
 * (`npm run glyphs` extracts it from GNU Unifont). Parameterised texts are called with samples, both branches of a
 * count included (1 and 2).
 */
import { LANGUAGES, messagesFor } from './index.js';

function textsOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (typeof value === 'function')
    return [1, 2].map((sample) => String((value as (x: never) => unknown)(sample as never)));
  if (value && typeof value === 'object') return Object.values(value).flatMap(textsOf);
  return [];
}

/** The characters of every catalogue, in code point order. */
export function catalogueCharacters(): string[] {
  const set = new Set<string>();
  for (const language of LANGUAGES)
    for (const text of textsOf(messagesFor(language))) for (const ch of text) set.add(ch);
  return [...set].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
}
