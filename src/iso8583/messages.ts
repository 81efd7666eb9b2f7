/**
 * Typed builders and parsers for the messages a terminal sends and the answers a host gives.
 * Builders produce IsoMessage values; field syntax is checked when the message is packed.
 */
import { Iso8583Error } from './errors.js';
import type { FieldValue, IsoMessage } from './types.js';

export const MTI = {
  authRequest: '0100',
  authResponse: '0110',
  financialRequest: '0200',
  financialResponse: '0210',
  advice: '0220',
  adviceRepeat: '0221',
  adviceResponse: '0230',
  reversal: '0400',
  reversalRepeat: '0401',
  reversalResponse: '0410',
  networkRequest: '0800',
  networkResponse: '0810',
} as const;

export const PROCESSING_CODE = { purchase: '000000', void: '020000', refund: '200000' } as const;

/** Field 70 code for an echo test. */
const NETWORK_ECHO = '301';
/** Field 25: normal presentment. */
const POS_CONDITION_NORMAL = '00';
/** Field 90 carries each institution id right-justified in 11 digits; an id not configured is all zeros. */
function institutionId90(id: string | undefined): string {
  return (id ?? '').padStart(11, '0');
}

/**
 * Field 39 of a 0400 says why the terminal reverses (ISO 8583:1987 practice; the codec's field 39 is an 2):
 * 68 no answer in time, 17 the customer or the register cancelled, 22 a suspected malfunction (a broken link, an
 * answer that cannot be trusted, a crash before the answer was recorded).
 */
export const REVERSAL_REASON = { timeout: '68', cancelled: '17', malfunction: '22' } as const;
export type ReversalReasonCode = (typeof REVERSAL_REASON)[keyof typeof REVERSAL_REASON];

/** What a void (or any message that refers back) says about its original: field 90 and fields 37/38. */
export interface OriginalReference {
  mti: string;
  stan: number;
  /** Field 7 of the original; unknown for sales journaled before it was kept, and then field 90 is left out. */
  transmittedAt?: Date;
  /** Field 37 of the original's answer. */
  rrn?: string;
  /** Field 38 of the original's answer. */
  approvalCode?: string;
}

export interface FinancialRequest {
  processingCode: string;
  /** Integer minor units. */
  amount: number;
  /** ISO 4217 numeric, 3 digits. */
  currency: string;
  stan: number;
  transmittedAt: Date;
  terminalId: string;
  merchantId: string;
  pan?: string;
  /** YYMM. */
  expiry?: string;
  /** Field 22, 3 digits. */
  entryMode: string;
  track2?: string;
  iccData?: Uint8Array;
  /** Field 52: the PIN block enciphered by the PIN pad (ISO 9564 format 0, 8 bytes); field 53: its DUKPT KSN. */
  pinBlock?: Uint8Array;
  ksn?: Uint8Array;
  /** For a void: the STAN of the transaction being voided, also sent as 6 digits in private field 62. */
  originalStan?: number;
  /** For a void: the transaction being voided (fields 37, 38 and 90). */
  original?: OriginalReference;
  /** Fields 32/33 (and their place in field 90): absent when not configured. */
  acquiringInstitutionId?: string;
  forwardingInstitutionId?: string;
  /** The part of the amount that is a tip: field 54 (see authorization.ts). */
  tipAmount?: number;
}

const RESPONSE_MTI: Readonly<Record<string, string>> = {
  [MTI.authRequest]: MTI.authResponse,
  [MTI.financialRequest]: MTI.financialResponse,
  [MTI.advice]: MTI.adviceResponse,
  [MTI.adviceRepeat]: MTI.adviceResponse,
  [MTI.reversal]: MTI.reversalResponse,
  [MTI.reversalRepeat]: MTI.reversalResponse,
  [MTI.networkRequest]: MTI.networkResponse,
  // Reconciliation and batch upload (settlement.ts).
  '0500': '0510',
  '0320': '0330',
  '0321': '0330',
};
const RESPONSE_MTIS: ReadonlySet<string> = new Set(Object.values(RESPONSE_MTI));

