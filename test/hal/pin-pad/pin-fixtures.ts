/** The keys, KSNs and PIN request both PIN pad suites use: the X9.24-1 (TDES) and X9.24-3 (AES) test vectors' BDKs. */
import type { PinRequest } from '../../../hal/pin-pad/contract.js';

export const hex = (s: string) => Buffer.from(s, 'hex');
export const TDES_BDK = hex('0123456789ABCDEFFEDCBA9876543210');
export const TDES_KSN = hex('FFFF9876543210E00000');
export const AES_BDK = hex('FEDCBA9876543210F1F1F1F1F1F1F1F1');
export const AES_KSN = hex('123456789012345600000000');
export const PAN = '4012345678909';

export const request = (over: Partial<PinRequest> = {}): PinRequest => ({
  pan: PAN,
  format: 0,
  minLength: 4,
  maxLength: 12,
  timeoutMs: 30_000,
  ...over,
});
