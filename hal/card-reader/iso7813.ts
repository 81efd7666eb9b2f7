/**
 * Pure parsers for ISO/IEC 7813 magnetic stripe tracks as a keyboard-wedge or HID reader delivers them (text, parity
 * bits already stripped by the reader).
 *
 * Track 1 (format B): `%B` PAN (12–19 digits) `^` name (2–26) `^` YYMM, service code (3 digits), discretionary `?`
 * [LRC]; at most 79 characters counting both sentinels and the LRC. Track 2: `;` PAN `=` YYMM, service code,
 * discretionary `?` [LRC]; at most 40 characters likewise. The LRC counts toward the limit even when the reader
 * does not forward it, because it is on the stripe.
 *
 * LRC rule implemented (ISO/IEC 7811): every character is a code of 6 bits (track 1: ASCII − 0x20, 0x20..0x5F) or
 * 4 bits (track 2: ASCII − 0x30, 0x30..0x3F) plus an odd parity bit. The LRC's data bits are the XOR of the data
 * bits of every character from the start sentinel through the end sentinel; its parity bit is computed over the LRC
 * character alone. A reader delivering text has already checked and dropped every parity bit, so only the data bits
 * can be verified here: the LRC character must equal `XOR(codes) + 0x20` (track 1) or `XOR(codes) + 0x30` (track 2).
 * Most readers do not forward the LRC at all; then it is simply absent and not checked.
 *
 * Card data never enters a failure: a failure carries only its reason.
 */
import { DeviceFaultError } from '../fault.js';
import type { CardData } from './contract.js';
import { luhnValid } from './luhn.js';

/** Why a swipe was refused (a fault's `detail.reason`); never carries card data. */
export const SWIPE_FAILURE_REASONS = [
  'no-start-sentinel',
  'no-end-sentinel',
  'bad-lrc',
  // A separator is missing or a character is outside the track's character set.
  'bad-separator',
  // A field or the whole track has an impossible length (PAN, name, expiry, track), or too many tracks.
  'bad-length',
  'luhn',
  // The expiry is not a valid month, or lies before the current month (UTC).
  'expired',
  'bad-service-code',
  // Track 1 and track 2 disagree on PAN, expiry or service code.
  'track-mismatch',
  // Nothing that looks like a track (a blank stripe, or a bare Enter).
  'empty',
] as const;
export type SwipeFailureReason = (typeof SWIPE_FAILURE_REASONS)[number];

export interface SwipeFailure {
  readonly code: 'read-failed';
  readonly reason: SwipeFailureReason;
}

export interface Track1 {
  pan: string;
  /** Trailing spaces removed. */
  name: string;
  expiry: string;
  serviceCode: string;
  discretionary: string;
  /** Everything between the sentinels, as ISO 8583 field 45 carries it. */
  data: string;
  lrcPresent: boolean;
}

export interface Track2 {
  pan: string;
  expiry: string;
  serviceCode: string;
  discretionary: string;
  /** Everything between the sentinels, as ISO 8583 field 35 carries it. */
  data: string;
  lrcPresent: boolean;
}

export interface SwipeOptions {
  /** Milliseconds since the epoch (Clock.now()); the expiry check uses its UTC month. */
  now: number;
  /** A chip read was tried first and failed: the swipe is a fallback (entry mode 'fallback-swipe'). */
  chipAttempted?: boolean;
}

export const TRACK1_MAX_CHARS = 79;
export const TRACK2_MAX_CHARS = 40;
/** ISO/IEC 4909: 107 characters counting both sentinels and the LRC. */
export const TRACK3_MAX_CHARS = 107;
const PAN_MIN = 12;
const PAN_MAX = 19;
const NAME_MIN = 2;
const NAME_MAX = 26;

export function isSwipeFailure(value: unknown): value is SwipeFailure {
  return typeof value === 'object' && value !== null && (value as { code?: unknown }).code === 'read-failed';
}

/** The typed fault for a failed swipe. Only the reason goes in: never any card data. */
export function swipeFault(failure: SwipeFailure): DeviceFaultError<'read-failed'> {
  return new DeviceFaultError('card-reader', 'read-failed', `swipe not accepted: ${failure.reason}`, {
    reason: failure.reason,
  });
}

/** Service code first digit 2 or 6: the card has a chip, and a swipe without a chip attempt is not how to read it. */
export function hasChip(serviceCode: string): boolean {
  return serviceCode.startsWith('2') || serviceCode.startsWith('6');
}

