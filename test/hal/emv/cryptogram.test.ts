/**
 * The card's cryptography against published vectors (the option A, common session key, MAC algorithm 3 and ARPC
 * method 1 examples of the pyemv test suite, issuer master key 0123456789ABCDEFFEDCBA9876543210, check value 08D7),
 * then the host's check of a cryptogram computed by the card side.
 */
import { describe, expect, it } from 'vitest';
import { tdesCheckValue } from '../../../hal/crypto/index.js';
import {
  acSessionKey,
  applicationCryptogram,
  arpcMethod1,
  arpcValid,
  cdolBytes,
  type CdolData,
  deriveCommonSessionKey,
  deriveIccMasterKey,
  issuerAuthenticationDataFor,
  verifyArqc,
} from '../../../hal/emv/cryptogram.js';
import { buildField55 } from '../../../hal/emv/field55.js';
import { TEST_ISSUER_MASTER_KEY } from '../../../hal/emv/test-issuer-key.js';

const h = (text: string): Buffer => Buffer.from(text, 'hex');
const kcv2 = (key: Uint8Array): string => tdesCheckValue(key).slice(0, 4);
const IMK = h('0123456789ABCDEFFEDCBA9876543210');

describe('published vectors', () => {
  it('the issuer master key has check value 08D7', () => {
    expect(kcv2(IMK)).toBe('08D7');
    expect(Buffer.from(TEST_ISSUER_MASTER_KEY).equals(IMK)).toBe(true);
  });

  it('option A, common session key, AC and ARPC under the session key (PAN 12345678901234567, PSN 45)', () => {
    const mk = deriveIccMasterKey(IMK, '12345678901234567', '45');
    expect(kcv2(mk)).toBe('FF08');
    const sk = deriveCommonSessionKey(mk, h('1234567890123456'));
    expect(kcv2(sk)).toBe('DF82');
    const ac = applicationCryptogram(sk, h('0123456789ABCDEF0123456789ABCDEF'));
    expect(ac.toString('hex').toUpperCase()).toBe('19C1FBC83EBDC0D5');
    expect(arpcMethod1(sk, ac, h('0000')).toString('hex').toUpperCase()).toBe('C3620580668E5B65');
    // The same ARPC method under the ICC master key.
    expect(arpcMethod1(mk, ac, h('0000')).toString('hex').toUpperCase()).toBe('78A372523FA35A03');
  });

  it('PAN 9901234567890123, PSN 45', () => {
    const mk = deriveIccMasterKey(IMK, '9901234567890123', 45);
    expect(kcv2(mk)).toBe('1DA5');
    const sk = deriveCommonSessionKey(mk, h('1234567890123456'));
    expect(kcv2(sk)).toBe('0995');
    const ac = applicationCryptogram(sk, h('0123456789ABCDEF0123456789ABCDEF'));
    expect(ac.toString('hex').toUpperCase()).toBe('4B46013359B7A58B');
    expect(arpcMethod1(mk, ac, h('0000')).toString('hex').toUpperCase()).toBe('F8C9CECAABD55AD1');
  });

  it('keys come out with odd parity', () => {
    const mk = deriveIccMasterKey(IMK, '4761739001010010', '01');
    for (const b of acSessionKey(mk, 1))
      expect(b.toString(2).split('1').length - 1).toSatisfy((n: number) => n % 2 === 1);
  });
});

describe('session key from the ATC', () => {
  it('is the common session key with R = ATC || 000000000000', () => {
    const mk = deriveIccMasterKey(IMK, '4761739001010010', '01');
    expect(acSessionKey(mk, 0x1c).equals(deriveCommonSessionKey(mk, h('001C000000000000')))).toBe(true);
    expect(acSessionKey(mk, 1).equals(acSessionKey(mk, 2))).toBe(false);
  });
});

const pan = '4761739001010010';
const cdol: CdolData = {
  amount: h('000000001250'),
  amountOther: h('000000000000'),
  terminalCountry: h('0250'),
  tvr: h('0000008000'),
  currency: h('0978'),
  date: h('260101'),
  type: h('00'),
  unpredictableNumber: h('CAFEBABE'),
  aip: h('1980'),
  atc: h('0007'),
  issuerApplicationData: h('06010A03A00000'),
};

function field55For(data: CdolData, ac: Buffer, cid = '80'): Uint8Array {
  return buildField55({
    '9F26': ac,
    '9F27': h(cid),
    '9F10': data.issuerApplicationData,
    '9F37': data.unpredictableNumber,
    '9F36': data.atc,
    '95': data.tvr,
    '9A': data.date,
    '9C': data.type,
    '9F02': data.amount,
    '9F03': data.amountOther,
    '5F2A': data.currency,
    '82': data.aip,
    '9F1A': data.terminalCountry,
    '9F33': h('E0F8C8'),
    '9F34': h('420300'),
    '9F35': h('22'),
    '5F34': h('01'),
    '84': h('A0000000031010'),
  });
}

describe('the host checks what the card computed', () => {
  const sk = acSessionKey(deriveIccMasterKey(IMK, pan, '01'), 7);
  const arqc = applicationCryptogram(sk, cdolBytes(cdol));

  it('covers the CDOL data in order, with the CVR part of 9F10', () => {
    expect(cdolBytes(cdol).toString('hex').toUpperCase()).toBe(
      '000000001250' +
        '000000000000' +
        '0250' +
        '0000008000' +
        '0978' +
        '260101' +
        '00' +
        'CAFEBABE' +
        '1980' +
        '0007' +
        '03A00000',
    );
  });

  it('verifies the ARQC and answers a tag 91 the card accepts', () => {
    const check = verifyArqc(IMK, field55For(cdol, arqc), pan, '01');
    expect(verifyArqc(IMK, field55For(cdol, arqc), pan).valid).toBe(true); // PSN from 5F34
    expect({ valid: check.valid, type: check.type, atc: check.atc }).toEqual({ valid: true, type: 'ARQC', atc: 7 });
    const tag91 = check.issuerAuthenticationData('00');
    expect(tag91.length).toBe(10);
    expect(tag91.subarray(8).toString('ascii')).toBe('00');
    expect(tag91.equals(issuerAuthenticationDataFor(sk, arqc, '00'))).toBe(true);
    expect(arpcValid(sk, arqc, tag91)).toBe(true);
    // A different answer code, a different ARQC or a flipped bit: the card refuses it.
    const flipped = Buffer.from(tag91);
    flipped[0] = (flipped[0] as number) ^ 1;
    expect(arpcValid(sk, arqc, flipped)).toBe(false);
    expect(arpcValid(sk, Buffer.alloc(8), tag91)).toBe(false);
    expect(arpcValid(sk, arqc, tag91.subarray(0, 8))).toBe(false);
  });

  it('refuses a cryptogram over altered data, the wrong PAN or the wrong key', () => {
    expect(verifyArqc(IMK, field55For({ ...cdol, amount: h('000000009999') }, arqc), pan, '01').valid).toBe(false);
    expect(verifyArqc(IMK, field55For(cdol, arqc), '4761739001010028', '01').valid).toBe(false);
    expect(verifyArqc(IMK, field55For(cdol, arqc), pan, '02').valid).toBe(false);
    expect(verifyArqc(h('00112233445566778899AABBCCDDEEFF'), field55For(cdol, arqc), pan, '01').valid).toBe(false);
    expect(verifyArqc(IMK, field55For({ ...cdol, issuerApplicationData: h('0601') }, arqc), pan, '01').valid).toBe(
      false,
    );
  });
});
