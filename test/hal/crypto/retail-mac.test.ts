import { describe, expect, it } from 'vitest';
import { CryptoInputError, desEncrypt, padForMac, retailMac, tdesCheckValue } from '../../../hal/crypto/index.js';

const hex = (s: string) => Buffer.from(s, 'hex');

describe('DES primitives', () => {
  it('encrypts the classic DES test block (FIPS 81 key 0123456789ABCDEF, "Now is t")', () => {
    expect(desEncrypt(hex('0123456789ABCDEF'), Buffer.from('Now is t')).toString('hex')).toBe('3fa40e8a984d4815');
  });

  it('refuses keys and data of the wrong size with a typed error', () => {
    expect(() => desEncrypt(hex('0123'), Buffer.alloc(8))).toThrow(CryptoInputError);
    expect(() => desEncrypt(hex('0123456789ABCDEF'), Buffer.alloc(7))).toThrow(CryptoInputError);
    expect(() => retailMac(hex('0123456789ABCDEF'), Buffer.alloc(8))).toThrow(CryptoInputError);
  });
});

describe('ISO 9797-1 MAC algorithm 3 (ANSI X9.19 retail MAC)', () => {
  it('gives the published X9.19 value for "Now is the time for all "', () => {
    const mac = retailMac(hex('0123456789ABCDEFFEDCBA9876543210'), Buffer.from('Now is the time for all '));
    expect(mac.toString('hex').toUpperCase()).toBe('A1C72E74EA3FA9B6');
  });

  it('changes when one bit of the message or the key changes', () => {
    const key = hex('0123456789ABCDEFFEDCBA9876543210');
    const data = Buffer.from('0200 message body of some length');
    const base = retailMac(key, data).toString('hex');
    const flipped = Buffer.from(data);
    flipped[5] = (flipped[5] ?? 0) ^ 1;
    expect(retailMac(key, flipped).toString('hex')).not.toBe(base);
    const otherKey = Buffer.from(key);
    otherKey[15] = (otherKey[15] ?? 0) ^ 0x02;
    expect(retailMac(otherKey, data).toString('hex')).not.toBe(base);
  });

  it('pads by method 1 (zeros, none when whole) and method 2 (0x80 always)', () => {
    expect(padForMac(hex('01'), 1).toString('hex')).toBe('0100000000000000');
    expect(padForMac(hex('0102030405060708'), 1).length).toBe(8);
    expect(padForMac(hex('0102030405060708'), 2).toString('hex')).toBe('01020304050607088000000000000000');
    expect(padForMac(Buffer.alloc(0), 1).length).toBe(8);
  });
});

describe('key check values', () => {
  it('is the first 3 bytes of zeros encrypted under the key', () => {
    // The X9.24-1 test BDK; its check value is widely published as 08D7B4.
    expect(tdesCheckValue(hex('0123456789ABCDEFFEDCBA9876543210'))).toBe('08D7B4');
  });
});
