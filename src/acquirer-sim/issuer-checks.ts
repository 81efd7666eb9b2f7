/**
 * What the host verifies of a financial request or advice before its books decide: the card's cryptogram
 * (chip-check.ts) and the online PIN (pin-check.ts). A 0200 whose ARQC does not verify is declined 05 (do not
 * honour: the host cannot tell the card is genuine); a wrong PIN 55, tries exhausted 75. An advice is booked
 * whatever its TC says (the money moved offline), but the ledger flags it. What the ledger says carries no PIN and
 * no clear PAN.
 */
import type { IsoMessage } from '../iso8583/index.js';
import { answerField55, checkChip, panOf } from './chip-check.js';
import type { PinBooks } from './pin-check.js';
import type { LedgerEntry } from './types.js';

/** Field 39 to a 0200 whose cryptogram does not verify or whose field 55 is unusable. */
export const CRYPTOGRAM_DECLINE = '05';

export type VerificationFacts = Pick<
  LedgerEntry,
  'field55' | 'cryptogramValid' | 'pinPresent' | 'pinVerified' | 'verification'
>;

export interface Verdict {
  facts: VerificationFacts;
  /** The decline the checks impose (over the rules and any told code), if any. */
  declineCode?: string;
  /** Adds field 55 (tag 91, issuer scripts) to the answer when the ARQC verified. */
  complete(response: IsoMessage): void;
}

export function verifyRequest(request: IsoMessage, kind: 'financial' | 'advice', pins: PinBooks): Verdict {
  const pan = panOf(request);
  const chip = checkChip(request);
  const facts: VerificationFacts = { field55: chip.present };
  const reasons: string[] = [];
  let declineCode: string | undefined;
  if (chip.present) {
    facts.cryptogramValid = chip.valid;
    if (!chip.valid) {
      reasons.push(kind === 'advice' ? `TC not verified, booked anyway: ${chip.reason}` : chip.reason);
      if (kind === 'financial') declineCode = CRYPTOGRAM_DECLINE;
    }
  }
  if (kind === 'financial') {
    // The PIN is checked only for a genuine card: a try is not counted on a cryptogram the host refuses.
    const pin = declineCode === undefined ? pins.check(request, pan) : { present: request.fields[52] !== undefined };
    facts.pinPresent = pin.present;
    if ('verified' in pin) {
      facts.pinVerified = pin.verified;
      if (!pin.verified) {
        reasons.push(pin.reason);
        declineCode = pin.responseCode;
      }
    }
  }
  if (reasons.length > 0) facts.verification = reasons.join('; ');
  return {
    facts,
    ...(declineCode !== undefined ? { declineCode } : {}),
    complete(response) {
      const code = response.fields[39];
      if (kind !== 'financial' || !chip.present || !chip.valid || typeof code !== 'string') return;
      const field55 = answerField55(chip.check, code, pan);
      if (field55) response.fields[55] = field55;
    },
  };
}