/** LRC character of a track 1 segment from `%` through `?` inclusive. */
export function track1Lrc(segment: string): string {
  return lrcChar(segment, 0x20);
}

/** LRC character of a track 2 segment from `;` through `?` inclusive. */
export function track2Lrc(segment: string): string {
  return lrcChar(segment, 0x30);
}

/** Parses one track 1 segment: `%B…?`, optionally followed by its LRC character and nothing else. */
export function parseTrack1(text: string): Track1 | SwipeFailure {
  const end = findEnd(text, 0, TRACK1);
  if (isSwipeFailure(end)) return end;
  const rest = text.slice(end + 1);
  if (rest.length > 1) return fail('bad-length');
  return track1Fields(text.slice(0, end + 1), rest.length === 1 ? rest : undefined);
}

/** Parses one track 2 segment: `;…?`, optionally followed by its LRC character and nothing else. */
export function parseTrack2(text: string): Track2 | SwipeFailure {
  const end = findEnd(text, 0, TRACK2);
  if (isSwipeFailure(end)) return end;
  const rest = text.slice(end + 1);
  if (rest.length > 1) return fail('bad-length');
  return track2Fields(text.slice(0, end + 1), rest.length === 1 ? rest : undefined);
}

/**
 * Parses a whole swipe as a keyboard-wedge reader types it: track 1 then track 2 (either may be missing), each with
 * an optional LRC character, an optional track 3 (ignored), optional CR/LF/Tab between and after them. Track 3
 * (ISO/IEC 4909) uses track 2's character set and start sentinel `;`; readers type it with `;` or `+`. A `;` track
 * after track 2, or one that reads as ISO 4909 (a 2-digit format code, then track 1's PAN and `=`), is track 3; a
 * second track that reads as a track 2 is a second swipe run together and is refused. A
 * track the reader itself flags unreadable (`%E?`, `;E?`, `+E?`) counts as absent. Every track present must parse;
 * when both are present they must agree on PAN, expiry and service code (a rewritten service code on one track is a
 * known trick to dodge the chip).
 */
export function parseSwipe(raw: string, options: SwipeOptions): CardData | SwipeFailure {
  let t1: Track1 | undefined;
  let t2: Track2 | undefined;
  let flagged = false;
  let pos = 0;

  while (pos < raw.length) {
    const c = raw[pos] as string;
    if (c === '\r' || c === '\n' || c === '\t') {
      pos++;
      continue;
    }
    if ((c === '%' || c === ';' || c === '+') && raw[pos + 1] === 'E' && raw[pos + 2] === '?') {
      flagged = true;
      pos += 3;
      continue;
    }
    let spec = c === '%' ? TRACK1 : c === ';' ? TRACK2 : c === '+' ? TRACK3 : undefined;
    if (!spec) return fail('no-start-sentinel');
    if (c === ';' && isTrack3(raw, pos, t1, t2)) spec = TRACK3_SEMICOLON;
    const end = findEnd(raw, pos, spec);
    if (isSwipeFailure(end)) return end;
    const segment = raw.slice(pos, end + 1);
    const lrc = takeLrc(raw, end + 1, spec.lrc(segment), spec);
    if (isSwipeFailure(lrc)) return lrc;
    pos = end + 1 + (lrc === undefined ? 0 : 1);
    if (spec === TRACK1) {
      if (t1) return fail('bad-length');
      const parsed = track1Fields(segment, lrc);
      if (isSwipeFailure(parsed)) return parsed;
      t1 = parsed;
    } else if (spec === TRACK2) {
      if (t2) return fail('bad-length');
      const parsed = track2Fields(segment, lrc);
      if (isSwipeFailure(parsed)) return parsed;
      t2 = parsed;
    } else {
      // Track 3: framing, character set and length only (its LRC was checked above); nothing on it is used for
      // payment. A '+' sentinel is outside the 4-bit set: readers that type it mean the same start sentinel.
      if ([...segment.slice(1)].some((ch) => !inSet(ch, spec))) return fail('bad-separator');
      if (segment.length + 1 > spec.maxChars) return fail('bad-length');
    }
  }

  const main = t2 ?? t1;
  // The reader flagged every track it saw: it found a parity or LRC error on the stripe itself.
  if (!main) return fail(flagged ? 'bad-lrc' : 'empty');
  if (t1 && t2 && (t1.pan !== t2.pan || t1.expiry !== t2.expiry || t1.serviceCode !== t2.serviceCode)) {
    return fail('track-mismatch');
  }
  if (!luhnValid(main.pan)) return fail('luhn');
  if (!expiryCurrent(main.expiry, options.now)) return fail('expired');

  const card: CardData = {
    entryMode: options.chipAttempted ? 'fallback-swipe' : 'swipe',
    pan: main.pan,
    expiry: main.expiry,
    serviceCode: main.serviceCode,
  };
  if (t1) {
    card.track1 = t1.data;
    if (t1.name.length > 0) card.cardholderName = t1.name;
  }
  if (t2) card.track2 = t2.data;
  return card;
}

