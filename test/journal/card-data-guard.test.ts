import { describe, expect, it } from 'vitest';
import { assertMaskedPan, assertNoCardData, isMaskedPan, JournalError } from '../../src/journal/index.js';
import { AMEX, MASTERCARD, VISA } from './helpers.js';

function refusal(fn: () => void): JournalError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(JournalError);
    expect((err as JournalError).code).toBe('card-data-refused');
    return err as JournalError;
  }
  throw new Error('expected a refusal');
}

describe('assertNoCardData', () => {
  it('refuses Luhn-valid card numbers anywhere in strings, without echoing them', () => {
    for (const value of [
      VISA,
      `card ${MASTERCARD} ok`,
      { a: { b: [`x${AMEX}y`] } },
      '4111 1111 1111 1111',
      '4111-1111-1111-1111',
      '3782 822463 10005',
    ]) {
      const err = refusal(() => assertNoCardData(value, 'detail'));
      expect(err.message).not.toMatch(/\d{13}/);
    }
  });

  it('refuses track data', () => {
    refusal(() => assertNoCardData({ raw: `;${VISA}=25121010000000000000?` }, 'detail'));
    refusal(() => assertNoCardData({ raw: `%B${VISA}^DOE/JOHN^2512101?` }, 'detail'));
    refusal(() => assertNoCardData({ tlv: `57134111111111111112D25121010000000000000F` }, 'detail'));
    // Track data with a PAN that fails Luhn is still track data.
    refusal(() => assertNoCardData(';1234567890123=2512', 'detail'));
  });

  it('refuses sensitive keys whatever their value or case', () => {
    for (const key of ['cvv', 'CVC', 'pin', 'pinBlock', 'track1', 'track_2', 'Track2']) {
      refusal(() => assertNoCardData({ nested: { [key]: 'x' } }, 'detail'));
    }
  });

  it('refuses binary values, which cannot be inspected', () => {
    refusal(() => assertNoCardData({ icc: new Uint8Array([0x5a, 0x08]) }, 'detail'));
  });

  it('accepts ordinary journal details', () => {
    expect(() =>
      assertNoCardData(
        {
          maskedPan: '411111******1111',
          stan: 123456,
          sentAt: 1714560000007, // a Luhn-valid millisecond timestamp: numbers are not card data
          ref: 'a3c1e2f0-1234-4abc-9def-0123456789ab',
          rrn: '000000012345',
          notLuhn: '4111111111111112',
          long: '12345678901234567890123',
          pinpad: 'ok',
          fault: { device: 'printer', code: 'paper-out', message: 'paper end' },
          list: [1, 'two', null, true],
        },
        'detail',
      ),
    ).not.toThrow();
  });

  it('survives cycles', () => {
    const a: Record<string, unknown> = { x: 1 };
    a.self = a;
    expect(() => assertNoCardData(a, 'detail')).not.toThrow();
  });
});

describe('masked PAN', () => {
  it('accepts maskPan output and refuses anything else', () => {
    expect(isMaskedPan('411111******1111')).toBe(true);
    expect(isMaskedPan('378282*****0005')).toBe(true);
    expect(isMaskedPan('********')).toBe(true);
    for (const bad of [VISA, '4111 11** **** 1111', '41111*******1111', '411111******111', '411111XXXXXX1111', '']) {
      expect(isMaskedPan(bad), bad).toBe(false);
      refusal(() => assertMaskedPan(bad, 'maskedPan'));
    }
  });
});
