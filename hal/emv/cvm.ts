/**
 * Cardholder verification method selection (EMV Book 3 section 10.5, Annex C3): the card's CVM list (8E) read
 * rule by rule against the transaction and the terminal's capabilities (9F33 byte 2), with the contactless CVM
 * limit in front for a tapped card. The result is the CVM the terminal must capture and the CVM results (9F34).
 * This terminal verifies no PIN offline: a card that asks for it gets the next rule, or a failed verification.
 */

export const CVM_OUTCOMES = ['online-pin', 'signature', 'no-cvm', 'offline-pin-not-supported', 'failed'] as const;
export type CvmOutcome = (typeof CVM_OUTCOMES)[number];

export interface CvmSelection {
  cvm: CvmOutcome;
  /** 9F34: method performed (or 3F), its condition, result (00 unknown, 01 failed, 02 successful). */
  cvmResults: Uint8Array;
  /** TVR byte 3 bits to set: 80 verification not successful, 40 unrecognised CVM, 04 online PIN entered. */
  tvrByte3: number;
  /** TVR byte 1 bit 6 (ICC data missing): no CVM list where one was needed. */
  iccDataMissing: boolean;
}

export interface CvmContext {
  /** 8E as read from the card (undefined when the card has none). */
  cvmList: Uint8Array | undefined;
  /** Amount authorised in minor units of the transaction currency. */
  amount: number;
  /** Amount other (cash back), minor units. */
  amountOther: number;
  /** 9C: 00 goods and services, 01 cash, 09 purchase with cash back, 20 refund. */
  transactionType: number;
  /** 9F33 (3 bytes). */
  terminalCapabilities: Uint8Array;
  contactless: boolean;
  /** Above this a tapped card must be verified; at or below it no CVM is asked. */
  contactlessCvmLimit?: number;
  /** The transaction is in the card's application currency (conditions 06-09 compare X and Y only then). */
  inApplicationCurrency?: boolean;
}

const CVM_FAIL = 0x00;
const PLAIN_PIN_ICC = 0x01;
const ONLINE_PIN = 0x02;
const PLAIN_PIN_ICC_SIGNATURE = 0x03;
const ENCIPHERED_PIN_ICC = 0x04;
const ENCIPHERED_PIN_ICC_SIGNATURE = 0x05;
const SIGNATURE = 0x1e;
const NO_CVM = 0x1f;
const APPLY_NEXT_IF_FAILED = 0x40;

const OFFLINE_PIN = new Set([PLAIN_PIN_ICC, PLAIN_PIN_ICC_SIGNATURE, ENCIPHERED_PIN_ICC, ENCIPHERED_PIN_ICC_SIGNATURE]);

export function selectCvm(ctx: CvmContext): CvmSelection {
  const support = ctx.terminalCapabilities[1] ?? 0;
  if (ctx.contactless && ctx.contactlessCvmLimit !== undefined && ctx.amount <= ctx.contactlessCvmLimit) {
    return { cvm: 'no-cvm', cvmResults: Uint8Array.of(NO_CVM, 0x00, 0x02), tvrByte3: 0, iccDataMissing: false };
  }
  const list = ctx.cvmList;
  if (list === undefined || list.length < 10) {
    return { cvm: 'failed', cvmResults: Uint8Array.of(0x3f, 0x00, 0x00), tvrByte3: 0, iccDataMissing: true };
  }
  const x = Buffer.from(list).readUInt32BE(0);
  const y = Buffer.from(list).readUInt32BE(4);
  let tvrByte3 = 0;
  let offlinePinAsked = false;
  let lastTried: [number, number] | undefined;
  for (let at = 8; at + 1 < list.length; at += 2) {
    const rule = list[at]!;
    const condition = list[at + 1]!;
    if (!conditionMet(condition, ctx, x, y)) continue;
    const method = rule & 0x3f;
    lastTried = [rule, condition];
    const done = (cvm: CvmOutcome, result: number): CvmSelection => ({
      cvm,
      cvmResults: Uint8Array.of(rule, condition, result),
      tvrByte3,
      iccDataMissing: false,
    });
    if (method === ONLINE_PIN && (support & 0x40) !== 0) {
      tvrByte3 |= 0x04;
      return done('online-pin', 0x00);
    }
    if (method === SIGNATURE && (support & 0x20) !== 0) return done('signature', 0x00);
    if (method === NO_CVM && (support & 0x08) !== 0) return done('no-cvm', 0x02);
    if (method === CVM_FAIL) break;
    if (OFFLINE_PIN.has(method)) offlinePinAsked = true;
    else if (![ONLINE_PIN, SIGNATURE, NO_CVM].includes(method)) tvrByte3 |= 0x40;
    // Not supported here: the next rule when the card allows it, otherwise verification has failed.
    if ((rule & APPLY_NEXT_IF_FAILED) === 0) break;
  }
  tvrByte3 |= 0x80;
  const cvmResults = lastTried ? Uint8Array.of(lastTried[0], lastTried[1], 0x01) : Uint8Array.of(0x3f, 0x00, 0x01);
  return { cvm: offlinePinAsked ? 'offline-pin-not-supported' : 'failed', cvmResults, tvrByte3, iccDataMissing: false };
}

/** Book 3 Annex C3 condition codes. An unknown condition is never met. */
function conditionMet(code: number, ctx: CvmContext, x: number, y: number): boolean {
  const cash = ctx.transactionType === 0x01;
  const cashback = ctx.transactionType === 0x09 || ctx.amountOther > 0;
  const inCurrency = ctx.inApplicationCurrency ?? true;
  switch (code) {
    case 0x00:
      return true;
    case 0x01: // unattended cash
      return false;
    case 0x02: // not unattended cash, not manual cash, not cash back
      return !cash && !cashback;
    case 0x03: // the terminal supports the CVM: checked when the rule is applied
      return true;
    case 0x04: // manual cash
      return cash;
    case 0x05: // purchase with cash back
      return cashback;
    case 0x06:
      return inCurrency && ctx.amount < x;
    case 0x07:
      return inCurrency && ctx.amount > x;
    case 0x08:
      return inCurrency && ctx.amount < y;
    case 0x09:
      return inCurrency && ctx.amount > y;
    default:
      return false;
  }
}

/** A CVM list from X, Y and rules written as [method | flags, condition] pairs. */
export function cvmList(x: number, y: number, rules: ReadonlyArray<readonly [number, number]>): Uint8Array {
  const out = Buffer.alloc(8 + rules.length * 2);
  out.writeUInt32BE(x, 0);
  out.writeUInt32BE(y, 4);
  rules.forEach(([rule, condition], i) => {
    out[8 + i * 2] = rule;
    out[9 + i * 2] = condition;
  });
  return new Uint8Array(out);
}

export const CVM = {
  fail: CVM_FAIL,
  plainPinIcc: PLAIN_PIN_ICC,
  onlinePin: ONLINE_PIN,
  encipheredPinIcc: ENCIPHERED_PIN_ICC,
  signature: SIGNATURE,
  noCvm: NO_CVM,
  applyNextIfFailed: APPLY_NEXT_IF_FAILED,
} as const;
