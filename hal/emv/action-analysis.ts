/**
 * Terminal action analysis (EMV Book 3 section 10.7): the TVR held against the terminal's and the issuer's action
 * codes decides what the terminal asks of the card: AAC (decline offline), ARQC (go online) or TC (approve offline).
 * When the host cannot be reached, the default codes decide between approving (Y3) and declining (Z3) offline.
 */

export interface ActionCodes {
  denial: Uint8Array;
  online: Uint8Array;
  default: Uint8Array;
}

/** Issuer action codes a card does not carry: denial none, online and default every bit (Book 3 10.7). */
export const ABSENT_IAC: Readonly<ActionCodes> = {
  denial: new Uint8Array(5),
  online: new Uint8Array(5).fill(0xff),
  default: new Uint8Array(5).fill(0xff),
};

function matches(tvr: Uint8Array, tac: Uint8Array, iac: Uint8Array): boolean {
  for (let i = 0; i < 5; i++) if (((tvr[i] ?? 0) & ((tac[i] ?? 0) | (iac[i] ?? 0))) !== 0) return true;
  return false;
}

/** The first decision: denial codes first, then online codes (an offline-only terminal uses the default codes). */
export function terminalActionAnalysis(
  tvr: Uint8Array,
  tac: ActionCodes,
  iac: ActionCodes,
  onlineCapable = true,
): 'AAC' | 'ARQC' | 'TC' {
  if (matches(tvr, tac.denial, iac.denial)) return 'AAC';
  if (onlineCapable) return matches(tvr, tac.online, iac.online) ? 'ARQC' : 'TC';
  return matches(tvr, tac.default, iac.default) ? 'AAC' : 'TC';
}

/** Unable to go online: approve (Y3) unless a default code matches (Z3). */
export function defaultActionAnalysis(tvr: Uint8Array, tac: ActionCodes, iac: ActionCodes): 'Y3' | 'Z3' {
  return matches(tvr, tac.default, iac.default) ? 'Z3' : 'Y3';
}

/** TVR bits as Book 3 Annex C5 numbers them: byte 1-5, bit 8-1. */
export function setTvrBit(tvr: Uint8Array, byte: number, bit: number): void {
  tvr[byte - 1] = (tvr[byte - 1] ?? 0) | (1 << (bit - 1));
}
