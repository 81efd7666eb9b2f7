import { describe, expect, it } from 'vitest';
import {
  expiryCurrent,
  hasChip,
  isSwipeFailure,
  parseSwipe,
  parseTrack1,
  parseTrack2,
  swipeFault,
  track1Lrc,
  track2Lrc,
  type SwipeFailureReason,
} from '../../../hal/card-reader/iso7813.js';
import { luhnValid } from '../../../hal/card-reader/luhn.js';
import { DeviceFaultError } from '../../../hal/fault.js';

const PAN = '4111111111111111';
const T1 = `%B${PAN}^DOE/JOHN^28121010000000000000?`;
const T2 = `;${PAN}=28121010000000000?`;
/** 2026-01-15 UTC: expiry 2601 is still good, 2512 is not. */
const NOW = Date.UTC(2026, 0, 15);

function reasonOf(result: unknown): SwipeFailureReason | undefined {
  return isSwipeFailure(result) ? result.reason : undefined;
}

describe('parseTrack1', () => {
  it('reads a good track 1 without an LRC', () => {
    expect(parseTrack1(T1)).toEqual({
      pan: PAN,
      name: 'DOE/JOHN',
      expiry: '2812',
      serviceCode: '101',
      discretionary: '0000000000000',
      data: T1.slice(1, -1),
      lrcPresent: false,
    });
  });

  it('reads a good track 1 with its LRC and trims the padded name', () => {
    const seg = `%B${PAN}^DOE/JOHN                  ^2812201123?`;
    const parsed = parseTrack1(seg + track1Lrc(seg));
    expect(parsed).toMatchObject({ name: 'DOE/JOHN', serviceCode: '201', discretionary: '123', lrcPresent: true });
  });

  it.each<[string, string, SwipeFailureReason]>([
    ['missing %', T1.slice(1), 'no-start-sentinel'],
    ['format code not B', T1.replace('%B', '%A'), 'no-start-sentinel'],
    ['missing ?', T1.slice(0, -1), 'no-end-sentinel'],
    ['track 2 begins before the end sentinel', `%B${PAN}^DOE/JOHN^2812101;${PAN}?`, 'no-end-sentinel'],
    ['wrong LRC', T1 + (track1Lrc(T1) === 'A' ? 'B' : 'A'), 'bad-lrc'],
    ['LRC outside the character set', `${T1}a`, 'bad-lrc'],
    ['no field separators', `%B${PAN}DOE/JOHN2812101?`, 'bad-separator'],
    ['one field separator', `%B${PAN}^DOE/JOHN2812101?`, 'bad-separator'],
    ['letter in the PAN', `%B4111X11111111111^DOE/JOHN^2812101?`, 'bad-separator'],
    ['lower case (outside the 6-bit set)', `%B${PAN}^doe/john^2812101?`, 'bad-separator'],
    ['PAN of 11 digits', `%B41111111111^DOE/JOHN^2812101?`, 'bad-length'],
    ['PAN of 20 digits', `%B41111111111111111111^DOE/JOHN^2812101?`, 'bad-length'],
    ['name of 1 character', `%B${PAN}^D^2812101?`, 'bad-length'],
    ['name of 27 characters', `%B${PAN}^${'A'.repeat(27)}^2812101?`, 'bad-length'],
    ['expiry of 3 digits', `%B${PAN}^DOE/JOHN^281?`, 'bad-length'],
    ['over 79 characters with the LRC', `%B${PAN}^DOE/JOHN^2812101${'0'.repeat(45)}?`, 'bad-length'],
    ['text after the LRC', `${T1}${track1Lrc(T1)}X`, 'bad-length'],
    ['service code of 2 digits', `%B${PAN}^DOE/JOHN^281210?`, 'bad-service-code'],
    ['service code with a letter', `%B${PAN}^DOE/JOHN^28121X1?`, 'bad-service-code'],
    ['empty text', '', 'empty'],
  ])('rejects %s', (_what, text, reason) => {
    expect(reasonOf(parseTrack1(text))).toBe(reason);
  });

  it('accepts exactly 79 characters counting the LRC', () => {
    const base = `%B${PAN}^DOE/JOHN^2812101`;
    const seg = `${base}${'0'.repeat(79 - base.length - 2)}?`;
    expect(seg.length + 1).toBe(79);
    expect(isSwipeFailure(parseTrack1(seg + track1Lrc(seg)))).toBe(false);
  });
});