/**
 * True when YYMM is a real month not before the current UTC month. A two-digit year is read in the window
 * [now − 79 years, now + 20 years]: no card is issued for 20 years, so a YY beyond that is a past century.
 */
export function expiryCurrent(yymm: string, now: number): boolean {
  if (!/^\d{4}$/.test(yymm)) return false;
  const yy = Number(yymm.slice(0, 2));
  const mm = Number(yymm.slice(2, 4));
  if (mm < 1 || mm > 12) return false;
  const today = new Date(now);
  const nowYear = today.getUTCFullYear();
  let year = Math.floor(nowYear / 100) * 100 + yy;
  if (year > nowYear + 20) year -= 100;
  return year * 12 + mm >= nowYear * 12 + today.getUTCMonth() + 1;
}

// ---- internals ----

interface TrackSpec {
  ss: string;
  /** Lowest character of the set: the character code is ASCII minus this. */
  base: number;
  /** Number of data bits per character. */
  bits: number;
  maxChars: number;
  lrc(segment: string): string;
}

const TRACK1: TrackSpec = { ss: '%', base: 0x20, bits: 6, maxChars: TRACK1_MAX_CHARS, lrc: track1Lrc };
const TRACK2: TrackSpec = { ss: ';', base: 0x30, bits: 4, maxChars: TRACK2_MAX_CHARS, lrc: track2Lrc };
// Track 3 is not used for payment; some readers type it with '+' as its start sentinel. Checked only for framing.
const TRACK3: TrackSpec = { ss: '+', base: 0x30, bits: 4, maxChars: TRACK3_MAX_CHARS, lrc: track2Lrc };
/** Track 3 as ISO/IEC 4909 writes it: the track 2 character set, `;` start sentinel, at most 107 characters. */
const TRACK3_SEMICOLON: TrackSpec = { ...TRACK3, ss: ';' };

const START_SENTINELS = '%;+';

/**
 * Whether the `;` track at `pos` is track 3. After a track 2 it is, unless it reads as a track 2 itself (another
 * card's, or the same one again: two swipes run together). Before any track 2 it is only when it reads as ISO 4909
 * (format code, then track 1's PAN and `=`), which a track 2 never does: its PAN comes first.
 */
function isTrack3(raw: string, pos: number, t1: Track1 | undefined, t2: Track2 | undefined): boolean {
  const end = findEnd(raw, pos, TRACK2);
  if (isSwipeFailure(end)) return t2 !== undefined;
  const data = raw.slice(pos + 1, end);
  if (t2) return isSwipeFailure(track2Fields(raw.slice(pos, end + 1), undefined));
  return t1 !== undefined && /^\d{2}/.test(data) && data.slice(2).startsWith(`${t1.pan}=`);
}

function fail(reason: SwipeFailureReason): SwipeFailure {
  return { code: 'read-failed', reason };
}

function inSet(c: string, spec: TrackSpec): boolean {
  const code = c.charCodeAt(0) - spec.base;
  return c.length === 1 && code >= 0 && code < 1 << spec.bits;
}

function lrcChar(segment: string, base: number): string {
  let x = 0;
  for (let i = 0; i < segment.length; i++) x ^= segment.charCodeAt(i) - base;
  return String.fromCharCode((x & (base === 0x20 ? 0x3f : 0x0f)) + base);
}

/**
 * Index of the end sentinel of the segment starting at `start`. Another start sentinel or a line break before it
 * means the end sentinel was lost (the next track began), not that the track goes on.
 */
