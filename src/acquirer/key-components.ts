/**
 * A terminal master key as key custodians load it: two or three clear components, each entered with its check value
 * and confirmed before use, XORed into the key; the result's check value is what the host's custodians compare.
 * Nothing here keeps or prints a component or the key.
 */
import { randomBytes } from 'node:crypto';
import { tdesCheckValue, xor } from '../../hal/crypto/index.js';

export type KeyLoadErrorCode = 'component-count' | 'bad-component' | 'component-check-value' | 'weak-key';

export class KeyLoadError extends Error {
  override readonly name = 'KeyLoadError';
  constructor(
    readonly code: KeyLoadErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface KeyComponent {
  /** 32 hex digits: a double-length TDES key part. */
  hex: string;
  /** Its check value as printed on the custodian's form: 6 hex digits. */
  checkValue: string;
}

const COMPONENT = /^[0-9A-Fa-f]{32}$/;
const CHECK_VALUE = /^[0-9A-Fa-f]{6}$/;

/** The key the components make and its check value; KeyLoadError names the component at fault (never its value). */
export function combineComponents(components: readonly KeyComponent[]): { key: Buffer; checkValue: string } {
  if (components.length < 2 || components.length > 3)
    throw new KeyLoadError(
      'component-count',
      `a master key is loaded from 2 or 3 components, got ${components.length}`,
    );
  let key: Buffer = Buffer.alloc(16);
  components.forEach((c, i) => {
    const n = i + 1;
    if (!COMPONENT.test(c.hex)) throw new KeyLoadError('bad-component', `component ${n} is not 32 hex digits`);
    if (!CHECK_VALUE.test(c.checkValue))
      throw new KeyLoadError('bad-component', `the check value of component ${n} is not 6 hex digits`);
    const part = Buffer.from(c.hex, 'hex');
    const actual = tdesCheckValue(part);
    if (actual !== c.checkValue.toUpperCase())
      throw new KeyLoadError(
        'component-check-value',
        `component ${n} has check value ${actual}, not ${c.checkValue.toUpperCase()}: re-enter it`,
      );
    const next = xor(key, part);
    key.fill(0);
    part.fill(0);
    key = next;
  });
  const halves = [key.subarray(0, 8), key.subarray(8)];
  if (halves[0]!.equals(halves[1]!) || key.every((b) => b === 0)) {
    key.fill(0);
    throw new KeyLoadError('weak-key', 'the components make a key with equal halves (single DES): refused');
  }
  return { key, checkValue: tdesCheckValue(key) };
}

/** A random double-length key, for the embedded simulator's test master key. */
export function randomDoubleLengthKey(): Buffer {
  return randomBytes(16);
}
