/**
 * The authorization messages of hospitality: a pre-authorization and its increments go as 0100 (the host holds the
 * amount, nothing moves), with the fields of a 0200; an increment names its pre-authorization in field 90, as a void
 * names its sale. A completion (0220 advice, or 0200 per host profile) and a tip adjustment (0220) name their
 * original the same way, with the tip in field 54.
 */
import { buildFinancialRequest, type FinancialRequest, MTI } from './messages.js';
import type { IsoMessage } from './types.js';

export function buildAuthorizationRequest(r: FinancialRequest): IsoMessage {
  return { ...buildFinancialRequest(r), mti: MTI.authRequest };
}

/** The tip of a field 54 (amount type 44), or 0 when it carries none. */
export function tipOf(additionalAmounts: string | undefined): number {
  if (additionalAmounts === undefined) return 0;
  for (let at = 0; at + 20 <= additionalAmounts.length; at += 20) {
    const block = additionalAmounts.slice(at, at + 20);
    if (block.slice(2, 4) === '44' && /^[CD]\d{12}$/.test(block.slice(7))) return Number(block.slice(8));
  }
  return 0;
}
