/**
 * The host's keys: a terminal master key per terminal (given at start, as an acquirer's key custodians load it), the
 * session MAC key each sign-on hands out under it, and the MAC of each request and answer. A terminal the host holds
 * no master key for is not MACed at all (answered as before keys existed); one it does hold a key for must MAC
 * every financial, advice and reversal request. Keys never reach the ledger.
 */
import { randomBytes } from 'node:crypto';
import { desEncrypt, retailMac, tdesCheckValue } from '../../hal/crypto/index.js';
import { encodeKeyBlock, type IsoMessage, macInput, macOf, withMac, withoutMac } from '../iso8583/index.js';
import type { MessageClass } from './messages.js';

/** How the host gets the MAC wrong when told: a wrong MAC, none at all, or a wrong key check value at sign-on. */
export type MacFault = 'none' | 'wrong-mac' | 'missing-mac' | 'wrong-check-value';
export const MAC_FAULTS: readonly MacFault[] = ['none', 'wrong-mac', 'missing-mac', 'wrong-check-value'];

export function isMacedClass(cls: MessageClass): boolean {
  return cls !== 'network';
}

function macOfMessage(key: Uint8Array, message: IsoMessage): Buffer {
  return retailMac(key, macInput(message), 1);
}

export class HostKeys {
  private readonly masters = new Map<string, Buffer>();
  private readonly sessions = new Map<string, Buffer>();

  constructor(masterKeys: Readonly<Record<string, Uint8Array>> = {}) {
    for (const [terminalId, key] of Object.entries(masterKeys)) this.setMasterKey(terminalId, key);
  }

  setMasterKey(terminalId: string, key: Uint8Array): void {
    if (key.length !== 16) throw new RangeError('a terminal master key is 16 bytes (double-length TDES)');
    this.masters.set(terminalId, Buffer.from(key));
    this.sessions.delete(terminalId);
  }

  /** True when this terminal's financial messages must be MACed. */
  knows(terminalId: string): boolean {
    return this.masters.has(terminalId);
  }

  /** A fresh session key for the terminal, as field 48 of the 0810 (undefined: no master key, answer 63). */
  signOn(terminalId: string, fault: MacFault): string | undefined {
    const master = this.masters.get(terminalId);
    if (!master) return undefined;
    const session = randomBytes(16);
    this.sessions.set(terminalId, session);
    let checkValue = tdesCheckValue(session);
    if (fault === 'wrong-check-value') checkValue = checkValue === '000000' ? '111111' : '000000';
    return encodeKeyBlock({ encrypted: desEncrypt(master, session), checkValue });
  }

  /** Why the request's MAC fails, or undefined when it verifies. */
  verify(terminalId: string, request: IsoMessage): string | undefined {
    const session = this.sessions.get(terminalId);
    if (!session) return 'no sign-on: no session key';
    const carried = macOf(request);
    if (!carried) return 'no MAC';
    let expected: Buffer;
    try {
      expected = macOfMessage(session, request);
    } catch {
      return 'MAC input does not pack';
    }
    return expected.equals(Buffer.from(carried)) ? undefined : 'wrong MAC';
  }

  /** The answer with its MAC under the terminal's session key (spoiled or left out when told). */
  macAnswer(terminalId: string, answer: IsoMessage, fault: MacFault): IsoMessage {
    const session = this.sessions.get(terminalId);
    if (!session || fault === 'missing-mac') return withoutMac(answer);
    const bare = withoutMac(answer);
    const mac = macOfMessage(session, bare);
    if (fault === 'wrong-mac') mac[0] = (mac[0] ?? 0) ^ 0xff;
    return withMac(bare, mac);
  }
}
