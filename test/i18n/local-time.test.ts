import { describe, expect, it } from 'vitest';
import { formatLocalDateTime, formatLocalTime, isTimeZone, systemTimeZone } from '../../src/i18n/index.js';

describe('receipt times in the terminal zone', () => {
  it('prints Shanghai time, UTC+08:00 all year', () => {
    expect(formatLocalDateTime(new Date(Date.UTC(2026, 0, 15, 12, 0, 0)), 'Asia/Shanghai')).toBe(
      '2026-01-15 20:00:00 UTC+08:00',
    );
    expect(formatLocalDateTime(new Date(Date.UTC(2026, 6, 15, 16, 30, 5)), 'Asia/Shanghai')).toBe(
      '2026-07-16 00:30:05 UTC+08:00',
    );
  });

  it('follows Paris across the spring change (02:00 CET is 03:00 CEST, 29 March 2026)', () => {
    expect(formatLocalDateTime(new Date(Date.UTC(2026, 2, 29, 0, 59, 59)), 'Europe/Paris')).toBe(
      '2026-03-29 01:59:59 UTC+01:00',
    );
    expect(formatLocalDateTime(new Date(Date.UTC(2026, 2, 29, 1, 0, 0)), 'Europe/Paris')).toBe(
      '2026-03-29 03:00:00 UTC+02:00',
    );
  });

  it('tells the two 02:30 of the autumn change apart by their offset (25 October 2026)', () => {
    const first = formatLocalDateTime(new Date(Date.UTC(2026, 9, 25, 0, 30, 0)), 'Europe/Paris');
    const second = formatLocalDateTime(new Date(Date.UTC(2026, 9, 25, 1, 30, 0)), 'Europe/Paris');
    expect(first).toBe('2026-10-25 02:30:00 UTC+02:00');
    expect(second).toBe('2026-10-25 02:30:00 UTC+01:00');
  });

  it('prints UTC as +00:00 and the time of day alone for a screen', () => {
    const at = new Date(Date.UTC(2026, 2, 29, 1, 0, 0));
    expect(formatLocalDateTime(at, 'UTC')).toBe('2026-03-29 01:00:00 UTC+00:00');
    expect(formatLocalTime(at, 'Europe/Paris')).toBe('03:00:00');
    expect(formatLocalTime(at, 'Asia/Shanghai')).toBe('09:00:00');
  });

  it('knows IANA zones and refuses others; the default is the system zone', () => {
    expect(isTimeZone('Europe/Paris')).toBe(true);
    expect(isTimeZone('Asia/Shanghai')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
    expect(isTimeZone('')).toBe(false);
    const at = new Date(Date.UTC(2026, 2, 29, 1, 0, 0));
    expect(formatLocalDateTime(at)).toBe(formatLocalDateTime(at, systemTimeZone()));
  });
});
