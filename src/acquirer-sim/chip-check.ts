/**
 * The issuer's check of what the card produced: the cryptogram in field 55 (ARQC of a 0200, TC of an advice)
 * recomputed with the test issuer master key, and field 55 of the answer (tag 91 = ARPC method 1 || ARC, and the
 * issuer script for the script test card). Field 55 that does not parse is an answer to give, never an exception.
 */
import { CryptoInputError } from '../../hal/crypto/index.js';
import {
  type ArqcCheck,
  Field55Error,
  ISSUER_SCRIPT_TEST_PAN,
  issuerResponseField55,
  TEST_ISSUER_MASTER_KEY,
  TlvError,
  testIssuerScript,
  verifyArqc,
} from '../../hal/emv/index.js';
import type { IsoMessage } from '../iso8583/index.js';
import { text } from './messages.js';

export type ChipCheck =
  | { present: false }
  | { present: true; valid: false; reason: string }
  | { present: true; valid: true; check: ArqcCheck };

/** The PAN of a request: field 2, else the digits of track 2 (field 35) before its separator. */
export function panOf(request: IsoMessage): string | undefined {
  const pan = text(request, 2);
  if (pan !== undefined) return pan;
  const track2 = text(request, 35);
  return track2 === undefined ? undefined : /^(\d{12,19})[=D]/.exec(track2)?.[1];
}

function iccBytes(value: unknown): Uint8Array | undefined {
  if (value instanceof Uint8Array) return value;
  // A codec that hands binary fields over as hex text: read it as such.
  if (typeof value === 'string' && /^([0-9A-Fa-f]{2})+$/.test(value)) return Buffer.from(value, 'hex');
  return undefined;
}

/** Verifies the cryptogram of field 55 (when there is one) for the request's PAN and PSN (field 23, else 5F34). */
export function checkChip(request: IsoMessage): ChipCheck {
  const raw = request.fields[55];
  if (raw === undefined) return { present: false };
  const icc = iccBytes(raw);
  if (!icc) return { present: true, valid: false, reason: 'field 55 is not binary' };
  const pan = panOf(request);
  if (pan === undefined) return { present: true, valid: false, reason: 'no PAN to derive the card key from' };
  const psn = text(request, 23);
  try {
    const check = verifyArqc(TEST_ISSUER_MASTER_KEY, icc, pan, psn === undefined ? undefined : psn.slice(-2));
    if (!check.valid) return { present: true, valid: false, reason: 'cryptogram (9F26) does not verify' };
    return { present: true, valid: true, check };
  } catch (error) {
    if (error instanceof TlvError)
      return { present: true, valid: false, reason: `field 55 is not BER-TLV (${error.code})` };
    if (error instanceof Field55Error)
      return { present: true, valid: false, reason: `field 55 unusable (${error.code})` };
    if (error instanceof CryptoInputError || error instanceof RangeError)
      return { present: true, valid: false, reason: 'field 55 data of the wrong shape' };
    throw error;
  }
}

/**
 * Field 55 of the answer to a verified ARQC: tag 91 for this field 39, and the script card's issuer script. A field 39
 * that is no authorisation response code (a told answer of any two characters) gets no field 55: the card then
 * finds no issuer authentication, as with an issuer that sends none.
 */
export function answerField55(check: ArqcCheck, responseCode: string, pan: string | undefined): Uint8Array | undefined {
  if (!/^[0-9A-Z]{2}$/.test(responseCode)) return undefined;
  return issuerResponseField55({
    issuerAuthenticationData: check.issuerAuthenticationData(responseCode),
    ...(pan === ISSUER_SCRIPT_TEST_PAN ? { issuerScripts: testIssuerScript() } : {}),
  });
}
