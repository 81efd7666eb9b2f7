/**
 * Payment: the request as a sale or refund command (amount in minor units by the currency's exponent), and a
 * journaled transaction as a PaymentResponse (card, amounts, acquirer data, receipts).
 */
import { responseClass } from '../../iso8583/index.js';
import { currencyOf, decimalAmount, MoneyError, parseDecimalAmount } from '../../vocabulary/index.js';
import type { NexoCommand, NexoTransactionRecord } from '../ports.js';
import { conditionOfOutcome } from './error-conditions.js';
import { type Json, NexoFormatError, objectAt, optionalObjectAt, optionalStringAt, stringAt } from './fields.js';
import type { Locale } from '../../i18n/index.js';
import { paymentReceipts } from './receipt.js';
import { failure, type NexoResult, success } from './response.js';

/** The SaleData a response echoes: the register's own transaction id. */
export interface SaleTransaction {
  TransactionID: string;
  TimeStamp: string;
}

export type PaymentParse =
  | { ok: true; command: Extract<NexoCommand, { kind: 'sale' | 'refund' }>; sale: SaleTransaction }
  | { ok: false; unsupported: string };

export function readSaleTransaction(saleData: Json, path: string): SaleTransaction {
  const id = objectAt(saleData, 'SaleTransactionID', path);
  return {
    TransactionID: stringAt(id, 'TransactionID', `${path}.SaleTransactionID`),
    TimeStamp: stringAt(id, 'TimeStamp', `${path}.SaleTransactionID`, 40),
  };
}

/**
 * Supervisor rights travel in SaleData.SaleToPOIData (nexo's free text from the sale system to the POI) as
 * URL-encoded pairs: `supervisorPin=1234`. Message security authenticates the register, not the supervisor, so
 * a refund or a reversal still needs the PIN.
 */
export function supervisorPinOf(saleData: Json | undefined, path: string): string | undefined {
  const text = saleData ? optionalStringAt(saleData, 'SaleToPOIData', path, 1024) : undefined;
  if (text === undefined) return undefined;
  return new URLSearchParams(text).get('supervisorPin') ?? undefined;
}

/** A numeric ISO 4217 code from the request's alpha-3 code (or the default when none is given). */
export function currencyFrom(alpha: string | undefined, defaultCurrency: string, path: string): string {
  if (alpha === undefined) return defaultCurrency;
  const currency = /^[A-Z]{3}$/.test(alpha) ? currencyOf(alpha) : undefined;
  if (!currency || currency.alpha !== alpha) throw new NexoFormatError(path, 'expected an ISO 4217 alpha-3 currency');
  return currency.numeric;
}

/** A decimal amount (JSON number or string) to minor units; more decimals than the currency has is refused. */
export function minorUnits(value: unknown, currency: string, path: string): number {
  const text = typeof value === 'number' && Number.isFinite(value) ? String(value) : value;
  if (typeof text !== 'string' || text.length > 24) throw new NexoFormatError(path, 'expected a decimal amount');
  try {
    const minor = parseDecimalAmount(text, currency);
    if (minor <= 0) throw new NexoFormatError(path, 'expected an amount above zero');
    return minor;
  } catch (err) {
    if (err instanceof MoneyError) throw new NexoFormatError(path, err.message);
    throw err;
  }
}

export function parsePayment(body: Json, defaultCurrency: string, requestId: string): PaymentParse {
  const path = 'PaymentRequest';
  const saleData = objectAt(body, 'SaleData', path);
  const sale = readSaleTransaction(saleData, `${path}.SaleData`);
  const transaction = objectAt(body, 'PaymentTransaction', path);
  const amounts = objectAt(transaction, 'AmountsReq', `${path}.PaymentTransaction`);
  const amountsPath = `${path}.PaymentTransaction.AmountsReq`;
  const currency = currencyFrom(
    optionalStringAt(amounts, 'Currency', amountsPath, 3),
    defaultCurrency,
    `${amountsPath}.Currency`,
  );
  if (amounts['RequestedAmount'] === undefined) throw new NexoFormatError(`${amountsPath}.RequestedAmount`, 'missing');
  const amount = minorUnits(amounts['RequestedAmount'], currency, `${amountsPath}.RequestedAmount`);
  for (const extra of ['CashBackAmount', 'TipAmount'] as const)
    if (amounts[extra] !== undefined && amounts[extra] !== 0) return { ok: false, unsupported: `AmountsReq.${extra}` };
  const paymentData = optionalObjectAt(body, 'PaymentData', path);
  const type = paymentData
    ? (optionalStringAt(paymentData, 'PaymentType', `${path}.PaymentData`, 32) ?? 'Normal')
    : 'Normal';
  if (type === 'Normal') return { ok: true, command: { kind: 'sale', amount, currency, requestId }, sale };
  if (type === 'Refund') {
    const pin = supervisorPinOf(saleData, `${path}.SaleData`);
    return { ok: true, command: { kind: 'refund', amount, currency, rights: { pin }, requestId }, sale };
  }
  return { ok: false, unsupported: `PaymentType ${type}` };
}

