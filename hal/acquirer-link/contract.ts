/**
 * Host link: the connection to the acquirer host. It moves whole frames and pairs each request with its response
 * by a correlation key (for ISO 8583: terminal id + STAN) that the application computes; the link knows bytes,
 * not payments.
 */
import type { DeviceFaultError } from '../fault.js';

export type HostLinkFaultCode =
  | 'not-connected' // no connection and none could be made in time: the request never left
  | 'timeout' // the request left, no response in time: the host may have acted on it
  | 'link-down' // the connection broke while waiting: the host may have acted on it
  | 'duplicate-key' // a request with the same key is already in flight
  | 'frame-too-large' // a frame over the configured limit (ours or the host's)
  | 'cancelled' // the caller aborted while waiting
  | 'stopped'; // the link was stopped

export type HostLinkFault = DeviceFaultError<HostLinkFaultCode>;

/** Derives the correlation key of a received frame; undefined when the frame cannot be keyed (garbled). */
export type Correlator = (frame: Uint8Array) => string | undefined;

export type UnsolicitedReason = 'late' | 'duplicate' | 'unmatched' | 'unkeyed';

export interface HostLinkEvents {
  up: { remote: string };
  down: { reason: string };
  /** A response nobody waits for: late (after its timeout), a second answer, unknown key, or not keyable. */
  unsolicited: { frame: Buffer; key?: string; reason: UnsolicitedReason };
  'frame-error': { code: 'frame-too-large'; message: string };
}

export interface ExchangeOptions {
  /** Response timeout; the link's default when absent. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface HostLink {
  /** Connect and keep the connection up, reconnecting with backoff. */
  start(): void;
  /** Close the connection and fail every waiting request with 'stopped'. */
  stop(): Promise<void>;
  isUp(): boolean;
  /**
   * Send one request and wait for the frame whose key matches. Rejects with a HostLinkFault whose
   * `detail.sent` tells whether the request reached the wire (and so whether the host may have acted on it).
   */
  exchange(frame: Uint8Array, key: string, options?: ExchangeOptions): Promise<Buffer>;
  on<E extends keyof HostLinkEvents>(event: E, listener: (payload: HostLinkEvents[E]) => void): () => void;
}
