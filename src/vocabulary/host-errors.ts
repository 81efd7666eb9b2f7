/**
 * Why a request to the acquirer host got no usable answer. The host client raises them, the transaction machine
 * carries them in an AuthorizationFailure and the anomaly classifier maps each to an anomaly.
 */

export const HOST_ERROR_CODES = [
  /** Our own message would not pack: a bug, nothing was sent. */
  'bad-request',
  'not-connected',
  'timeout',
  'link-down',
  'cancelled',
  /** The same STAN is already in flight. */
  'busy',
  'stopped',
  /** Bytes keyed to our request that do not decode as a response. */
  'garbled-response',
  /** A response to our key whose MTI, amount or terminal id is not ours. */
  'mismatched-response',
  /** An answer to a MACed request whose MAC is missing or wrong: not honoured, as if no answer came. */
  'bad-mac',
  /** MAC is required and no session key is held (no sign-on, or a key refused): the request was not sent. */
  'no-mac-key',
] as const;

export type HostErrorCode = (typeof HOST_ERROR_CODES)[number];
