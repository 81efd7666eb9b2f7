/**
 * Customer/operator display contract. Every method that fails rejects with DeviceFaultError<DisplayFaultCode> and
 * device 'display'.
 */
import type { DeviceFaultError } from '../fault.js';

export interface Screen {
  title: string;
  lines: string[];
  /** Short code shown with an error picture (an anomaly or response code), so support can identify it. */
  code?: string;
  severity: 'info' | 'success' | 'warning' | 'error';
}

export const DISPLAY_FAULT_CODES = [
  /** The display did not accept the frame (unplugged, powered off, no answer). */
  'offline',
] as const;

export type DisplayFaultCode = (typeof DISPLAY_FAULT_CODES)[number];
export type DisplayFault = DeviceFaultError<DisplayFaultCode>;

export interface Display {
  /** Replace what is on screen. */
  show(screen: Screen): Promise<void>;
  /** Blank the screen. */
  clear(): Promise<void>;
}
