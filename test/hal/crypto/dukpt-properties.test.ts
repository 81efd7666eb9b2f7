/**
 * Properties tying the two sides together: whatever counter a pad is at, the key it uses is the key the host
 * derives from the BDK and the KSN it sent; and every PIN block decodes to the PIN it was made from.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AesDukptDevice,
  aesDukptKey,
  decryptPinBlock,
  deriveAesInitialKey,
  deriveTdesIpek,
  encipherPinBlockFormat0,
  encipherPinBlockFormat4,
  TdesDukptDevice,
  tdesDukptKey,
} from '../../../hal/crypto/index.js';

const hex = (s: string) => Buffer.from(s, 'hex');
const TDES_BDK = hex('0123456789ABCDEFFEDCBA9876543210');
const TDES_KSN = hex('FFFF9876543210E00000');
const IPEK = deriveTdesIpek(TDES_BDK, TDES_KSN);
const AES_BDK = hex('FEDCBA9876543210F1F1F1F1F1F1F1F1');
const IKID = hex('1234567890123456');
const IK = deriveAesInitialKey(AES_BDK, IKID);

const popcount = (n: number) => n.toString(2).replace(/0/g, '').length;
const tdesCounter = fc.integer({ min: 1, max: 0x1fffff }).filter((c) => popcount(c) <= 10);
const aesCounter = fc.integer({ min: 1, max: 0xffffffff }).filter((c) => popcount(c) <= 16);
const pin = fc.stringMatching(/^\d{4,12}$/);
const pan = fc.stringMatching(/^\d{12,19}$/);

describe('DUKPT device and host agree', () => {
  it('TDES: at any usable counter, the next keys are the host keys of the KSNs sent', () => {
    fc.assert(
      fc.property(tdesCounter, (counter) => {
        const device = TdesDukptDevice.resume(IPEK, TDES_KSN, counter);
        for (let i = 0; i < 3 && !device.exhausted; i++) {
          const tx = device.nextTransaction('mac-request');
          expect(tx.key.equals(tdesDukptKey(TDES_BDK, tx.ksn, 'mac-request'))).toBe(true);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('TDES: the last counters to the end of life, step by step', () => {
    const device = TdesDukptDevice.resume(IPEK, TDES_KSN, 0x1ff000);
    const counters: string[] = [];
    while (!device.exhausted) {
      const tx = device.nextTransaction('pin');
      expect(tx.key.equals(tdesDukptKey(TDES_BDK, tx.ksn, 'pin'))).toBe(true);
      counters.push(tx.ksn.subarray(7).toString('hex').toUpperCase());
    }
    expect(counters[0]).toBe('FFF000');
    expect(counters.at(-1)).toBe('FFF800');
    expect(counters).toHaveLength(13);
  });

  it('AES: at any usable counter, the next keys are the host keys of the KSNs sent', () => {
    fc.assert(
      fc.property(aesCounter, (counter) => {
        const device = AesDukptDevice.resume(IK, IKID, counter);
        for (let i = 0; i < 3 && !device.exhausted; i++) {
          const tx = device.nextTransaction('pin');
          expect(tx.key.equals(aesDukptKey(AES_BDK, tx.ksn, 'pin'))).toBe(true);
        }
      }),
      { numRuns: 25 },
    );
  });
});

describe('PIN blocks round trip', () => {
  it('format 0 and format 4 give back the PIN for any valid PIN and PAN', () => {
    const tdes = TdesDukptDevice.load(IPEK, TDES_KSN);
    const aes = AesDukptDevice.load(IK, IKID);
    fc.assert(
      fc.property(pin, pan, (p, account) => {
        const t = tdes.nextTransaction('pin');
        const block0 = encipherPinBlockFormat0(t.key, p, account);
        expect(decryptPinBlock({ bdk: TDES_BDK, ksn: t.ksn, pinBlock: block0, pan: account, format: 0 })).toBe(p);
        const a = aes.nextTransaction('pin');
        const block4 = encipherPinBlockFormat4(a.key, p, account);
        expect(decryptPinBlock({ bdk: AES_BDK, ksn: a.ksn, pinBlock: block4, pan: account, format: 4 })).toBe(p);
      }),
      { numRuns: 60 },
    );
  });
});
