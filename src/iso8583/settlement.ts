/**
 * Reconciliation (0500/0510) and batch upload (0320/0330) as ISO 8583:1987 has them. The totals are the 1987 fields:
 * 74 credits number, 75 credits reversal number, 76 debits number, 77 debits reversal number (n10 each), 86/87/88/89
 * the matching amounts (n16) and 97 the net settlement amount (x+n16: C when the acquirer owes the merchant, D when
 * the merchant owes). Field 50 is the settlement currency, field 60 (private) the terminal's batch number. Field 3
 * says a first settlement (92) or one after a batch upload (96).
 */
import { Iso8583Error } from './errors.js';
import { formatStan, formatTransmissionDateTime } from './messages.js';
import type { FieldValue, IsoMessage } from './types.js';

export const SETTLEMENT_MTI = {
  request: '0500',
  response: '0510',
  upload: '0320',
  uploadRepeat: '0321',
  uploadResponse: '0330',
} as const;

export const SETTLEMENT_PROCESSING_CODE = { settle: '920000', afterUpload: '960000' } as const;

/** Field 39 of a 0510 when the host's totals differ: reconcile error, the terminal uploads its batch. */
export const OUT_OF_BALANCE = '95';

/** The counts and amounts (minor units) of fields 74-77 and 86-89. */
export interface ReconciliationTotals {
  creditsNumber: number;
  creditsReversalNumber: number;
  debitsNumber: number;
  debitsReversalNumber: number;
  creditsAmount: number;
  creditsReversalAmount: number;
  debitsAmount: number;
  debitsReversalAmount: number;
}

const COUNT_FIELDS = [
  [74, 'creditsNumber'],
  [75, 'creditsReversalNumber'],
  [76, 'debitsNumber'],
  [77, 'debitsReversalNumber'],
] as const;
const AMOUNT_FIELDS = [
  [86, 'creditsAmount'],
  [87, 'creditsReversalAmount'],
  [88, 'debitsAmount'],
  [89, 'debitsReversalAmount'],
] as const;

export function emptyReconciliationTotals(): ReconciliationTotals {
  return {
    creditsNumber: 0,
    creditsReversalNumber: 0,
    debitsNumber: 0,
    debitsReversalNumber: 0,
    creditsAmount: 0,
    creditsReversalAmount: 0,
    debitsAmount: 0,
    debitsReversalAmount: 0,
  };
}

/** What the acquirer owes the merchant (negative: what the merchant owes): debits less credits, net of reversals. */
export function netSettlement(t: ReconciliationTotals): number {
  return t.debitsAmount - t.debitsReversalAmount - (t.creditsAmount - t.creditsReversalAmount);
}

export function sameTotals(a: ReconciliationTotals, b: ReconciliationTotals): boolean {
  return [...COUNT_FIELDS, ...AMOUNT_FIELDS].every(([, key]) => a[key] === b[key]);
}

function digits(value: number, width: number, field: number): string {
  if (!Number.isSafeInteger(value) || value < 0 || String(value).length > width)
    throw new Iso8583Error('bad-format', `field ${field} takes 0..${'9'.repeat(width)}, got ${value}`, -1, field);
  return String(value).padStart(width, '0');
}

/** Field 97: C or D, then 16 digits. */
export function formatNetSettlement(net: number): string {
  return `${net < 0 ? 'D' : 'C'}${digits(Math.abs(net), 16, 97)}`;
}

export function parseNetSettlement(text: string): number {
  const m = /^([CD])(\d{16})$/.exec(text);
  if (!m) throw new Iso8583Error('bad-format', 'field 97 is C or D and 16 digits', -1, 97);
  return m[1] === 'D' ? -Number(m[2]) : Number(m[2]);
}

/** Fields 74-77, 86-89 and 97 of these totals. */
export function totalsFields(t: ReconciliationTotals): Partial<Record<number, FieldValue>> {
  const f: Partial<Record<number, FieldValue>> = {};
  for (const [n, key] of COUNT_FIELDS) f[n] = digits(t[key], 10, n);
  for (const [n, key] of AMOUNT_FIELDS) f[n] = digits(t[key], 16, n);
  f[97] = formatNetSettlement(netSettlement(t));
  return f;
}

