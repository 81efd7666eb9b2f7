/**
 * Card reader contract (UnifiedPOS MSR + chip + contactless in one device class). Every method that fails rejects
 * with DeviceFaultError<CardReaderFaultCode> and device 'card-reader'.
 */
import type { DeviceFaultError } from '../fault.js';
import type { EventSource } from '../events.js';
import type { DeviceHealthEvents } from '../reconnect/health.js';
import type { EmvKernelSteps } from './emv-contract.js';

export type * from './emv-contract.js';

export type EntryMode = 'swipe' | 'chip' | 'contactless' | 'manual' | 'fallback-swipe';

/**
 * Raw card data as read. It lives only in memory: never log it, journal it, publish it or put it in a fault detail.
 * Mask the PAN and drop track data before anything leaves the transaction.
 */
export interface CardData {
  entryMode: EntryMode;
  pan: string;
  /** YYMM, as on track 2. */
  expiry: string;
  serviceCode?: string;
  cardholderName?: string;
  track1?: string;
  track2?: string;
  /** EMV TLV data from the chip or contactless kernel. */
  iccData?: Uint8Array;
}

export const CARD_READER_FAULT_CODES = [
  /** Device not open, unplugged, or closed while a call was pending. */
  'not-connected',
  /** No card (or no removal) within timeoutMs. */
  'timeout',
  /** Bad swipe or unreadable card (UnifiedPOS MSR sentinel, parity, LRC errors), or no card to read. */
  'read-failed',
  /** The card left the reader during a read. */
  'card-removed',
  /** The chip answered but the exchange failed. */
  'chip-error',
  /** A card the reader cannot handle (unknown technology or scheme). */
  'unsupported-card',
  /** Tamper detected: the reader refuses to work until serviced. */
  'tamper',
  /** The same operation is already in progress. */
  'busy',
  /** The caller's AbortSignal fired before the operation finished. */
  'cancelled',
] as const;

export type CardReaderFaultCode = (typeof CARD_READER_FAULT_CODES)[number];
export type CardReaderFault = DeviceFaultError<CardReaderFaultCode>;

export interface CardReaderInfo {
  model: string;
  firmware: string;
  serial?: string;
}

export interface CardWaitOptions {
  /** Aborting rejects the wait with 'cancelled'. */
  signal?: AbortSignal;
  /** Rejects with 'timeout' when this much clock time passes first. Infinity waits without a deadline. */
  timeoutMs: number;
}

/** `health`: the reader went away ('not-connected') or is back and answering ('ok'), see hal/reconnect/. */
export interface CardReaderEvents extends DeviceHealthEvents {
  'card-presented': { entryMode: EntryMode };
  'card-removed': Record<string, never>;
  tamper: { reason: string };
  /** The reader no longer reports tamper (serviced): calls work again, on the same open port. */
  'tamper-cleared': Record<string, never>;
  /**
   * A swipe made before the current wait began (while idle) was thrown away unread: a swipe is only taken from the
   * wait it was made for. Carries no card data.
   */
  'swipe-discarded': { ageMs: number };
}

export interface CardReader extends EventSource<CardReaderEvents> {
  /**
   * Claim and enable the device. Opening an open reader is a no-op. A reader that can be unplugged keeps trying to
   * reopen, with backoff, after a failed open or once it went away, until close().
   */
  open(): Promise<void>;
  /** Release the device; pending calls reject with 'not-connected'. Never fails. */
  close(): Promise<void>;
  info(): Promise<CardReaderInfo>;
  /**
   * Resolves once a card is presented, inserted or swiped: at once for a card already in the reader that no read has
   * used yet. A card already read (left in after the last transaction) needs a new presentation, and a swipe made
   * before the wait began is discarded ('swipe-discarded').
   */
  waitForCard(opts: CardWaitOptions): Promise<{ entryMode: EntryMode }>;
  /** Reads the card now in the reader. */
  read(): Promise<CardData>;
  /** Resolves once the reader is empty (at once if it already is). */
  waitForRemoval(opts: CardWaitOptions): Promise<void>;
  /** The EMV steps, on readers with a chip or contactless kernel (absent on a magstripe-only reader). */
  emvStart?: EmvKernelSteps['emvStart'];
  emvComplete?: EmvKernelSteps['emvComplete'];
}

/** Whether this reader can run an EMV transaction with the card it has read. */
export function hasEmvKernel(reader: CardReader): reader is CardReader & EmvKernelSteps {
  return typeof reader.emvStart === 'function' && typeof reader.emvComplete === 'function';
}