describe('parseTrack2', () => {
  it('reads a good track 2 without and with its LRC', () => {
    expect(parseTrack2(T2)).toEqual({
      pan: PAN,
      expiry: '2812',
      serviceCode: '101',
      discretionary: '0000000000',
      data: T2.slice(1, -1),
      lrcPresent: false,
    });
    expect(parseTrack2(T2 + track2Lrc(T2))).toMatchObject({ pan: PAN, lrcPresent: true });
  });

  it.each<[string, string, SwipeFailureReason]>([
    ['missing ;', T2.slice(1), 'no-start-sentinel'],
    ['missing ?', T2.slice(0, -1), 'no-end-sentinel'],
    ['wrong LRC', T2 + (track2Lrc(T2) === '0' ? '1' : '0'), 'bad-lrc'],
    ['no =', `;${PAN}28121010000000000?`, 'bad-separator'],
    ['letter (outside the 4-bit set)', `;${PAN}=2812101A?`, 'bad-separator'],
    ['^ where = belongs', `;${PAN}^2812101?`, 'bad-separator'],
    ['PAN of 11 digits', ';41111111111=2812101?', 'bad-length'],
    ['expiry cut short', `;${PAN}=28?`, 'bad-length'],
    ['over 40 characters with the LRC', `;${PAN}=2812101${'0'.repeat(15)}?`, 'bad-length'],
    ['service code cut short', `;${PAN}=281210?`, 'bad-service-code'],
  ])('rejects %s', (_what, text, reason) => {
    expect(reasonOf(parseTrack2(text))).toBe(reason);
  });
});

describe('LRC (ISO/IEC 7811)', () => {
  /** The stripe as a reader sees it: data bits LSB first plus an odd parity bit per character. */
  function rows(text: string, base: number, bits: number): number[][] {
    return [...text].map((c) => {
      const v = c.charCodeAt(0) - base;
      const data = Array.from({ length: bits }, (_, i) => (v >> i) & 1);
      const ones = data.reduce((a, b) => a + b, 0);
      return [...data, ones % 2 === 0 ? 1 : 0];
    });
  }

  it.each([
    ['track 1', T1, 0x20, 6, track1Lrc],
    ['track 2', T2, 0x30, 4, track2Lrc],
  ] as const)(
    '%s: data-bit columns XOR to zero with the LRC row; every row has odd parity',
    (_t, seg, base, bits, lrc) => {
      const all = rows(seg + lrc(seg), base, bits);
      for (let col = 0; col < bits; col++) expect(all.reduce((x, row) => x ^ (row[col] as number), 0)).toBe(0);
      for (const row of all) expect(row.reduce((a, b) => a + b, 0) % 2).toBe(1);
    },
  );
});

