/**
 * PIN entry device contract (a PIN pad, or the PIN entry of a smart terminal's secure processor). The application
 * asks for a PIN and gets back only the encrypted PIN block and the KSN it was made under: the clear PIN never leaves
 * the device. Every method that fails rejects with DeviceFaultError<PinPadFaultCode> and device 'pin-pad'.
 */
import type { PinBlockFormat } from '../crypto/pin-block.js';
import type { EventSource } from '../events.js';
import type { DeviceFaultError } from '../fault.js';
import type { DeviceHealthEvents } from '../reconnect/health.js';

export type { PinBlockFormat } from '../crypto/pin-block.js';

export const PIN_PAD_FAULT_CODES = [
  /** Device not open, unplugged, or closed while a call was pending. */
  'not-connected',
  /** The cardholder pressed Cancel, or the caller's AbortSignal fired. */
  'cancelled',
  /** No PIN completed within timeoutMs. */
  'timeout',
  /** The cardholder pressed Enter without digits (PIN bypass): the caller decides whether that is allowed. */
  'bypassed',
  /** No DUKPT key loaded for the block format asked for. */
  'no-keys',
  /** The DUKPT counter has reached its end: the device needs a new initial key. */
  'key-exhausted',
  /** Tamper detected: the device has erased its keys and refuses to work until serviced. */
  'tamper',
  /** A PIN request is already in progress. */
  'busy',
  /** The request itself is invalid (PAN, length bounds, format) or a key to load is malformed. */
  'bad-request',
  /** The device answered what the contract does not allow (a PIN block or KSN of the wrong size for the format). */
  'bad-response',
] as const;

export type PinPadFaultCode = (typeof PIN_PAD_FAULT_CODES)[number];
export type PinPadFault = DeviceFaultError<PinPadFaultCode>;

/** Which DUKPT a key belongs to: TDES (X9.24-1, format 0 blocks) or AES (X9.24-3, format 4 blocks). */
export type DukptScheme = 'tdes-dukpt' | 'aes-dukpt';

export const SCHEME_OF_FORMAT: Record<PinBlockFormat, DukptScheme> = { 0: 'tdes-dukpt', 4: 'aes-dukpt' };

export interface PinPadInfo {
  model: string;
  firmware: string;
  serial?: string;
  /** Per loaded scheme, the KSN the next PIN block will carry (hex; not secret), null once the counter has ended. */
  keys: Partial<Record<DukptScheme, { nextKsn: string | null }>>;
}

/**
 * Key injection at installation: the device's initial key (IPEK / AES initial key, derived from the BDK by the key
 * injection facility) and its initial KSN (10 bytes for TDES, 12 for AES, counter zero). The application never
 * holds these: they come from the installation procedure.
 */
export interface DukptKeyInjection {
  scheme: DukptScheme;
  initialKey: Uint8Array;
  initialKsn: Uint8Array;
}

export interface PinRequest {
  /** The card's PAN, bound into the PIN block (12 to 19 digits). */
  pan: string;
  /** Shown to the cardholder above the PIN prompt ("EUR 12.50"). */
  amountText?: string;
  /** 0: ISO 9564 format 0 under TDES DUKPT; 4: format 4 under AES DUKPT. */
  format: PinBlockFormat;
  /** PIN length bounds, within 4 to 12: the pad refuses Enter outside them. */
  minLength: number;
  maxLength: number;
  /** Rejects with 'timeout' when the PIN is not complete in this much clock time. */
  timeoutMs: number;
  /** Aborting rejects with 'cancelled' (the terminal gave up, e.g. the card was removed). */
  signal?: AbortSignal;
}

export interface PinResult {
  /** The enciphered PIN block: 8 bytes (format 0) or 16 bytes (format 4). */
  pinBlock: Uint8Array;
  /** The KSN it was enciphered under: 10 bytes (TDES DUKPT) or 12 bytes (AES DUKPT). */
  ksn: Uint8Array;
  format: PinBlockFormat;
}

/**
 * A clear amount typed on the keypad (a tip): not secret, so the pad returns it as it was typed. The cardholder
 * types the amount in minor units and presses Enter; Enter with no digits is 0 (no tip).
 */
export interface AmountRequest {
  /** Shown above the entry ("TIP? EUR 12.50"). */
  promptText: string;
  /** The largest amount the pad takes (minor units): above it Enter is refused and the entry stays. */
  maxAmount: number;
  /** Rejects with 'timeout' when nothing is entered in this much clock time. */
  timeoutMs: number;
  /** Aborting rejects with 'cancelled'. */
  signal?: AbortSignal;
}

/** `health`: the pad went away ('not-connected') or is back and answering ('ok'), see hal/reconnect/. */
export interface PinPadEvents extends DeviceHealthEvents {
  /** The prompt is shown: the cardholder may start typing. */
  'pin-prompt': { amountText?: string };
  /** A digit was typed or erased: how many are entered now (never which). */
  'pin-digits': { count: number };
  tamper: { reason: string };
  /** The pad no longer reports tamper: calls work again, on the same open port. */
  'tamper-cleared': Record<string, never>;
}

export interface PinPad extends EventSource<PinPadEvents> {
  /** Claim and enable the device. Opening an open pad is a no-op. */
  open(): Promise<void>;
  /** Release the device; a pending request rejects with 'not-connected'. Never fails. */
  close(): Promise<void>;
  info(): Promise<PinPadInfo>;
  /** Installation only: load a DUKPT initial key (replaces any key of the same scheme). */
  loadKey(injection: DukptKeyInjection): Promise<void>;
  /** Prompts the cardholder and resolves with the encrypted PIN block; the DUKPT counter then advances. */
  requestPin(request: PinRequest): Promise<PinResult>;
  /**
   * Clear amount entry, on pads that have it (absent: the terminal never asks for a tip on this pad). Resolves with
   * the amount in minor units (0: Enter alone); rejects 'cancelled' on Cancel, 'timeout', 'busy' during a PIN entry.
   */
  requestAmount?(request: AmountRequest): Promise<number>;
}
