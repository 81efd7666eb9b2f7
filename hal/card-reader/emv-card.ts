/**
 * A deterministic EMV card: what the chip of a test card does, so the mock reader and the card module emulator
 * answer as a real card would and the host simulator can check every cryptogram. Each card has its ICC master key
 * derived from an issuer master key (option A), an application transaction counter incremented per transaction, a
 * CVM list, issuer action codes, and a behaviour for the branch it stands for.
 */
import {
  acSessionKey,
  applicationCryptogram,
  arpcValid,
  CID,
  cdolBytes,
  type CdolData,
  type CryptogramType,
  deriveIccMasterKey,
} from '../emv/cryptogram.js';
import { TEST_ISSUER_MASTER_KEY } from '../emv/test-issuer-key.js';
import { decodeTlv, isConstructed, type TlvNode } from '../emv/tlv.js';

export type EmvCardBehaviour =
  /** Answers as the issuer's keys and the host's answer say. */
  | 'normal'
  /** Declines (AAC) at the second GENERATE AC although the host approved and the ARPC verified. */
  | 'decline-after-approval'
  /** Leaves the reader between the first and the second GENERATE AC. */
  | 'remove-before-completion'
  /** The chip does not answer: the terminal falls back to the magnetic stripe. */
  | 'chip-error';

export interface EmvCardProfile {
  pan: string;
  /** 5F34, two digits. */
  panSequenceNumber: string;
  /** YYMM. */
  expiry: string;
  /** 84 / 4F as hex. */
  aid: string;
  /** 82 as hex. */
  aip: string;
  /** 8E. */
  cvmList: Uint8Array;
  /** 9F0E, 9F0F, 9F0D as hex (5 bytes each); absent ones act as Book 3 says. */
  iac?: { denial?: string; online?: string; default?: string };
  /** The card approves offline (TC) when the terminal asks for it; otherwise it goes online. */
  offlineAllowed: boolean;
  behaviour: EmvCardBehaviour;
  /** ATC before the first transaction. Default 0. */
  atc?: number;
  /** Default: the test issuer master key the host simulator verifies with. */
  issuerMasterKey?: Uint8Array;
}

export interface GenerateAcResult {
  type: CryptogramType;
  cryptogram: Buffer;
  atc: number;
  /** 9F10: length, key index, cryptogram version 0A, card verification results (Visa CVN 10 layout). */
  issuerApplicationData: Uint8Array;
}

/** What the terminal gives the card for a cryptogram: the CDOL data but the card's own objects. */
export type TerminalCdol = Omit<CdolData, 'aip' | 'atc' | 'issuerApplicationData'>;

/** Script commands the model's card carries out: application block and unblock, PIN change, PUT DATA, UPDATE RECORD. */
const SCRIPT_INSTRUCTIONS = new Set([0x1e, 0x18, 0x24, 0xda, 0xdc]);

export class EmvCard {
  private atcValue: number;
  private readonly masterKey: Buffer;
  private sessionKey: Buffer | undefined;
  private firstCryptogram: Buffer | undefined;
  private firstType: CryptogramType | undefined;
  private blocked = false;
  private issuerAuthenticationFailed = false;

  constructor(readonly profile: EmvCardProfile) {
    this.atcValue = profile.atc ?? 0;
    this.masterKey = deriveIccMasterKey(
      profile.issuerMasterKey ?? TEST_ISSUER_MASTER_KEY,
      profile.pan,
      profile.panSequenceNumber,
    );
  }

  get atc(): number {
    return this.atcValue;
  }

  /** An APPLICATION BLOCK script has run: every later transaction is declined by the card. */
  get applicationBlocked(): boolean {
    return this.blocked;
  }

  /** First GENERATE AC. The ATC moves on for every transaction, as a card's does at GET PROCESSING OPTIONS. */
  firstGenerateAc(requested: CryptogramType, terminal: TerminalCdol): GenerateAcResult {
    this.atcValue = (this.atcValue + 1) & 0xffff;
    this.sessionKey = acSessionKey(this.masterKey, this.atcValue);
    let type: CryptogramType = requested;
    if (this.blocked) type = 'AAC';
    else if (requested === 'TC' && !this.profile.offlineAllowed) type = 'ARQC';
    const result = this.generate(type, terminal, cvrByte2(type, undefined), 0);
    this.firstType = type;
    this.firstCryptogram = type === 'ARQC' ? result.cryptogram : undefined;
    this.issuerAuthenticationFailed = false;
    return result;
  }