export function responseMtiFor(requestMti: string): string | undefined {
  return Object.hasOwn(RESPONSE_MTI, requestMti) ? RESPONSE_MTI[requestMti] : undefined;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

function checkDate(d: Date): void {
  if (!(d instanceof Date) || Number.isNaN(d.getTime())) throw new RangeError('invalid Date');
}

/**
 * Field 54, one additional amount: account type 00, amount type 44 (gratuity), the currency, D and 12 digits; the
 * tip is part of field 4, and this block says how much of it.
 */
export function tipAmountBlock(tip: number, currency: string): string {
  return `0044${currency}D${formatAmount(tip)}`;
}

/** Field 7: MMDDhhmmss in UTC, so the host sees one clock whatever the terminal's time zone. */
export function formatTransmissionDateTime(d: Date): string {
  checkDate(d);
  return (
    pad2(d.getUTCMonth() + 1) +
    pad2(d.getUTCDate()) +
    pad2(d.getUTCHours()) +
    pad2(d.getUTCMinutes()) +
    pad2(d.getUTCSeconds())
  );
}

export function formatStan(n: number): string {
  if (!Number.isInteger(n) || n < 1 || n > 999_999) throw new RangeError(`STAN must be an integer 1..999999, got ${n}`);
  return String(n).padStart(6, '0');
}

function formatAmount(amount: number): string {
  if (!Number.isSafeInteger(amount) || amount < 0 || amount > 999_999_999_999) {
    throw new RangeError(`amount must be an integer 0..999999999999 minor units, got ${amount}`);
  }
  return String(amount).padStart(12, '0');
}

// Fields 12/13 are the cardholder-facing local time, so they follow the terminal's time zone.
function localTime(d: Date): string {
  return pad2(d.getHours()) + pad2(d.getMinutes()) + pad2(d.getSeconds());
}
function localDate(d: Date): string {
  return pad2(d.getMonth() + 1) + pad2(d.getDate());
}

/** Fields common to a 0200, 0220 and 0400 for the same transaction. */
function transactionFields(r: FinancialRequest): Partial<Record<number, FieldValue>> {
  checkDate(r.transmittedAt);
  const f: Partial<Record<number, FieldValue>> = {};
  if (r.pan !== undefined) f[2] = r.pan;
  f[3] = r.processingCode;
  f[4] = formatAmount(r.amount);
  f[7] = formatTransmissionDateTime(r.transmittedAt);
  f[11] = formatStan(r.stan);
  f[12] = localTime(r.transmittedAt);
  f[13] = localDate(r.transmittedAt);
  if (r.expiry !== undefined) f[14] = r.expiry;
  f[22] = r.entryMode;
  f[25] = POS_CONDITION_NORMAL;
  f[41] = r.terminalId;
  f[42] = r.merchantId;
  f[49] = r.currency;
  if (r.acquiringInstitutionId !== undefined) f[32] = r.acquiringInstitutionId;
  if (r.forwardingInstitutionId !== undefined) f[33] = r.forwardingInstitutionId;
  if (r.originalStan !== undefined) f[62] = formatStan(r.originalStan);
  if (r.tipAmount !== undefined && r.tipAmount > 0) f[54] = tipAmountBlock(r.tipAmount, r.currency);
  if (r.original !== undefined) {
    if (r.original.rrn !== undefined) f[37] = r.original.rrn;
    if (r.original.approvalCode !== undefined) f[38] = r.original.approvalCode;
    const { transmittedAt } = r.original;
    if (transmittedAt !== undefined)
      f[90] = originalDataElements({ mti: r.original.mti, stan: r.original.stan, transmittedAt }, r);
  }
  return f;
}

/** Field 90: original MTI, STAN, transmission date-time (field 7), acquiring and forwarding institution ids. */
export function originalDataElements(
  original: { mti: string; stan: number; transmittedAt: Date },
  ids: { acquiringInstitutionId?: string; forwardingInstitutionId?: string },
): string {
  return (
    original.mti +
    formatStan(original.stan) +
    formatTransmissionDateTime(original.transmittedAt) +
    institutionId90(ids.acquiringInstitutionId) +
    institutionId90(ids.forwardingInstitutionId)
  );
}

export function buildFinancialRequest(r: FinancialRequest): IsoMessage {
  const fields = transactionFields(r);
  if (r.track2 !== undefined) fields[35] = r.track2;
  if (r.pinBlock !== undefined) fields[52] = r.pinBlock;
  if (r.ksn !== undefined) fields[53] = r.ksn;
  if (r.iccData !== undefined) fields[55] = r.iccData;
  return { mti: MTI.financialRequest, fields };
}

/**
 * Reverses a 0200: same STAN, PAN, expiry and field 22 as the original; field 7 is the time of this transmission,
 * fields 12/13 stay those of the original; field 39 the reason; field 90 names the original. Card secrets (track 2,
 * PIN) are never repeated; a chip sale's field 55 is (the issuer matches the reversal to the card's cryptogram).
 */
export function buildReversal(
  original: FinancialRequest,
  opts: { repeat: boolean; transmittedAt: Date; reason?: ReversalReasonCode; originalMti?: string },
): IsoMessage {
  // A reversal refers to its own original by field 90; what that original referred to is not repeated.
  const { original: _voided, originalStan: _voidedStan, ...request } = original;
  const fields = transactionFields(request);
  fields[7] = formatTransmissionDateTime(opts.transmittedAt);
  fields[39] = opts.reason ?? REVERSAL_REASON.malfunction;
  if (original.iccData !== undefined) fields[55] = original.iccData;
  // The original is a 0200, or the 0100 of a pre-authorization (or its increment) whose hold is released.
  fields[90] = originalDataElements(
    { mti: opts.originalMti ?? MTI.financialRequest, stan: original.stan, transmittedAt: original.transmittedAt },
    original,
  );
  return { mti: opts.repeat ? MTI.reversalRepeat : MTI.reversal, fields };
}

/**
 * Advice of an offline approval; track 2 is not stored for later sending, so it is never included. Field 7 is the
 * time of this transmission (`transmittedAt`, default the sale's time); fields 12/13 stay those of the sale.
 */
export function buildAdvice(
  r: FinancialRequest & { approvalCode: string },
  opts: { repeat: boolean; transmittedAt?: Date },
): IsoMessage {
  const fields = transactionFields(r);
  if (opts.transmittedAt !== undefined) fields[7] = formatTransmissionDateTime(opts.transmittedAt);
  fields[38] = r.approvalCode;
  if (r.iccData !== undefined) fields[55] = r.iccData;
  return { mti: opts.repeat ? MTI.adviceRepeat : MTI.advice, fields };
}

export function buildEcho(e: { stan: number; terminalId: string; transmittedAt: Date }): IsoMessage {
  return {
    mti: MTI.networkRequest,
    fields: {
      7: formatTransmissionDateTime(e.transmittedAt),
      11: formatStan(e.stan),
      41: e.terminalId,
      70: NETWORK_ECHO,
    },
  };
}

/** Fields a host answer repeats from the request (70: the network management code of an 0810); card data is deliberately absent. */
const ECHOED_FIELDS = [3, 4, 7, 11, 12, 13, 32, 33, 41, 42, 49, 70, 90] as const;

/** Builds a host answer to `request` (used by the host simulator and tests). */
export function buildResponse(
  request: IsoMessage,
  r: { responseCode: string; approvalCode?: string; rrn?: string; transmittedAt?: Date },
): IsoMessage {
  const mti = responseMtiFor(request.mti);
  if (mti === undefined) {
    throw new Iso8583Error(
      'bad-mti',
      `MTI ${JSON.stringify(request.mti)} is not a request with a defined response`,
      -1,
    );
  }
  const fields: Partial<Record<number, FieldValue>> = {};
  for (const n of ECHOED_FIELDS) {
    const v = request.fields[n];
    if (v !== undefined) fields[n] = v;
  }
  if (r.transmittedAt !== undefined) fields[7] = formatTransmissionDateTime(r.transmittedAt);
  if (r.rrn !== undefined) fields[37] = r.rrn;
  if (r.approvalCode !== undefined) fields[38] = r.approvalCode;
  fields[39] = r.responseCode;
  return { mti, fields };
}

export interface HostResponse {
  mti: string;
  stan: number;
  /** Field 41 without its space padding. */
  terminalId: string;
  responseCode: string;
  approvalCode?: string;
  rrn?: string;
  amount?: number;
  currency?: string;
  processingCode?: string;
  /** Raw field 7, MMDDhhmmss. */
  transmittedAt?: string;
}

function textField(msg: IsoMessage, n: number): string | undefined {
  const v = msg.fields[n];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new Iso8583Error('bad-format', 'expected a text value', -1, n);
  return v;
}

function requiredText(msg: IsoMessage, n: number): string {
  const v = textField(msg, n);
  if (v === undefined) throw new Iso8583Error('missing-field', 'required in a response but missing', -1, n);
  return v;
}

function numericField(value: string, n: number): number {
  if (!/^[0-9]{1,15}$/.test(value))
    throw new Iso8583Error('bad-format', `expected digits, got ${JSON.stringify(value)}`, -1, n);
  return Number(value);
}

/**
 * Reads a host answer into typed form. Errors carry offset -1: they concern the decoded message,
 * not a byte position.
 */
export function parseResponse(msg: IsoMessage): HostResponse {
  if (!RESPONSE_MTIS.has(msg.mti)) {
    throw new Iso8583Error('bad-mti', `MTI ${JSON.stringify(msg.mti)} is not a response`, -1);
  }
  const stanText = requiredText(msg, 11);
  const responseCode = requiredText(msg, 39);
  const terminalId = requiredText(msg, 41).trimEnd();
  const res: HostResponse = { mti: msg.mti, stan: numericField(stanText, 11), terminalId, responseCode };
  const approvalCode = textField(msg, 38);
  if (approvalCode !== undefined) res.approvalCode = approvalCode;
  const rrn = textField(msg, 37);
  if (rrn !== undefined) res.rrn = rrn;
  const amount = textField(msg, 4);
  if (amount !== undefined) res.amount = numericField(amount, 4);
  const currency = textField(msg, 49);
  if (currency !== undefined) res.currency = currency;
  const processingCode = textField(msg, 3);
  if (processingCode !== undefined) res.processingCode = processingCode;
  const transmittedAt = textField(msg, 7);
  if (transmittedAt !== undefined) res.transmittedAt = transmittedAt;
  return res;
}

/** Matches a response to its request: `${terminal id}/${STAN as 6 digits}`. */
export function correlationKey(msg: IsoMessage): string | undefined {
  const tid = msg.fields[41];
  const stan = msg.fields[11];
  if (typeof tid !== 'string' || typeof stan !== 'string') return undefined;
  return `${tid.trim()}/${stan.padStart(6, '0')}`;
}
