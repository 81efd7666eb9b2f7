/** What the terminal's ISO 8583 messages say about it, from configuration (the attached PIN pad, institution ids). */
import type { PosConfig } from '../config/index.js';
import type { MessageProfile } from '../terminal/effects/request.js';

export function messageProfileOf(config: PosConfig): MessageProfile {
  return {
    pinPad: config.hal.pinPad.driver !== 'none',
    ...(config.host.acquiringInstitutionId !== null
      ? { acquiringInstitutionId: config.host.acquiringInstitutionId }
      : {}),
    ...(config.host.forwardingInstitutionId !== null
      ? { forwardingInstitutionId: config.host.forwardingInstitutionId }
      : {}),
  };
}
