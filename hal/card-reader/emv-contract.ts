/**
 * The EMV steps of the reader contract. The reader's kernel (the card module's, or the mock's card model) runs
 * the card side: application data, CVM selection from the card's list, terminal action analysis and the two
 * GENERATE AC commands. The transaction machine gives it the transaction and the host's answer, and gets back the
 * decisions and field 55. Faults: 'card-removed' (the card left before completion), 'chip-error' (the chip failed:
 * the caller may fall back to the magnetic stripe), 'read-failed' (no card, or no EMV transaction to complete).
 */
import type { CvmOutcome } from '../emv/cvm.js';

export type { CvmOutcome } from '../emv/cvm.js';

export interface EmvTerminalActionCodes {
  /** 5 bytes as hex each (TVR bits). */
  denial: string;
  online: string;
  default: string;
}

export interface EmvStartInput {
  /** 9F02, minor units of the transaction currency. */
  amount: number;
  /** 9F03 (cash back), minor units. Default 0. */
  amountOther?: number;
  /** 5F2A: ISO 4217 numeric, e.g. 978. */
  currencyNumeric: number;
  /** 9F1A: ISO 3166 numeric, e.g. 250. */
  countryNumeric: number;
  /** 9C as two digits: '00' goods and services, '01' cash, '09' cash back, '20' refund. */
  transactionType: string;
  /** 9A: YYMMDD. */
  date: string;
  /** 9F37: 4 bytes from the terminal's random source. */
  unpredictableNumber: Uint8Array;
  /** 9F33, 3 bytes as hex (byte 2 says which CVMs the terminal can capture). */
  terminalCapabilities: string;
  /** 9F35, two digits. Default '22' (attended, online with offline capability, merchant). */
  terminalType?: string;
  /** TVR bits the terminal has already set (e.g. merchant forced online), 5 bytes as hex. Default zeros. */
  tvrStart?: string;
  /** Terminal floor limit, minor units: above it the TVR says so (byte 4 bit 8). */
  floorLimit: number;
  tac: EmvTerminalActionCodes;
  /** Contactless: at or below this amount no CVM is asked. */
  contactlessCvmLimit?: number;
  /** Contactless: above this amount the card may not be tapped (the result says 'try-another-interface'). */
  contactlessTransactionLimit?: number;
  /** The terminal can go online. Default true. */
  onlineCapable?: boolean;
}

export type EmvDecisionReason =
  /** The terminal's or the issuer's denial codes matched the TVR. */
  | 'denial-codes'
  /** The card declined where the terminal asked for more. */
  | 'card-declined'
  /** Contactless above the contactless transaction limit: insert or swipe. */
  | 'try-another-interface'
  /** The host approved but the card answered AAC at the second decision. */
  | 'card-declined-after-approval'
  /** The ARPC in tag 91 did not verify: the issuer is not authenticated. */
  | 'issuer-authentication-failed'
  /** The host declined; the card was told. */
  | 'host-declined'
  /** The host was not reached: the default codes approved (Y3) or declined (Z3). */
  | 'unable-online-approved'
  | 'unable-online-declined';

export interface EmvStartResult {
  /** The card's first decision: ARQC go online, TC approved offline (Y1), AAC declined offline (Z1). */
  decision: 'ARQC' | 'TC' | 'AAC';
  reason?: EmvDecisionReason;
  /** Field 55 as BER-TLV: the required tags, never the PAN, track 2 or the name. */
  iccData: Uint8Array;
  /** The CVM the terminal must capture (online PIN goes to the PIN pad; signature on the receipt). */
  cvm: CvmOutcome;
  /** 9F34, 3 bytes. */
  cvmResults: Uint8Array;
  /** 95 as sent, 5 bytes. */
  tvr: Uint8Array;
  /** The offline approval code when the card approved offline (Y1) or declined offline (Z1). */
  authorizationResponseCode?: 'Y1' | 'Z1';
}

/** The host answered (any field 39). */
export interface EmvOnlineAnswer {
  hostReached: true;
  /** The field-39 class as the terminal read it (never a literal comparison with '00'). */
  hostDecision: 'approved' | 'declined';
  /** 8A: field 39 as received (two characters). */
  authorizationResponseCode: string;
  /** 91 from the host's field 55, if any. */
  issuerAuthenticationData?: Uint8Array;
  /** 71 and 72 templates from the host's field 55, as received (TLV, each with its tag). */
  issuerScripts?: Uint8Array;
}

/** No answer (timeout, link down): the terminal decides Y3 or Z3 by the default action codes. */
export interface EmvUnreachedAnswer {
  hostReached: false;
}

export type EmvHostAnswer = EmvOnlineAnswer | EmvUnreachedAnswer;

export interface EmvCompleteResult {
  /** The card's second decision. */
  decision: 'TC' | 'AAC';
  reason?: EmvDecisionReason;
  /** 8A as the card was given it: the host's code, or Y3/Z3 decided by the terminal. */
  authorizationResponseCode: string;
  /** Field 55 after completion (9F26 9F27 95 9B 9F5B ... ): for the advice, the reversal and the receipt. */
  iccData: Uint8Array;
  /** 9F5B, 5 bytes per script run (empty when the host sent none). */
  scriptResults: Uint8Array;
}

/** The reader's EMV kernel. A reader without a chip interface (the HID magstripe reader) has none. */
export interface EmvKernelSteps {
  emvStart(input: EmvStartInput): Promise<EmvStartResult>;
  emvComplete(answer: EmvHostAnswer): Promise<EmvCompleteResult>;
}
