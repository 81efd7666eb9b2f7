/**
 * The MAC of the terminal's conversation with the host (ISO 9797-1 algorithm 3 over the packed message, in field 64
 * or 128): every financial, advice and reversal request is MACed under the session key from the last sign-on, and
 * every answer to one must carry a MAC that verifies. The key is held only here, in a private field, so it never
 * shows in a log line, an error or a JSON dump.
 */
import { retailMac } from '../../hal/crypto/index.js';
import { type IsoMessage, macInput, macOf, withMac, withoutMac } from '../iso8583/index.js';

/** Requests that move money, hold it (0100), take it back or settle it: 0100, 0200, 0220/0221, 0400/0401, 0420/0421, 0500, 0320/0321. */
const MACED_REQUESTS: ReadonlySet<string> = new Set([
  '0100',
  '0200',
  '0220',
  '0221',
  '0400',
  '0401',
  '0420',
  '0421',
  '0500',
  '0320',
  '0321',
]);

export function isMacedRequest(mti: string): boolean {
  return MACED_REQUESTS.has(mti);
}

export type MacMode = 'required' | 'off';

export type MacCheck = { ok: true } | { ok: false; why: 'missing' | 'wrong' | 'unreadable' };

/** The MAC of `message` under a 16-byte key; throws Iso8583Error when the message does not pack. */
export function computeMac(key: Uint8Array, message: IsoMessage): Buffer {
  return retailMac(key, macInput(message), 1);
}

/** Whether the MAC `message` carries is the one `key` gives. */
export function checkMac(key: Uint8Array, message: IsoMessage): MacCheck {
  const carried = macOf(message);
  if (carried === undefined) return { ok: false, why: 'missing' };
  let expected: Buffer;
  try {
    expected = computeMac(key, message);
  } catch {
    return { ok: false, why: 'unreadable' };
  }
  return expected.equals(Buffer.from(carried)) ? { ok: true } : { ok: false, why: 'wrong' };
}

export class MacSession {
  #key: Buffer | undefined;
  /** Why there is no key, for the error a refused request carries. */
  private missingWhy = 'no sign-on yet';
  private readonly listeners: Array<(why: string) => void> = [];

  constructor(readonly mode: MacMode) {}

  get required(): boolean {
    return this.mode === 'required';
  }

  hasKey(): boolean {
    return this.#key !== undefined;
  }

  /** Why no key is held (empty when one is). */
  whyNoKey(): string {
    return this.#key ? '' : this.missingWhy;
  }

  setKey(key: Uint8Array): void {
    if (key.length !== 16) throw new RangeError('a session MAC key is 16 bytes');
    this.#key?.fill(0);
    this.#key = Buffer.from(key);
  }

  /** Forgets the key (a MAC that failed, a refused sign-on) and tells the listeners, which sign on again. */
  dropKey(why: string): void {
    this.#key?.fill(0);
    this.#key = undefined;
    this.missingWhy = why;
    for (const listener of this.listeners) listener(why);
  }

  /** Set by the owner of the keys: a sign-on under way (or started), waited for before a request goes without key. */
  keySource: (() => Promise<unknown>) | undefined;

  async waitForKey(): Promise<void> {
    await this.keySource?.().catch(() => undefined);
  }

  /** Forgets the key without asking for another (the sign-on that would give one just failed). */
  dropKeySilently(why: string): void {
    this.#key?.fill(0);
    this.#key = undefined;
    this.missingWhy = why;
  }

  /** Told when the key is dropped: the owner signs on again. */
  onKeyDropped(listener: (why: string) => void): void {
    this.listeners.push(listener);
  }

  /**
   * The request with its MAC and the check of its answer under the same key (a key changed meanwhile does not
   * matter), or undefined when no key is held.
   */
  sign(request: IsoMessage): { message: IsoMessage; check: (answer: IsoMessage) => MacCheck } | undefined {
    if (!this.#key) return undefined;
    const key = Buffer.from(this.#key);
    const bare = withoutMac(request);
    return { message: withMac(bare, computeMac(key, bare)), check: (answer) => checkMac(key, answer) };
  }
}