/**
 * The totals a message carries, or undefined when it carries none (a host may answer without them). Present but
 * malformed, or a field 97 that is not their net: Iso8583Error.
 */
export function readTotals(msg: IsoMessage): ReconciliationTotals | undefined {
  const all = [...COUNT_FIELDS, ...AMOUNT_FIELDS];
  if (all.every(([n]) => msg.fields[n] === undefined)) return undefined;
  const t = emptyReconciliationTotals();
  for (const [n, key] of all) {
    const v = msg.fields[n];
    if (typeof v !== 'string' || !/^\d+$/.test(v))
      throw new Iso8583Error('bad-format', 'a reconciliation total must be digits', -1, n);
    t[key] = Number(v);
  }
  const net = msg.fields[97];
  if (typeof net === 'string' && parseNetSettlement(net) !== netSettlement(t))
    throw new Iso8583Error('bad-format', 'field 97 is not the net of the totals it comes with', -1, 97);
  return t;
}

export interface SettlementRequest {
  stan: number;
  terminalId: string;
  merchantId: string;
  transmittedAt: Date;
  batchNumber: number;
  /** ISO 4217 numeric: the currency of these totals (field 50). */
  currency: string;
  totals: ReconciliationTotals;
  afterUpload: boolean;
}

export function buildSettlementRequest(r: SettlementRequest): IsoMessage {
  return {
    mti: SETTLEMENT_MTI.request,
    fields: {
      3: r.afterUpload ? SETTLEMENT_PROCESSING_CODE.afterUpload : SETTLEMENT_PROCESSING_CODE.settle,
      7: formatTransmissionDateTime(r.transmittedAt),
      11: formatStan(r.stan),
      41: r.terminalId,
      42: r.merchantId,
      50: r.currency,
      60: formatBatchNumber(r.batchNumber),
      ...totalsFields(r.totals),
    },
  };
}

export function formatBatchNumber(n: number): string {
  if (!Number.isInteger(n) || n < 1 || n > 999_999) throw new RangeError(`batch number must be 1..999999, got ${n}`);
  return String(n).padStart(6, '0');
}

/** Field 60 as a batch number, or undefined. */
export function readBatchNumber(msg: IsoMessage): number | undefined {
  const v = msg.fields[60];
  return typeof v === 'string' && /^\d{6}$/.test(v) ? Number(v) : undefined;
}

/** One transaction of the batch as the upload carries it: its own STAN (field 11), never card data. */
export interface BatchUploadRecord {
  stan: number;
  processingCode: string;
  amount: number;
  currency: string;
  terminalId: string;
  merchantId: string;
  batchNumber: number;
  /** When the transaction happened (fields 12/13, local time). */
  transactedAt: Date;
  transmittedAt: Date;
  approvalCode?: string;
  rrn?: string;
  /** A void: the STAN it voided (private field 62, as in the 0200). */
  originalStan?: number;
  /** After a restart the first record may have reached the host already: sent as a repeat (0321). */
  repeat: boolean;
}

const pad2 = (n: number) => String(n).padStart(2, '0');

export function buildBatchUpload(r: BatchUploadRecord): IsoMessage {
  const d = r.transactedAt;
  const fields: Partial<Record<number, FieldValue>> = {
    3: r.processingCode,
    4: digits(r.amount, 12, 4),
    7: formatTransmissionDateTime(r.transmittedAt),
    11: formatStan(r.stan),
    12: pad2(d.getHours()) + pad2(d.getMinutes()) + pad2(d.getSeconds()),
    13: pad2(d.getMonth() + 1) + pad2(d.getDate()),
    41: r.terminalId,
    42: r.merchantId,
    49: r.currency,
    60: formatBatchNumber(r.batchNumber),
  };
  if (r.rrn !== undefined) fields[37] = r.rrn;
  if (r.approvalCode !== undefined) fields[38] = r.approvalCode;
  if (r.originalStan !== undefined) fields[62] = formatStan(r.originalStan);
  return { mti: r.repeat ? SETTLEMENT_MTI.uploadRepeat : SETTLEMENT_MTI.upload, fields };
}
