/**
 * The ESC/POS commands the protocol layer sends beside the receipt bytes (which escpos-encoder.ts makes), and the
 * parsers of their replies. Pure: no I/O. Values from the Epson ESC/POS reference; Star (in ESC/POS mode), Bixolon,
 * Citizen and most generic 58/80 mm printers follow it for these commands.
 */
import { isStatusByte } from './escpos-status.js';

const DLE = 0x10;
const ESC = 0x1b;

/**
 * DLE ENQ 2: recover from a recoverable error (auto-cutter error, or a cover opened while printing on models that
 * stop on it) after clearing the receive and print buffers, so nothing of the receipt that stopped prints afterwards.
 * DLE ENQ 1 would resume from the line that failed; a payment receipt is reprinted whole instead, marked as such.
 */
export const RECOVER_CLEARING_BUFFERS = Buffer.from([DLE, 0x05, 0x02]);

/**
 * DLE DC4 fn=8 (clear buffers): throws away what the receive and print buffers hold while the printer is offline
 * (paper out, cover open), so the rest of the receipt is not printed on its own once paper is back. The printer
 * answers 0x37 0x25 0x00; models without the function answer nothing (the driver bounds the wait).
 */
export const CLEAR_BUFFERS = Buffer.from([DLE, 0x14, 0x08, 0x01, 0x03, 0x14, 0x01, 0x06, 0x02, 0x08]);

/** Drawer kick connector pin: 2 (drawer 1, the usual one) or 5 (drawer 2). */
export type DrawerPin = 2 | 5;

/** Pulse lengths go in units of 2 ms, at most 255 units. */
const PULSE_UNIT_MS = 2;

/**
 * ESC p m t1 t2: a pulse on the drawer connector, on for t1 x 2 ms then off for t2 x 2 ms (the printer takes the
 * off time as at least the on time). Solenoids of common drawers want 50 to 200 ms.
 */
export function drawerKick(pin: DrawerPin, onMs: number, offMs: number): Buffer {
  const units = (ms: number) => Math.min(255, Math.max(1, Math.round(ms / PULSE_UNIT_MS)));
  return Buffer.from([ESC, 0x70, pin === 2 ? 0 : 1, units(onMs), units(Math.max(onMs, offMs))]);
}

/** A reply parser: fed one byte at a time, returns the reply once complete. */
export interface ReplyParser<T> {
  feed(byte: number): T | undefined;
  /** Bytes it refused (not part of a reply). */
  readonly discarded: number;
}

/** One real-time status byte (DLE EOT n); other bytes are discarded. */
export function statusParser(): ReplyParser<number> {
  let discarded = 0;
  return {
    feed(byte) {
      if (isStatusByte(byte)) return byte;
      discarded++;
      return undefined;
    },
    get discarded() {
      return discarded;
    },
  };
}

/** GS I string replies are framed by 0x5f ... 0x00; longer text is cut here so a lost NUL cannot grow a reply. */
const INFO_MAX_CHARS = 64;

/** GS I string reply: 0x5f, printable text, NUL. Anything before the header is discarded. */
export function idParser(): ReplyParser<string> {
  let discarded = 0;
  let text: string | undefined;
  return {
    feed(byte) {
      if (text === undefined) {
        if (byte === 0x5f) text = '';
        else discarded++;
        return undefined;
      }
      if (byte === 0x00) return text.trim();
      text += byte >= 0x20 && byte <= 0x7e ? String.fromCharCode(byte) : '?';
      return text.length >= INFO_MAX_CHARS ? text.trim() : undefined;
    },
    get discarded() {
      return discarded;
    },
  };
}

/** The clear response of DLE DC4 fn=8: 0x37 0x25 0x00. Bytes before it (a late status byte) are discarded. */
export function clearResponseParser(): ReplyParser<true> {
  const expected = [0x37, 0x25, 0x00];
  let at = 0;
  let discarded = 0;
  return {
    feed(byte) {
      if (byte === expected[at]) {
        at++;
        return at === expected.length ? true : undefined;
      }
      discarded += at + 1;
      at = byte === expected[0] ? 1 : 0;
      if (at === 1) discarded--;
      return undefined;
    },
    get discarded() {
      return discarded;
    },
  };
}
