/**
 * The issuer's check of an online PIN: field 52 (ISO 9564 format 0 block) deciphered under the TDES DUKPT PIN key
 * derived from the host's BDK and field 53 (the KSN), compared with the card's PIN in the books. Three wrong PINs in
 * a row block the card's PIN (75) until reset; a right one resets the count. A block that does not decipher is
 * answered 55 without counting a try. PINs and PANs never leave in clear.
 */
import { CryptoInputError, decryptPinBlock, PinBlockError } from '../../hal/crypto/index.js';
import type { IsoMessage } from '../iso8583/index.js';

/**
 * The ANSI X9.24-1 test BDK (the standard's published example key): a test key only, never a production one.
 */
export const TEST_BDK_HEX = '0123456789ABCDEFFEDCBA9876543210';
/** Every test card's PIN unless the books say otherwise. */
export const DEFAULT_TEST_PIN = '1234';
/** Wrong PINs in a row after which the card's PIN is blocked. */
export const PIN_TRY_LIMIT = 3;

/** Field 39 for a wrong (or undecipherable) PIN, and for a card whose PIN tries are exhausted. */
export const INCORRECT_PIN = '55';
export const PIN_TRIES_EXCEEDED = '75';

export type PinCheck =
  | { present: false }
  | { present: true; verified: true }
  | { present: true; verified: false; responseCode: string; reason: string };

/** Field 52 or 53 as bytes: binary from the codec, or hex text. */
function bytesOf(value: unknown): Uint8Array | undefined {
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'string' && /^([0-9A-Fa-f]{2})+$/.test(value)) return Buffer.from(value, 'hex');
  return undefined;
}

export class PinBooks {
  private readonly pins = new Map<string, string>();
  private readonly wrongInARow = new Map<string, number>();
  private readonly bdk: Buffer;

  constructor(bdk: Uint8Array = Buffer.from(TEST_BDK_HEX, 'hex'), pins: Readonly<Record<string, string>> = {}) {
    if (bdk.length !== 16) throw new RangeError('the BDK is 16 bytes (double-length TDES)');
    this.bdk = Buffer.from(bdk);
    for (const [pan, pin] of Object.entries(pins)) this.setPin(pan, pin);
  }

  /** The card's PIN from now on (4 to 12 digits); its wrong-PIN count starts again. */
  setPin(pan: string, pin: string): void {
    if (!/^\d{4,12}$/.test(pin)) throw new RangeError('a PIN is 4 to 12 digits');
    this.pins.set(pan, pin);
    this.wrongInARow.delete(pan);
  }

  /** Unblocks a card's PIN (as an issuer's PIN unblock does). */
  resetTries(pan: string): void {
    this.wrongInARow.delete(pan);
  }

  /** Checks fields 52/53 of a request for this PAN; a request without field 52 has no PIN to check. */
  check(request: IsoMessage, pan: string | undefined): PinCheck {
    if (request.fields[52] === undefined) return { present: false };
    // A block that does not decipher proves nothing about the cardholder's PIN: 55, but no try is counted.
    const unreadable = (reason: string): PinCheck => ({
      present: true,
      verified: false,
      responseCode: INCORRECT_PIN,
      reason,
    });
    if (pan === undefined) return { present: true, verified: false, responseCode: INCORRECT_PIN, reason: 'no PAN' };
    if ((this.wrongInARow.get(pan) ?? 0) >= PIN_TRY_LIMIT)
      return { present: true, verified: false, responseCode: PIN_TRIES_EXCEEDED, reason: 'PIN tries exceeded' };
    const pinBlock = bytesOf(request.fields[52]);
    const ksn = bytesOf(request.fields[53]);
    if (pinBlock?.length !== 8) return unreadable('PIN block is not 8 bytes');
    if (ksn?.length !== 10) return unreadable('KSN (field 53) is not 10 bytes');
    let pin: string;
    try {
      pin = decryptPinBlock({ bdk: this.bdk, ksn, pinBlock, pan, format: 0 });
    } catch (error) {
      if (error instanceof PinBlockError) return unreadable(`PIN block does not decipher (${error.code})`);
      if (error instanceof CryptoInputError) return unreadable('PIN block does not decipher (bad key or KSN)');
      throw error;
    }
    if (pin !== (this.pins.get(pan) ?? DEFAULT_TEST_PIN)) return this.wrong(pan);
    this.wrongInARow.delete(pan);
    return { present: true, verified: true };
  }

  private wrong(pan: string): PinCheck {
    const count = (this.wrongInARow.get(pan) ?? 0) + 1;
    this.wrongInARow.set(pan, count);
    const exceeded = count >= PIN_TRY_LIMIT;
    return {
      present: true,
      verified: false,
      responseCode: exceeded ? PIN_TRIES_EXCEEDED : INCORRECT_PIN,
      reason: exceeded ? `wrong PIN (${count} in a row): PIN tries exceeded` : `wrong PIN (${count} in a row)`,
    };
  }
}
