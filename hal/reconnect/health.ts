/**
 * The device-health event every driver can emit ('health'): the terminal keeps one set of reasons per device and
 * replaces it with each event, so a device that comes back clears what it had caused at once.
 */
import type { DeviceClass } from '../fault.js';
import type { EventSource } from '../events.js';
import type { ReconnectChange } from './reconnector.js';

/** 'ok': the device answers and can work; 'not-connected': it went away; 'fault': it answers but cannot work. */
export type DeviceHealthState = 'ok' | 'not-connected' | 'fault';

export interface DeviceHealth {
  device: DeviceClass;
  state: DeviceHealthState;
  /** The fault code ('not-connected', 'paper-out', ...) when not ok. */
  code?: string;
  /** Short text for the operator; never card data. */
  reason?: string;
}

export interface DeviceHealthEvents {
  health: DeviceHealth;
}

export type DeviceHealthSource = EventSource<DeviceHealthEvents>;

/** What a reconnector's change means as the device's health: connected is ok, anything else not-connected. */
export function healthOfChange(
  device: DeviceClass,
  change: ReconnectChange,
  reasonOf: (error: unknown) => string,
): DeviceHealth {
  return change.state === 'connected'
    ? { device, state: 'ok' }
    : { device, state: 'not-connected', code: 'not-connected', reason: reasonOf(change.error) };
}
