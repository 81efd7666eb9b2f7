/**
 * Field 39 by class, from the reference table (ISO 8583:1987 as acquirers use it): every two-character value lands
 * in exactly one class, the table agrees with the reference lists, and an unknown code is never taken for money moved.
 */
import { describe, expect, it } from 'vitest';
import {
  describeResponseCode,
  isApprovedClass,
  isKnownResponseCode,
  RESPONSE_CLASSES,
  RESPONSE_CODES,
  responseClass,
  type ResponseClass,
} from '../../src/iso8583/index.js';
import { EVERY_TWO_CHARACTER_CODE } from '../support/field39.js';

/** REFERENCE.md, "ISO 8583 (1987) field 39 by class". */
const REFERENCE: Readonly<Record<ResponseClass, readonly string[]>> = {
  approved: ['00', '08', '11', '16', 'Y1', 'Y3'],
  'partially-approved': ['10'],
  refer: ['01', '02'],
  'pick-up': ['04', '07', '33', '34', '35', '36', '37', '38', '41', '43', '67'],
  declined: [
    '05',
    '12',
    '13',
    '14',
    '15',
    '51',
    '54',
    '55',
    '57',
    '58',
    '59',
    '61',
    '62',
    '63',
    '65',
    '75',
    'Z1',
    'Z3',
  ],
  'retry-later': ['19', '90', '91', '92', '96'],
  error: ['30', '94', '95', '68'],
};

describe('field 39 classes', () => {
  it('puts every two-character value (digits and letters, 3,844 of them) in exactly one class', () => {
    expect(EVERY_TWO_CHARACTER_CODE).toHaveLength(62 * 62);
    const counts = new Map<ResponseClass, number>();
    for (const code of EVERY_TWO_CHARACTER_CODE) {
      const cls = responseClass(code);
      expect(RESPONSE_CLASSES, code).toContain(cls);
      counts.set(cls, (counts.get(cls) ?? 0) + 1);
      // One class only: the table holds a code at most once, and the class decides whether money moved.
      expect(RESPONSE_CODES.filter((r) => r.code === code).length, code).toBeLessThanOrEqual(1);
      expect(isApprovedClass(code), code).toBe(cls === 'approved' || cls === 'partially-approved');
    }
    expect([...counts.values()].reduce((a, b) => a + b, 0)).toBe(EVERY_TWO_CHARACTER_CODE.length);
  });

  for (const cls of RESPONSE_CLASSES) {
    it(`classes the reference's ${cls} codes as ${cls}`, () => {
      for (const code of REFERENCE[cls]) {
        expect(describeResponseCode(code)?.class, code).toBe(cls);
        expect(responseClass(code), code).toBe(cls);
      }
    });
  }

  it('approves only the approved and partially approved codes of the reference', () => {
    const approving = EVERY_TWO_CHARACTER_CODE.filter(isApprovedClass);
    expect(approving.sort()).toEqual([...REFERENCE.approved, ...REFERENCE['partially-approved']].sort());
  });

  it('classes an unknown code as an error, and says it is unknown', () => {
    for (const code of ['Q7', 'zz', '99', '4A']) {
      expect(isKnownResponseCode(code), code).toBe(false);
      expect(responseClass(code), code).toBe('error');
      expect(isApprovedClass(code), code).toBe(false);
    }
  });
});
