/**
 * ISO 9564-1 PIN blocks. Vectors: format 0 for PIN 1234 and PAN 4012345678909 is the clear block of ANSI
 * X9.24-1:2009 A.4 (041274EDCBA9876F); PAN 5432101234567890 with PINs 1234 and 123456 are the worked format 0
 * examples reproduced by public PIN block tools (the CyberChef-style "PIN Block Build: ISO Format 0" tests); the
 * format 4 PIN and PAN fields for PIN 1234 and PAN 4111111111111111 are from the X9.24-3:2017 supplement test vectors
 * ("Calculation of AES PIN Block Format 4"), as transcribed by the openemv/pinblock project.
 */
import { describe, expect, it } from 'vitest';
import {
  aesDukptKey,
  decipherPinBlockFormat0,
  decipherPinBlockFormat4,
  decodePinBlockFormat0,
  decodePinFieldFormat4,
  encipherPinBlockFormat4,
  encodePinBlockFormat0,
  PinBlockError,
  panFieldFormat4,
  pinFieldFormat4,
  tdesDukptKey,
  desEncrypt,
} from '../../../hal/crypto/index.js';

const hex = (s: string) => Buffer.from(s, 'hex');
const up = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase();

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof PinBlockError) return e.code;
    throw e;
  }
  return undefined;
}

describe('ISO 9564-1 format 0', () => {
  it.each([
    ['1234', '4012345678909', '041274EDCBA9876F'],
    ['1234', '5432101234567890', '041215FEDCBA9876'],
    ['123456', '5432101234567890', '06121557DCBA9876'],
  ])('PIN %s with PAN %s encodes to %s and back', (pin, pan, block) => {
    expect(up(encodePinBlockFormat0(pin, pan))).toBe(block);
    expect(decodePinBlockFormat0(hex(block), pan)).toBe(pin);
  });

  it('takes a 12-digit PIN', () => {
    const block = encodePinBlockFormat0('123456789012', '4012345678909');
    expect(decodePinBlockFormat0(block, '4012345678909')).toBe('123456789012');
  });

  it('refuses bad PINs and PANs with typed errors that do not echo them', () => {
    expect(codeOf(() => encodePinBlockFormat0('123', '4012345678909'))).toBe('pin-length');
    expect(codeOf(() => encodePinBlockFormat0('1234567890123', '4012345678909'))).toBe('pin-length');
    expect(codeOf(() => encodePinBlockFormat0('12a4', '4012345678909'))).toBe('pin-digits');
    expect(codeOf(() => encodePinBlockFormat0('1234', '40123'))).toBe('bad-pan');
    expect(codeOf(() => encodePinBlockFormat0('1234', '40123456789O9'))).toBe('bad-pan');
    try {
      encodePinBlockFormat0('98a7', '4012345678909');
    } catch (e) {
      expect(String((e as Error).message)).not.toMatch(/98a7|4012345678909/);
    }
  });

  it('refuses a block read with the wrong PAN or key as bad-block', () => {
    const block = encodePinBlockFormat0('1234', '4012345678909');
    expect(codeOf(() => decodePinBlockFormat0(block, '5432101234567890'))).toBe('bad-block');
    expect(codeOf(() => decodePinBlockFormat0(hex('0412'), '4012345678909'))).toBe('bad-block');
    const key = tdesDukptKey(hex('0123456789ABCDEFFEDCBA9876543210'), hex('FFFF9876543210E00001'), 'pin');
    const other = tdesDukptKey(hex('0123456789ABCDEFFEDCBA9876543210'), hex('FFFF9876543210E00002'), 'pin');
    const enc = desEncrypt(key, block);
    expect(decipherPinBlockFormat0(key, enc, '4012345678909')).toBe('1234');
    expect(codeOf(() => decipherPinBlockFormat0(other, enc, '4012345678909'))).toBe('bad-block');
  });
});

describe('ISO 9564-1 format 4', () => {
  it('builds the published PIN field and PAN field', () => {
    const field = pinFieldFormat4('1234', () => hex('0123456789ABCDEF'));
    expect(up(field.subarray(0, 8))).toBe('441234AAAAAAAAAA');
    expect(up(field.subarray(8))).toBe('0123456789ABCDEF');
    expect(up(panFieldFormat4('4111111111111111'))).toBe('44111111111111111000000000000000');
    expect(up(panFieldFormat4('411111111111111'))).toBe('34111111111111110000000000000000');
    expect(decodePinFieldFormat4(field)).toBe('1234');
  });

  it('fills at random: the same PIN gives different blocks that decipher alike', () => {
    const key = aesDukptKey(hex('FEDCBA9876543210F1F1F1F1F1F1F1F1'), hex('123456789012345600000001'), 'pin');
    const a = encipherPinBlockFormat4(key, '1234', '4111111111111111');
    const b = encipherPinBlockFormat4(key, '1234', '4111111111111111');
    expect(a.length).toBe(16);
    expect(up(a)).not.toBe(up(b));
    expect(decipherPinBlockFormat4(key, a, '4111111111111111')).toBe('1234');
    expect(decipherPinBlockFormat4(key, b, '4111111111111111')).toBe('1234');
    expect(codeOf(() => decipherPinBlockFormat4(key, a, '4111111111111129'))).toBe('bad-block');
    expect(codeOf(() => decipherPinBlockFormat4(key, a.subarray(0, 8), '4111111111111111'))).toBe('bad-block');
  });

  it('refuses bad PINs and PANs with typed errors', () => {
    expect(codeOf(() => pinFieldFormat4('12'))).toBe('pin-length');
    expect(codeOf(() => pinFieldFormat4('12 34'))).toBe('pin-digits');
    expect(codeOf(() => panFieldFormat4('12345678901234567890'))).toBe('bad-pan');
  });
});
