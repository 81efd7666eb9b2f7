/** The financial request (0200) a transaction sends, and what the terminal's messages say about itself. */
import { posEntryMode } from '../../durability/entry-mode.js';
import { MTI, PROCESSING_CODE, type FinancialRequest } from '../../iso8583/index.js';
import type { AuthorizeInput } from '../../transaction/types.js';

/** From configuration: a PIN pad attached (`hal.pinPad`), `host.acquiringInstitutionId`, `host.forwardingInstitutionId`. */
export interface MessageProfile {
  pinPad: boolean;
  acquiringInstitutionId?: string;
  forwardingInstitutionId?: string;
}

const NO_PIN_PAD: MessageProfile = { pinPad: false };

export function financialRequestFor(
  input: AuthorizeInput,
  stan: number,
  identity: { terminalId: string; merchantId: string },
  now: Date,
  profile: MessageProfile = NO_PIN_PAD,
): FinancialRequest {
  const card = input.card?.reveal();
  // Field 52 carries an 8-byte block (format 0): configuration refuses format 4, and enterPin checks the size.
  const pin = input.card?.revealPin();
  const original = input.original;
  return {
    processingCode:
      input.kind === 'refund'
        ? PROCESSING_CODE.refund
        : input.kind === 'void'
          ? PROCESSING_CODE.void
          : PROCESSING_CODE.purchase,
    amount: input.amount,
    currency: input.currency,
    stan,
    transmittedAt: now,
    terminalId: identity.terminalId,
    merchantId: identity.merchantId,
    entryMode: posEntryMode(card ? card.entryMode : 'manual', profile.pinPad),
    ...(card ? { pan: card.pan, expiry: card.expiry } : {}),
    ...(card?.track2 ? { track2: card.track2 } : {}),
    ...(card?.iccData ? { iccData: card.iccData } : {}),
    ...(pin ? { pinBlock: pin.pinBlock, ksn: pin.ksn } : {}),
    ...(profile.acquiringInstitutionId !== undefined ? { acquiringInstitutionId: profile.acquiringInstitutionId } : {}),
    ...(profile.forwardingInstitutionId !== undefined
      ? { forwardingInstitutionId: profile.forwardingInstitutionId }
      : {}),
    // A void names its original by RRN, approval code and field 90 (its MTI, STAN and time); 62 keeps the STAN too.
    ...(original
      ? {
          originalStan: original.stan,
          original: {
            mti: original.requestMti ?? MTI.financialRequest,
            stan: original.stan,
            ...(original.transmittedAt !== undefined ? { transmittedAt: new Date(original.transmittedAt) } : {}),
            ...(original.rrn ? { rrn: original.rrn } : {}),
            ...(original.approvalCode ? { approvalCode: original.approvalCode } : {}),
          },
        }
      : {}),
  };
}