  /**
   * EXTERNAL AUTHENTICATE: tag 91 checked against this transaction's ARQC. A failure is remembered and makes the
   * card decline at the second GENERATE AC.
   */
  externalAuthenticate(tag91: Uint8Array): boolean {
    if (!this.sessionKey || !this.firstCryptogram) return false;
    const ok = arpcValid(this.sessionKey, this.firstCryptogram, tag91);
    if (!ok) this.issuerAuthenticationFailed = true;
    return ok;
  }

  /**
   * Second GENERATE AC, after the host's answer (or its absence): `arc` is 8A as CDOL2 gives it to the card, the
   * host's code or the terminal's Y3/Z3.
   */
  secondGenerateAc(requested: 'TC' | 'AAC', terminal: TerminalCdol, arc: string): GenerateAcResult {
    if (this.firstType !== 'ARQC' || !this.sessionKey || !this.firstCryptogram) {
      throw new Error('second GENERATE AC without an ARQC');
    }
    const failed = this.issuerAuthenticationFailed;
    let type: CryptogramType = requested;
    const online = arc !== 'Y3' && arc !== 'Z3';
    if (failed || this.blocked || (online && this.profile.behaviour === 'decline-after-approval')) type = 'AAC';
    const result = this.generate(type, terminal, cvrByte2('ARQC', type), failed ? 0x40 : 0);
    this.firstType = undefined;
    this.firstCryptogram = undefined;
    this.issuerAuthenticationFailed = false;
    return result;
  }

  /**
   * Runs the issuer scripts of one kind (71 before the second GENERATE AC, 72 after) and returns their results
   * (9F5B: per script, the result in the high nibble with the failing command's number, then its 9F18 identifier).
   */
  runScripts(templates: readonly TlvNode[]): Uint8Array {
    const results: number[] = [];
    for (const template of templates) {
      if (!isConstructed(template)) continue;
      const idNode = template.children.find((n) => n.tag === '9F18');
      const id = idNode && !isConstructed(idNode) && idNode.value.length === 4 ? [...idNode.value] : [0, 0, 0, 0];
      const commands = template.children.filter((n) => n.tag === '86');
      let failedAt = 0;
      commands.forEach((command, i) => {
        if (failedAt === 0 && !(!isConstructed(command) && this.runCommand(command.value))) failedAt = i + 1;
      });
      const status = failedAt === 0 && commands.length > 0 ? 0x20 : 0x10 | Math.min(failedAt, 0x0f);
      results.push(status, ...id);
    }
    return Uint8Array.from(results);
  }

  private runCommand(apdu: Uint8Array): boolean {
    if (apdu.length < 5 || apdu[4] !== apdu.length - 5) return false;
    const ins = apdu[1]!;
    if (!SCRIPT_INSTRUCTIONS.has(ins)) return false;
    if (ins === 0x1e) this.blocked = true;
    if (ins === 0x18) this.blocked = false;
    return true;
  }

  private generate(type: CryptogramType, terminal: TerminalCdol, acBits: number, cvrByte3: number): GenerateAcResult {
    const atc = Buffer.alloc(2);
    atc.writeUInt16BE(this.atcValue);
    const iad = Uint8Array.of(0x06, 0x01, 0x0a, 0x03, acBits, cvrByte3, 0x00);
    const data: CdolData = { ...terminal, aip: hexBytes(this.profile.aip), atc, issuerApplicationData: iad };
    const cryptogram = applicationCryptogram(this.sessionKey ?? Buffer.alloc(16), cdolBytes(data));
    return { type, cryptogram, atc: this.atcValue, issuerApplicationData: iad };
  }
}

/** CVR byte 2: bits 8-7 the second AC (00 AAC, 01 TC, 10 not asked), bits 6-5 the first (00 AAC, 01 TC, 10 ARQC). */
function cvrByte2(first: CryptogramType, second: CryptogramType | undefined): number {
  const code = (t: CryptogramType | undefined): number => (t === 'TC' ? 1 : t === 'ARQC' || t === undefined ? 2 : 0);
  return (code(second) << 6) | (code(first) << 4);
}

export function cidOf(type: CryptogramType): Uint8Array {
  return Uint8Array.of(CID[type]);
}

export function hexBytes(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

/** The 71 or 72 templates in the host's script data. Malformed data runs no script. */
export function scriptTemplates(scripts: Uint8Array | undefined, tag: '71' | '72'): TlvNode[] {
  if (!scripts || scripts.length === 0) return [];
  try {
    return decodeTlv(scripts).filter((n) => n.tag === tag);
  } catch {
    return [];
  }
}
