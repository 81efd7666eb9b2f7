/** Payment-industry cryptography: the primitives the PIN pad, the card model and the host's key handling share. */
export { CryptoInputError, desDecrypt, desEncrypt, xor } from './des.js';
export { type MacPadding, padForMac, retailMac } from './retail-mac.js';
export { tdesCheckValue } from './check-value.js';
export {
  counterOf as tdesCounterOf,
  DukptExhaustedError,
  deriveTdesIpek,
  nextTdesCounter,
  nonReversibleKey,
  TDES_KSN_BYTES,
  type TdesKeyUsage,
  tdesDukptKey,
  tdesTransactionKey,
  tdesTransactionKeyFromIpek,
  tdesWorkingKey,
} from './dukpt-tdes.js';
export { TdesDukptDevice, type TdesDukptTransaction } from './dukpt-tdes-device.js';
export { aesDecrypt, aesEncrypt } from './aes.js';
export {
  AES_KSN_BYTES,
  type AesDukptKeyType,
  type AesKeyUsage,
  aesCounterOf,
  aesDukptKey,
  aesKsn,
  aesTransactionKeyFromInitialKey,
  aesWorkingKey,
  deriveAesInitialKey,
} from './dukpt-aes.js';
export { AesDukptDevice } from './dukpt-aes-device.js';
export {
  decipherPinBlockFormat0,
  decipherPinBlockFormat4,
  decodePinBlockFormat0,
  decodePinFieldFormat4,
  encipherPinBlockFormat0,
  encipherPinBlockFormat4,
  encodePinBlockFormat0,
  PIN_MAX_LENGTH,
  PIN_MIN_LENGTH,
  type PinBlockErrorCode,
  PinBlockError,
  type PinBlockFormat,
  panFieldFormat0,
  panFieldFormat4,
  pinFieldFormat4,
} from './pin-block.js';
export { decryptPinBlock, type EncryptedPinBlock } from './pin-decrypt.js';
