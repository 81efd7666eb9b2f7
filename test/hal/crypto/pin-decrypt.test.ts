import { describe, expect, it } from 'vitest';
import {
  AesDukptDevice,
  CryptoInputError,
  decryptPinBlock,
  deriveAesInitialKey,
  deriveTdesIpek,
  encipherPinBlockFormat0,
  encipherPinBlockFormat4,
  PinBlockError,
  TdesDukptDevice,
} from '../../../hal/crypto/index.js';

const hex = (s: string) => Buffer.from(s, 'hex');
const TDES_BDK = hex('0123456789ABCDEFFEDCBA9876543210');
const AES_BDK = hex('FEDCBA9876543210F1F1F1F1F1F1F1F1');

describe('decryptPinBlock (the host side of fields 52/53)', () => {
  it('reads the X9.24-1 A.4 encrypted PIN block of counter 1 (format 0, TDES DUKPT)', () => {
    const pin = decryptPinBlock({
      bdk: TDES_BDK,
      ksn: hex('FFFF9876543210E00001'),
      pinBlock: hex('1B9C1845EB993A7A'),
      pan: '4012345678909',
      format: 0,
    });
    expect(pin).toBe('1234');
  });

  it('round trips a device-side format 0 block under a TDES DUKPT pad', () => {
    const ksn = hex('FFFF9876543210E00000');
    const device = TdesDukptDevice.load(deriveTdesIpek(TDES_BDK, ksn), ksn);
    for (const pin of ['0000', '987654', '123456789012']) {
      const tx = device.nextTransaction('pin');
      const pinBlock = encipherPinBlockFormat0(tx.key, pin, '4761739001010010');
      expect(decryptPinBlock({ bdk: TDES_BDK, ksn: tx.ksn, pinBlock, pan: '4761739001010010', format: 0 })).toBe(pin);
    }
  });

  it('round trips a device-side format 4 block under an AES DUKPT pad', () => {
    const ikid = hex('1234567890123456');
    const device = AesDukptDevice.load(deriveAesInitialKey(AES_BDK, ikid), ikid);
    const tx = device.nextTransaction('pin');
    const pinBlock = encipherPinBlockFormat4(tx.key, '4321', '4111111111111111');
    expect(decryptPinBlock({ bdk: AES_BDK, ksn: tx.ksn, pinBlock, pan: '4111111111111111', format: 4 })).toBe('4321');
  });

  it('fails with typed errors on the wrong BDK, the wrong KSN size, or another PAN', () => {
    const base = { ksn: hex('FFFF9876543210E00001'), pinBlock: hex('1B9C1845EB993A7A'), format: 0 as const };
    expect(() => decryptPinBlock({ ...base, bdk: AES_BDK, pan: '4012345678909' })).toThrow(PinBlockError);
    expect(() => decryptPinBlock({ ...base, bdk: TDES_BDK, pan: '5432101234567890' })).toThrow(PinBlockError);
    expect(() => decryptPinBlock({ ...base, bdk: TDES_BDK, pan: '4012345678909', format: 4 })).toThrow(
      CryptoInputError,
    );
  });
});
