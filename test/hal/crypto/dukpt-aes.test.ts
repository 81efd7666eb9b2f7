/**
 * ANSI X9.24-3:2017 AES DUKPT. Vectors: the standard's sample (B.1) and its supplement "X9.24-3-2017 Test Vectors"
 * (x9.org, 2018-01-29) for the AES-128 BDK FEDCBA9876543210F1F1F1F1F1F1F1F1 and initial key ID 1234567890123456:
 * the initial key, the AES-256 initial key, and the transaction (derivation) keys of counters 1 to 8, 0x1FFFE,
 * 0x20000, 0x20001 and the last four counters, as transcribed by the openemv/dukpt project
 * (test/dukpt_aes128_test.c, test/dukpt_aes_test.c); the AES-128 working keys at counter 1 (PIN, MAC generation,
 * data encryption) and the PIN keys at counters 8 and 0x20000, as given from the same supplement by a public
 * CyberChef-style operation test suite ("DUKPT Derive AES Key: ...").
 */
import { describe, expect, it } from 'vitest';
import {
  AesDukptDevice,
  aesDukptKey,
  aesKsn,
  aesTransactionKeyFromInitialKey,
  CryptoInputError,
  DukptExhaustedError,
  deriveAesInitialKey,
} from '../../../hal/crypto/index.js';

const hex = (s: string) => Buffer.from(s, 'hex');
const up = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase();

const BDK = hex('FEDCBA9876543210F1F1F1F1F1F1F1F1');
const IKID = hex('1234567890123456');
const IK = '1273671EA26AC29AFA4D1084127652A1';

const TRANSACTION_KEYS: Array<[number, string]> = [
  [1, '4F21B565BAD9835E112B6465635EAE44'],
  [2, '2F34D68DE10F68D38091A73B9E7C437C'],
  [3, '031504E530365CF81264238540518318'],
  [4, '0EEFC7ADA628BA68878DA9165A8A1887'],
  [5, 'C2A7AC328A5DA2D6002D62465BFC028B'],
  [6, 'D30F7D9351DA58448A2F5E92B4EE3B7D'],
  [7, 'A8253CEED9AC042C54F75D35C8352278'],
  [8, '718EE6CF0B27E53D5F7AF99C4D8146A2'],
  [0x1fffe, 'E21E8C8D347F8561A2BE752DAA85A111'],
  [0x20000, 'F7AE9025468A25D37B7249CFFED224C8'],
  [0x20001, '692C8EA4013645135B36497131DF9D2C'],
  [0xfffe2000, '48E585B694EB0B18D5C35443E163C0BA'],
  [0xfffe4000, '396C2C7CA1EA701C03B86B7D41F0C562'],
  [0xfffe8000, '0387625F189B58AE03EF0E8CCA41105E'],
  [0xffff0000, 'F6BA59389BD14A9855BE9727E7C52E3C'],
];

describe('AES DUKPT host side (ANSI X9.24-3:2017)', () => {
  it('derives the published initial keys (AES-128 and AES-256 BDK)', () => {
    expect(up(deriveAesInitialKey(BDK, IKID))).toBe(IK);
    const bdk256 = Buffer.concat([BDK, BDK]);
    expect(up(deriveAesInitialKey(bdk256, IKID))).toBe(
      'CE9CE0C101D1138F97FB6CAD4DF045A7083D4EAE2D35A31789D01CCF0949550F',
    );
  });

  it.each(TRANSACTION_KEYS)('counter %i: the published transaction key', (counter, expected) => {
    expect(up(aesTransactionKeyFromInitialKey(hex(IK), aesKsn(IKID, counter)))).toBe(expected);
  });

  it('gives the published AES-128 working keys', () => {
    expect(up(aesDukptKey(BDK, aesKsn(IKID, 1), 'pin'))).toBe('AF8CB133A78F8DC2D1359F18527593FB');
    expect(up(aesDukptKey(BDK, aesKsn(IKID, 1), 'mac-generation'))).toBe('A2DC23DE6FDE0824A2BC321E08E4B8B7');
    expect(up(aesDukptKey(BDK, aesKsn(IKID, 1), 'data-encrypt'))).toBe('A35C412EFD41FDB98B69797C02DCD08F');
    expect(up(aesDukptKey(BDK, aesKsn(IKID, 8), 'pin'))).toBe('4D9DF3FBEE3448FC3E676D04320A90F5');
    expect(up(aesDukptKey(BDK, aesKsn(IKID, 0x20000), 'pin'))).toBe('AB828BE7B58C7EC5D5ED0D5D320A0C9D');
  });

  it('refuses keys and KSNs of the wrong size with a typed error', () => {
    expect(() => deriveAesInitialKey(hex('0123'), IKID)).toThrow(CryptoInputError);
    expect(() => aesDukptKey(BDK, hex('1234'), 'pin')).toThrow(CryptoInputError);
  });
});

describe('AES DUKPT device side (intermediate derivation key registers)', () => {
  it('loaded with the initial key, produces the published first eight transaction keys in order', () => {
    const device = AesDukptDevice.load(hex(IK), IKID);
    for (const [counter, expected] of TRANSACTION_KEYS.slice(0, 8)) {
      const tx = device.nextTransaction('pin');
      expect(up(tx.ksn)).toBe(up(aesKsn(IKID, counter)));
      expect(up(tx.transactionKey)).toBe(expected);
    }
  });

  it('skips 0x1FFFF (17 one-bits) after 0x1FFFE, and matches the published keys', () => {
    const device = AesDukptDevice.resume(hex(IK), IKID, 0x1fffe);
    expect(up(device.nextTransaction('pin').transactionKey)).toBe('E21E8C8D347F8561A2BE752DAA85A111');
    const next = device.nextTransaction('pin');
    expect(up(next.ksn)).toBe(up(aesKsn(IKID, 0x20000)));
    expect(up(next.transactionKey)).toBe('F7AE9025468A25D37B7249CFFED224C8');
  });

  it('walks the last four counters and then ends its life with a typed error', () => {
    const device = AesDukptDevice.resume(hex(IK), IKID, 0xfffe2000);
    for (const [counter, expected] of TRANSACTION_KEYS.slice(-4)) {
      const tx = device.nextTransaction('pin');
      expect(up(tx.ksn)).toBe(up(aesKsn(IKID, counter)));
      expect(up(tx.transactionKey)).toBe(expected);
    }
    expect(device.exhausted).toBe(true);
    expect(() => device.nextTransaction('pin')).toThrow(DukptExhaustedError);
  });

  it('walked incrementally holds the same keys as rebuilt at that counter', () => {
    const walked = AesDukptDevice.load(hex(IK), IKID);
    for (let i = 0; i < 100; i++) walked.nextTransaction('pin');
    const rebuilt = AesDukptDevice.resume(hex(IK), IKID, walked.nextCounter);
    for (let i = 0; i < 20; i++)
      expect(up(walked.nextTransaction('pin').key)).toBe(up(rebuilt.nextTransaction('pin').key));
  });
});
