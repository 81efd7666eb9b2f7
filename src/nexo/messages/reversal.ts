/** Reversal: an earlier payment, named by its POITransactionID (our txnRef), voided; the void as a ReversalResponse. */
import { decimalAmount } from '../../vocabulary/index.js';
import type { NexoTransactionRecord } from '../ports.js';
import { type Json, objectAt, optionalObjectAt, stringAt } from './fields.js';
import { poiData, transactionResult } from './payment.js';
import type { Locale } from '../../i18n/index.js';
import { paymentReceipts } from './receipt.js';
import type { NexoResult } from './response.js';

export interface ReversalParse {
  /** The POITransactionID.TransactionID of the payment to reverse. */
  originalTxnRef: string;
  saleData: Json | undefined;
}

export function parseReversal(body: Json): ReversalParse {
  const path = 'ReversalRequest';
  const original = objectAt(body, 'OriginalPOITransaction', path);
  const id = objectAt(original, 'POITransactionID', `${path}.OriginalPOITransaction`);
  const originalTxnRef = stringAt(id, 'TransactionID', `${path}.OriginalPOITransaction.POITransactionID`);
  stringAt(body, 'ReversalReason', path, 32);
  return { originalTxnRef, saleData: optionalObjectAt(body, 'SaleData', path) };
}

export interface ReversalResponseInput {
  /** The void, once there is one. */
  record?: NexoTransactionRecord;
  original?: NexoTransactionRecord;
  poiId: string;
  /** The Response when no void ran (a refusal before it). */
  refused?: NexoResult;
  anomalyMessage?: string;
  locale?: Locale;
}

export function reversalResponse({
  record,
  original,
  poiId,
  refused,
  anomalyMessage,
  locale,
}: ReversalResponseInput): Json {
  const receipts = record ? paymentReceipts(record, poiId, locale) : [];
  const approved = record?.outcome === 'approved';
  return {
    Response: refused ?? (record ? transactionResult(record, anomalyMessage) : { Result: 'Failure' }),
    ...(record ? { POIData: poiData(record) } : {}),
    ...(original
      ? {
          OriginalPOITransaction: {
            POITransactionID: { TransactionID: original.txnRef, TimeStamp: new Date(original.createdAt).toISOString() },
            ...(original.approvalCode ? { ApprovalCode: original.approvalCode } : {}),
          },
        }
      : {}),
    ...(approved && record ? { ReversedAmount: Number(decimalAmount(record.amount, record.currency)) } : {}),
    ...(receipts.length > 0 ? { PaymentReceipt: receipts } : {}),
  };
}
