/** Every two-character field 39 value (digits and letters, both cases): what a hostile host may answer. */
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const EVERY_TWO_CHARACTER_CODE: readonly string[] = [...ALPHABET].flatMap((a) =>
  [...ALPHABET].map((b) => a + b),
);