const ENTRY_MODES: Record<string, string> = {
  chip: 'ICC',
  contactless: 'Contactless',
  swipe: 'MagStripe',
  fallback: 'MagStripe',
  keyed: 'Keyed',
  manual: 'Keyed',
};

/** The brand nexo clients know from the masked PAN's leading digits (Adyen's names). */
export function paymentBrand(maskedPan: string): string | undefined {
  if (/^4/.test(maskedPan)) return 'visa';
  if (/^(5[1-5]|2[2-7])/.test(maskedPan)) return 'mc';
  if (/^3[47]/.test(maskedPan)) return 'amex';
  if (/^35/.test(maskedPan)) return 'jcb';
  if (/^(6011|65|64[4-9])/.test(maskedPan)) return 'discover';
  if (/^3[068]/.test(maskedPan)) return 'diners';
  if (/^62/.test(maskedPan)) return 'cup';
  if (/^(50|5[6-9]|6)/.test(maskedPan)) return 'maestro';
  return undefined;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The Response of a finished (or running) transaction, the anomaly code alongside. */
export function transactionResult(record: NexoTransactionRecord, anomalyMessage?: string): NexoResult {
  const refs = { txnRef: record.txnRef, stan: record.stan ?? undefined };
  if (record.outcome === 'approved' || record.outcome === 'offline-approved') {
    const partial = record.responseCode !== null && responseClass(record.responseCode) === 'partially-approved';
    const result = success({ ...refs, outcome: record.outcome });
    return partial ? { ...result, Result: 'Partial' } : result;
  }
  if (record.outcome === null) return failure('InProgress', refs);
  return failure(conditionOfOutcome(record.outcome, record.anomalyCode), {
    ...refs,
    outcome: record.outcome,
    anomaly: record.anomalyCode ?? undefined,
    message: anomalyMessage,
    responseCode: record.responseCode ?? undefined,
  });
}

export function poiData(record: NexoTransactionRecord): Json {
  return { POITransactionID: { TransactionID: record.txnRef, TimeStamp: iso(record.createdAt) } };
}

export interface PaymentResponseInput {
  record: NexoTransactionRecord;
  sale: SaleTransaction;
  poiId: string;
  merchantId: string;
  anomalyMessage?: string;
  locale?: Locale;
}

export function paymentResponse({
  record,
  sale,
  poiId,
  merchantId,
  anomalyMessage,
  locale,
}: PaymentResponseInput): Json {
  const approved = record.outcome === 'approved' || record.outcome === 'offline-approved';
  const currency = currencyOf(record.currency);
  const brand = record.maskedPan ? paymentBrand(record.maskedPan) : undefined;
  const entry = record.entryMode ? ENTRY_MODES[record.entryMode] : undefined;
  const cardData = {
    ...(record.maskedPan ? { MaskedPan: record.maskedPan } : {}),
    ...(entry ? { EntryMode: [entry] } : {}),
    ...(brand ? { PaymentBrand: brand } : {}),
  };
  const receipts = paymentReceipts(record, poiId, locale);
  return {
    Response: transactionResult(record, anomalyMessage),
    SaleData: { SaleTransactionID: sale },
    POIData: poiData(record),
    PaymentResult: {
      PaymentType: record.kind === 'refund' ? 'Refund' : 'Normal',
      OnlineFlag: record.outcome !== 'offline-approved',
      ...(record.maskedPan ? { PaymentInstrumentData: { PaymentInstrumentType: 'Card', CardData: cardData } } : {}),
      ...(approved
        ? {
            AmountsResp: {
              AuthorizedAmount: Number(decimalAmount(record.amount, record.currency)),
              Currency: currency?.alpha ?? record.currency,
            },
          }
        : {}),
      PaymentAcquirerData: {
        AcquirerPOIID: poiId,
        MerchantID: merchantId,
        ...(record.approvalCode ? { ApprovalCode: record.approvalCode } : {}),
        ...(record.stan !== null || record.rrn
          ? {
              AcquirerTransactionID: {
                TransactionID: record.rrn ?? String(record.stan).padStart(6, '0'),
                TimeStamp: iso(record.createdAt),
              },
            }
          : {}),
      },
    },
    ...(receipts.length > 0 ? { PaymentReceipt: receipts } : {}),
  };
}