function findEnd(text: string, start: number, spec: TrackSpec): number | SwipeFailure {
  if (text[start] !== spec.ss) return fail(text.length === start ? 'empty' : 'no-start-sentinel');
  if (spec === TRACK1 && text[start + 1] !== 'B') return fail('no-start-sentinel');
  for (let i = start + 1; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '?') return i;
    if (START_SENTINELS.includes(c) || c === '\r' || c === '\n') return fail('no-end-sentinel');
  }
  return fail('no-end-sentinel');
}

/**
 * The LRC character right after an end sentinel, if one was sent. A start sentinel there is ambiguous (it is also a
 * valid LRC value): it is the LRC when it matches and nothing but another track or the end follows it; otherwise it
 * starts the next track.
 */
function takeLrc(text: string, at: number, expected: string, spec: TrackSpec): string | undefined | SwipeFailure {
  const c = text[at];
  if (c === undefined || c === '\r' || c === '\n' || c === '\t') return undefined;
  if (START_SENTINELS.includes(c)) {
    if (c !== expected) return undefined;
    const next = text[at + 1];
    const trackFollows = next !== undefined && !START_SENTINELS.includes(next) && !'\r\n\t'.includes(next);
    return trackFollows ? undefined : c;
  }
  if (!inSet(c, spec) || c !== expected) return fail('bad-lrc');
  return c;
}

/** Checks shared by both tracks: character set, length, LRC. `segment` runs from start through end sentinel. */
function checkSegment(segment: string, lrc: string | undefined, spec: TrackSpec): SwipeFailure | undefined {
  for (const c of segment) if (!inSet(c, spec)) return fail('bad-separator');
  if (lrc !== undefined && (!inSet(lrc, spec) || lrc !== spec.lrc(segment))) return fail('bad-lrc');
  if (segment.length + 1 > spec.maxChars) return fail('bad-length');
  return undefined;
}

function panField(pan: string): SwipeFailure | undefined {
  if (!/^\d*$/.test(pan)) return fail('bad-separator');
  if (pan.length < PAN_MIN || pan.length > PAN_MAX) return fail('bad-length');
  return undefined;
}

/** Expiry (4 digits) then service code (3 digits) at the start of `after`. */
function expiryAndService(after: string): { expiry: string; serviceCode: string } | SwipeFailure {
  const expiry = after.slice(0, 4);
  if (!/^\d{4}$/.test(expiry)) return fail('bad-length');
  const serviceCode = after.slice(4, 7);
  if (!/^\d{3}$/.test(serviceCode)) return fail('bad-service-code');
  return { expiry, serviceCode };
}

function track1Fields(segment: string, lrc: string | undefined): Track1 | SwipeFailure {
  const bad = checkSegment(segment, lrc, TRACK1);
  if (bad) return bad;
  const data = segment.slice(1, -1);
  const body = data.slice(1);
  const fs1 = body.indexOf('^');
  if (fs1 < 0) return fail('bad-separator');
  const pan = body.slice(0, fs1);
  const panBad = panField(pan);
  if (panBad) return panBad;
  const fs2 = body.indexOf('^', fs1 + 1);
  if (fs2 < 0) return fail('bad-separator');
  const name = body.slice(fs1 + 1, fs2);
  if (name.length < NAME_MIN || name.length > NAME_MAX) return fail('bad-length');
  const tail = expiryAndService(body.slice(fs2 + 1));
  if (isSwipeFailure(tail)) return tail;
  return {
    pan,
    name: name.replace(/ +$/, ''),
    expiry: tail.expiry,
    serviceCode: tail.serviceCode,
    discretionary: body.slice(fs2 + 8),
    data,
    lrcPresent: lrc !== undefined,
  };
}

function track2Fields(segment: string, lrc: string | undefined): Track2 | SwipeFailure {
  const bad = checkSegment(segment, lrc, TRACK2);
  if (bad) return bad;
  const data = segment.slice(1, -1);
  const fs = data.indexOf('=');
  if (fs < 0) return fail('bad-separator');
  const pan = data.slice(0, fs);
  const panBad = panField(pan);
  if (panBad) return panBad;
  const after = data.slice(fs + 1);
  const tail = expiryAndService(after);
  if (isSwipeFailure(tail)) return tail;
  const discretionary = after.slice(7);
  if (!/^[0-9:<=>]*$/.test(discretionary)) return fail('bad-separator');
  return {
    pan,
    expiry: tail.expiry,
    serviceCode: tail.serviceCode,
    discretionary,
    data,
    lrcPresent: lrc !== undefined,
  };
}
