/** The error codes of ECR replies: what a register integrator's code switches on. */
export const ECR_ERROR_CODES = [
  'line-too-long',
  'invalid-json',
  'invalid-request',
  'unknown-command',
  'missing-field',
  'busy',
  'unauthorized',
  'not-allowed',
  'no-transaction',
  'not-found',
  'device-fault',
  'internal',
  'too-many-connections',
  'rate-limited',
  'idle-timeout',
  'locked-out',
  // A settlement that could not finish (see the command service).
  'host-unavailable',
  'money-owed',
  'out-of-balance',
  'host-refused',
  'duplicate',
] as const;

export type EcrErrorCode = (typeof ECR_ERROR_CODES)[number];
