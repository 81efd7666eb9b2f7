/**
 * What the host does with a PIN block it receives (fields 52 and 53): derive the PIN key from its BDK and the KSN,
 * decipher, and read the PIN. Format 0 travels under TDES DUKPT (X9.24-1), format 4 under AES DUKPT (X9.24-3,
 * AES-128 PIN key).
 */
import { aesDukptKey } from './dukpt-aes.js';
import { tdesDukptKey } from './dukpt-tdes.js';
import { decipherPinBlockFormat0, decipherPinBlockFormat4, type PinBlockFormat } from './pin-block.js';

export interface EncryptedPinBlock {
  /** The base derivation key: 16 bytes TDES for format 0; 16, 24 or 32 bytes AES for format 4. */
  bdk: Uint8Array;
  /** 10 bytes (TDES DUKPT) for format 0, 12 bytes (AES DUKPT) for format 4. */
  ksn: Uint8Array;
  pinBlock: Uint8Array;
  pan: string;
  format: PinBlockFormat;
}

/** The PIN digits. Throws PinBlockError (wrong key, PAN or block) or CryptoInputError (bad key or KSN size). */
export function decryptPinBlock(input: EncryptedPinBlock): string {
  const { bdk, ksn, pinBlock, pan, format } = input;
  if (format === 0) return decipherPinBlockFormat0(tdesDukptKey(bdk, ksn, 'pin'), pinBlock, pan);
  return decipherPinBlockFormat4(aesDukptKey(bdk, ksn, 'pin', 'aes128'), pinBlock, pan);
}
