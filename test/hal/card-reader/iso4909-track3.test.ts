/**
 * Track 3 as ISO/IEC 4909 writes it (track 2's 4-bit character set, ';' start sentinel, at most 107 characters with
 * both sentinels and the LRC) inside a swipe as ISO/IEC 7813 readers type it: accepted and ignored, checked for its
 * framing, character set, LRC and length, and never mistaken for a second swipe's track 2 or the other way round.
 */
import { describe, expect, it } from 'vitest';
import { parseSwipe, type SwipeFailureReason, TRACK3_MAX_CHARS, track2Lrc } from '../../../hal/card-reader/iso7813.js';

const PAN = '4111111111111111';
const T1 = `%B${PAN}^DOE/JOHN^28121010000000000000?`;
const T2 = `;${PAN}=28121010000000000?`;
const NOW = Date.UTC(2026, 0, 15);

/** The ISO 4909 fields in their order and sizes; the values are a plausible card's. */
const T3_FIELDS: Array<[string, string]> = [
  ['format code', '01'],
  ['PAN', PAN],
  ['field separator', '='],
  ['country code', '276'],
  ['currency code', '978'],
  ['amount authorized per cycle', '0500'],
  ['amount remaining this cycle', '0500'],
  ['cycle begin', '6001'],
  ['cycle length', '30'],
  ['retry count', '3'],
  ['PIN control parameters', '000000'],
  ['interchange control', '0'],
  ['PAN service restriction', '00'],
  ['SAN-1 service restriction', '00'],
  ['SAN-2 service restriction', '00'],
  ['expiration date', '2812'],
  ['card sequence number', '1'],
  ['card security number', '000000000'],
  ['first subsidiary account number, separator', '='],
  ['second subsidiary account number, separator', '='],
  ['relay marker', '1'],
  ['crypto check digits', '000000'],
];
const T3 = `;${T3_FIELDS.map(([, v]) => v).join('')}?`;

function reasonOf(result: unknown): SwipeFailureReason | undefined {
  return (result as { reason?: SwipeFailureReason }).reason;
}

describe("track 3 with the ';' start sentinel (ISO/IEC 4909)", () => {
  it('is within the track 3 length limit as built here', () => {
    expect(T3.length + 1).toBeLessThanOrEqual(TRACK3_MAX_CHARS);
  });

  it.each([
    ['after tracks 1 and 2', `${T1}${T2}${T3}`],
    ['after tracks 1 and 2, on its own line', `${T1}\r${T2}\r${T3}\r`],
    ['with its LRC', `${T1}${T2}${T3}${track2Lrc(T3)}`],
    ['after track 2 alone', `${T2}${T3}`],
    ['after track 1 alone (track 2 unread)', `${T1}${T3}`],
    ['after track 1 with track 2 flagged unreadable', `${T1};E?${T3}`],
  ])('is accepted and ignored %s', (_what, raw) => {
    const card = parseSwipe(raw, { now: NOW });
    expect(card).toMatchObject({ pan: PAN, expiry: '2812', serviceCode: '101' });
    // Nothing of track 3 is kept.
    expect(JSON.stringify(card)).not.toContain('276978');
  });

  it('keeps track 2 as the card when both are there', () => {
    expect(parseSwipe(`${T2}${T3}`, { now: NOW })).toMatchObject({ track2: T2.slice(1, -1) });
  });

  it.each<[string, string, SwipeFailureReason]>([
    ['a wrong LRC', `${T1}${T2}${T3}${track2Lrc(T3) === '0' ? '1' : '0'}`, 'bad-lrc'],
    ['a character outside the 4-bit set', `${T1}${T2}${T3.replace('276', '2A6')}`, 'bad-separator'],
    ['more than 107 characters', `${T1}${T2};01${PAN}=${'0'.repeat(TRACK3_MAX_CHARS - 20)}?`, 'bad-length'],
    ['no end sentinel', `${T1}${T2}${T3.slice(0, -1)}`, 'no-end-sentinel'],
    ['a second track 2 of the same card (two swipes)', `${T2}${T2}`, 'bad-length'],
    ['a second track 2 of another card (two swipes)', `${T2};5555555555554444=28121010000000000?`, 'bad-length'],
  ])('is refused with %s', (_what, raw, reason) => {
    expect(reasonOf(parseSwipe(raw, { now: NOW }))).toBe(reason);
  });

  it("a ';' track after track 1 that is not ISO 4909 is still read as track 2 (and must agree with track 1)", () => {
    expect(reasonOf(parseSwipe(`${T1};5555555555554444=28121010000000000?`, { now: NOW }))).toBe('track-mismatch');
  });

  it("the '+' start sentinel some readers type for track 3 still works", () => {
    expect(parseSwipe(`${T1}${T2}+${T3.slice(1)}`, { now: NOW })).toMatchObject({ pan: PAN });
  });
});