describe('parseSwipe', () => {
  it('combines tracks 1 and 2 as a keyboard-wedge reader types them', () => {
    expect(parseSwipe(`${T1}${T2}\r`, { now: NOW })).toEqual({
      entryMode: 'swipe',
      pan: PAN,
      expiry: '2812',
      serviceCode: '101',
      cardholderName: 'DOE/JOHN',
      track1: T1.slice(1, -1),
      track2: T2.slice(1, -1),
    });
  });

  it("reads as 'fallback-swipe' when a chip read was tried first", () => {
    expect(parseSwipe(T1 + T2, { now: NOW, chipAttempted: true })).toMatchObject({ entryMode: 'fallback-swipe' });
  });

  it('accepts LRCs, line breaks between tracks, a track 3, and tracks the reader flagged unreadable', () => {
    const withLrc = `${T1}${track1Lrc(T1)}\r\n${T2}${track2Lrc(T2)}+1234567890?\r`;
    expect(parseSwipe(withLrc, { now: NOW })).toMatchObject({ pan: PAN, cardholderName: 'DOE/JOHN' });
    expect(parseSwipe(`%E?${T2}+E?`, { now: NOW })).toMatchObject({ pan: PAN, track2: T2.slice(1, -1) });
    expect(parseSwipe(T2, { now: NOW })).not.toHaveProperty('track1');
    expect(parseSwipe(T1, { now: NOW })).toMatchObject({ pan: PAN, serviceCode: '101' });
  });

  it("tells a track 1 LRC that happens to be ';' from track 2's start sentinel", () => {
    // Find discretionary data whose LRC is ';', the character that also starts track 2.
    let seg = '';
    for (let n = 0; n < 10_000 && track1Lrc(seg) !== ';'; n++) {
      seg = `%B${PAN}^DOE/JOHN^2812101${String(n).padStart(5, '0')}?`;
    }
    expect(track1Lrc(seg)).toBe(';');
    expect(parseSwipe(`${seg};${T2}`, { now: NOW })).toMatchObject({ pan: PAN, track1: seg.slice(1, -1) });
    expect(parseSwipe(`${seg}${T2}`, { now: NOW })).toMatchObject({ pan: PAN, track2: T2.slice(1, -1) });
    expect(parseSwipe(`${seg};`, { now: NOW })).toMatchObject({ pan: PAN });
  });

  it.each<[string, string, SwipeFailureReason]>([
    ['nothing', '', 'empty'],
    ['a bare Enter', '\r', 'empty'],
    ['only a track 3', '+1234?', 'empty'],
    ['every track flagged unreadable', '%E?;E?\r', 'bad-lrc'],
    ['garbage', 'x%B...', 'no-start-sentinel'],
    ['garbage after the tracks', `${T1}${T2}\rZZ`, 'no-start-sentinel'],
    ['track 1 cut short', `%B${PAN}^DOE/JO`, 'no-end-sentinel'],
    ['track 2 cut short after a good track 1', `${T1};${PAN}=2812`, 'no-end-sentinel'],
    ['a bad LRC', `${T1}${T2}${track2Lrc(T2) === '0' ? '1' : '0'}`, 'bad-lrc'],
    ['two track 2s (two swipes run together)', `${T2}${T2}`, 'bad-length'],
    ['Luhn failure', `;4111111111111112=28121010000000000?`, 'luhn'],
    ['an expired card', `;${PAN}=25121010000000000?`, 'expired'],
    ['month 13', `;${PAN}=28131010000000000?`, 'expired'],
    ['tracks disagreeing on the PAN', `${T1};5555555555554444=28121010000000000?`, 'track-mismatch'],
    ['tracks disagreeing on the expiry', `${T1};${PAN}=29121010000000000?`, 'track-mismatch'],
    ['tracks disagreeing on the service code', `${T1};${PAN}=28122010000000000?`, 'track-mismatch'],
    ['a short service code', `;${PAN}=281210?`, 'bad-service-code'],
  ])('rejects %s', (_what, raw, reason) => {
    const result = parseSwipe(raw, { now: NOW });
    expect(reasonOf(result)).toBe(reason);
  });

  it('maps a failure to a read-failed fault carrying the reason and no card data', () => {
    const result = parseSwipe(`${T1};${PAN}=29121010000000000?`, { now: NOW });
    if (!isSwipeFailure(result)) throw new Error('expected a failure');
    const error = swipeFault(result);
    expect(error).toBeInstanceOf(DeviceFaultError);
    expect(error.toJSON()).toEqual({
      device: 'card-reader',
      code: 'read-failed',
      message: 'swipe not accepted: track-mismatch',
      detail: { reason: 'track-mismatch' },
    });
    expect(JSON.stringify(error.toJSON()) + error.stack).not.toContain(PAN);
  });
});

describe('expiry, Luhn and service code helpers', () => {
  it('counts a card valid through the end of its expiry month (UTC)', () => {
    expect(expiryCurrent('2601', NOW)).toBe(true);
    expect(expiryCurrent('2512', NOW)).toBe(false);
    expect(expiryCurrent('2512', Date.UTC(2025, 11, 31, 23, 59))).toBe(true);
    expect(expiryCurrent('2600', NOW)).toBe(false);
    expect(expiryCurrent('26x1', NOW)).toBe(false);
  });

  it('reads two-digit years in a window reaching 20 years ahead', () => {
    expect(expiryCurrent('4612', NOW)).toBe(true); // 2046
    expect(expiryCurrent('4701', NOW)).toBe(false); // 1947
    expect(expiryCurrent('9912', NOW)).toBe(false); // 1999
  });

  it('checks Luhn and chip service codes', () => {
    expect(luhnValid('4111111111111111')).toBe(true);
    expect(luhnValid('79927398713')).toBe(true);
    expect(luhnValid('79927398710')).toBe(false);
    expect(luhnValid('')).toBe(false);
    expect(hasChip('201')).toBe(true);
    expect(hasChip('601')).toBe(true);
    expect(hasChip('101')).toBe(false);
  });
});
