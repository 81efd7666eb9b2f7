/** The EMV data rules: what the reader's kernel, the transaction machine and the host simulator share. */
export {
  ABSENT_IAC,
  type ActionCodes,
  defaultActionAnalysis,
  setTvrBit,
  terminalActionAnalysis,
} from './action-analysis.js';
export {
  acSessionKey,
  applicationCryptogram,
  type ArqcCheck,
  arcBytes,
  arpcMethod1,
  arpcValid,
  CDOL_TAGS,
  type CdolData,
  cdolBytes,
  CID,
  type CryptogramType,
  cryptogramTypeOf,
  deriveCommonSessionKey,
  deriveIccMasterKey,
  issuerAuthenticationDataFor,
  verifyArqc,
} from './cryptogram.js';
export { CVM, CVM_OUTCOMES, type CvmOutcome, cvmList, selectCvm } from './cvm.js';
export {
  buildField55,
  type EmvData,
  Field55Error,
  FIELD55_OPTIONAL,
  FIELD55_REQUIRED,
  parseField55,
} from './field55.js';
export {
  ISSUER_SCRIPT_TEST_PAN,
  type IssuerData,
  issuerDataFrom,
  issuerResponseField55,
  testIssuerScript,
} from './issuer-response.js';
export { EMV_TAGS, isSensitiveTag, type TagInfo, tagInfo } from './tags.js';
export { TEST_ISSUER_MASTER_KEY } from './test-issuer-key.js';
export {
  decodeTlv,
  encodeTlv,
  findTlv,
  primitivesByTag,
  tlv,
  TlvError,
  type TlvErrorCode,
  type TlvNode,
} from './tlv.js';
