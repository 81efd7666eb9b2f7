/**
 * Network link monitor contract. start() rejects with DeviceFaultError<NetworkFaultCode> and device 'network' when
 * the link cannot be observed at all.
 */
import type { DeviceFaultError } from '../fault.js';
import type { EventSource } from '../events.js';

export interface NetworkState {
  link: 'up' | 'down';
  interface?: string;
  kind?: 'ethernet' | 'wifi' | 'cellular';
  signal?: { dbm?: number; percent?: number };
}

export const NETWORK_FAULT_CODES = [
  /** The link state cannot be read (no interface, no permission, modem not answering). */
  'unavailable',
] as const;

export type NetworkFaultCode = (typeof NETWORK_FAULT_CODES)[number];
export type NetworkFault = DeviceFaultError<NetworkFaultCode>;

export interface NetworkEvents {
  /** Emitted only when some field of the state actually changed. */
  change: { state: NetworkState; previous: NetworkState };
}

export interface NetworkMonitor extends EventSource<NetworkEvents> {
  /** Last observed state; synchronous so a guard can read it. */
  current(): NetworkState;
  /** Begin observing. Starting a started monitor is a no-op. */
  start(): Promise<void>;
  /** Stop observing; current() keeps the last observed state. Never fails. */
  stop(): Promise<void>;
}

/** Field-by-field equality; an absent field and an undefined one are the same. */
export function sameNetworkState(a: NetworkState, b: NetworkState): boolean {
  return (
    a.link === b.link &&
    a.interface === b.interface &&
    a.kind === b.kind &&
    a.signal?.dbm === b.signal?.dbm &&
    a.signal?.percent === b.signal?.percent
  );
}
