import { describe, expect, it } from 'vitest';
import {
  CryptoInputError,
  DukptExhaustedError,
  deriveTdesIpek,
  desDecrypt,
  desEncrypt,
  nextTdesCounter,
  TdesDukptDevice,
  tdesDukptKey,
  tdesTransactionKey,
  tdesWorkingKey,
} from '../../../hal/crypto/index.js';
import {
  BDK,
  CLEAR_PIN_BLOCK,
  COUNTER_1_WORKING_KEYS,
  INITIAL_KSN,
  INITIAL_SEQUENCE,
  IPEK,
  LATER_WORKING_KEYS,
  ROLLOVER_SEQUENCE,
} from './dukpt-tdes-vectors.js';

const hex = (s: string) => Buffer.from(s, 'hex');
const up = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase();

describe('TDES DUKPT host side (ANSI X9.24-1:2009 A.4)', () => {
  it('derives the published initial key from the BDK and KSN (the counter does not matter)', () => {
    expect(up(deriveTdesIpek(hex(BDK), hex(INITIAL_KSN)))).toBe(IPEK);
    expect(up(deriveTdesIpek(hex(BDK), hex('FFFF9876543210E00008')))).toBe(IPEK);
  });

  it.each([...INITIAL_SEQUENCE, ...ROLLOVER_SEQUENCE])('KSN $ksn: transaction key and encrypted PIN block', (v) => {
    const key = tdesTransactionKey(hex(BDK), hex(v.ksn));
    expect(up(key)).toBe(v.transactionKey);
    const pinKey = tdesWorkingKey(key, 'pin');
    expect(up(desEncrypt(pinKey, hex(CLEAR_PIN_BLOCK)))).toBe(v.encryptedPinBlock);
    expect(up(desDecrypt(pinKey, hex(v.encryptedPinBlock)))).toBe(CLEAR_PIN_BLOCK);
  });

  it('gives the published working key of each variant at counter 1', () => {
    const ksn = hex('FFFF9876543210E00001');
    for (const [usage, expected] of Object.entries(COUNTER_1_WORKING_KEYS)) {
      expect(up(tdesDukptKey(hex(BDK), ksn, usage as keyof typeof COUNTER_1_WORKING_KEYS))).toBe(expected);
    }
  });

  it.each(LATER_WORKING_KEYS)('gives the published PIN and MAC request keys at $ksn', (v) => {
    expect(up(tdesDukptKey(hex(BDK), hex(v.ksn), 'pin'))).toBe(v.pin);
    expect(up(tdesDukptKey(hex(BDK), hex(v.ksn), 'mac-request'))).toBe(v.mac);
  });

  it('refuses a BDK or KSN of the wrong size with a typed error', () => {
    expect(() => deriveTdesIpek(hex('0123'), hex(INITIAL_KSN))).toThrow(CryptoInputError);
    expect(() => tdesTransactionKey(hex(BDK), hex('FFFF98'))).toThrow(CryptoInputError);
  });
});

describe('TDES DUKPT device side (future key registers)', () => {
  it('loaded with the initial key, produces the annex initial sequence in order', () => {
    const device = TdesDukptDevice.load(hex(IPEK), hex(INITIAL_KSN));
    expect(device.liveRegisters).toBe(21);
    for (const v of INITIAL_SEQUENCE) {
      const tx = device.nextTransaction('pin');
      expect(up(tx.ksn)).toBe(v.ksn);
      expect(up(tx.transactionKey)).toBe(v.transactionKey);
      expect(up(desEncrypt(tx.key, hex(CLEAR_PIN_BLOCK)))).toBe(v.encryptedPinBlock);
      expect(device.liveRegisters).toBeLessThanOrEqual(21);
    }
  });

  it('skips the counters with more than 10 one-bits (the annex rollover sequence)', () => {
    const device = TdesDukptDevice.resume(hex(IPEK), hex(INITIAL_KSN), 0x0ff800);
    for (const v of ROLLOVER_SEQUENCE) {
      const tx = device.nextTransaction('pin');
      expect(up(tx.ksn)).toBe(v.ksn);
      expect(up(desEncrypt(tx.key, hex(CLEAR_PIN_BLOCK)))).toBe(v.encryptedPinBlock);
    }
  });

  it('walked incrementally holds the same registers as rebuilt at that counter', () => {
    const walked = TdesDukptDevice.load(hex(IPEK), hex(INITIAL_KSN));
    for (let i = 0; i < 300; i++) walked.nextTransaction('pin');
    const rebuilt = TdesDukptDevice.resume(hex(IPEK), hex(INITIAL_KSN), walked.nextCounter);
    expect(rebuilt.liveRegisters).toBe(walked.liveRegisters);
    for (let i = 0; i < 40; i++)
      expect(up(walked.nextTransaction('pin').key)).toBe(up(rebuilt.nextTransaction('pin').key));
  });

  it('steps the counter past values with too many one-bits', () => {
    expect(nextTdesCounter(0x3fe)).toBe(0x3ff);
    expect(nextTdesCounter(0x3ff)).toBe(0x400);
    expect(nextTdesCounter(0x0ffc00)).toBe(0x100000);
  });

  it('ends its life after the last counter with a typed error, and stays ended', () => {
    const device = TdesDukptDevice.resume(hex(IPEK), hex(INITIAL_KSN), 0x1ff800);
    const last = device.nextTransaction('pin');
    expect(up(last.key)).toBe(up(tdesDukptKey(hex(BDK), last.ksn, 'pin')));
    expect(up(last.ksn)).toBe('FFFF9876543210FFF800');
    expect(device.exhausted).toBe(true);
    expect(() => device.nextTransaction('pin')).toThrow(DukptExhaustedError);
    expect(() => device.nextTransaction('pin')).toThrow(DukptExhaustedError);
  });

  it('refuses an initial KSN with a counter, and a counter that is never used', () => {
    expect(() => TdesDukptDevice.load(hex(IPEK), hex('FFFF9876543210E00001'))).toThrow(CryptoInputError);
    expect(() => TdesDukptDevice.resume(hex(IPEK), hex(INITIAL_KSN), 0x7ff)).toThrow(CryptoInputError);
  });
});
