export type { FieldValue, IsoMessage } from './types.js';
export { ISO8583_ERROR_CODES, Iso8583Error, type Iso8583ErrorCode } from './errors.js';
export { FIELDS, fieldSpec, isDataField, type FieldSpec, type FieldType, type FieldLength } from './fields.js';
export { pack, unpack } from './codec.js';
export { MAC_LENGTH, macFieldOf, macInput, macOf, withMac, withoutMac } from './mac-fields.js';
export {
  RESPONSE_CLASSES,
  RESPONSE_CODES,
  describeResponseCode,
  isApprovedClass,
  isKnownResponseCode,
  responseClass,
  type ResponseClass,
  type ResponseCodeInfo,
} from './response-codes.js';
export {
  MTI,
  PROCESSING_CODE,
  buildFinancialRequest,
  buildReversal,
  buildAdvice,
  buildEcho,
  responseMtiFor,
  buildResponse,
  parseResponse,
  correlationKey,
  formatTransmissionDateTime,
  formatStan,
  originalDataElements,
  tipAmountBlock,
  REVERSAL_REASON,
  type ReversalReasonCode,
  type OriginalReference,
  type FinancialRequest,
  type HostResponse,
} from './messages.js';
export {
  NETWORK_CODE,
  KEY_BLOCK_FIELD,
  buildSignOn,
  isSignOn,
  encodeKeyBlock,
  parseKeyBlock,
  type EncryptedKey,
} from './sign-on.js';
export {
  SETTLEMENT_MTI,
  SETTLEMENT_PROCESSING_CODE,
  OUT_OF_BALANCE,
  emptyReconciliationTotals,
  netSettlement,
  sameTotals,
  formatNetSettlement,
  parseNetSettlement,
  totalsFields,
  readTotals,
  buildSettlementRequest,
  formatBatchNumber,
  readBatchNumber,
  buildBatchUpload,
  type ReconciliationTotals,
  type SettlementRequest,
  type BatchUploadRecord,
} from './settlement.js';
export { buildAuthorizationRequest, tipOf } from './authorization.js';
