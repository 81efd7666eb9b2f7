/**
 * The batch upload: one 0320 per transaction that counts in the batch, in journal order, each acknowledged before
 * the next leaves and its progress committed at once. After a restart the upload goes on after the last committed
 * one; the first record sent then is a repeat (0321), since the host may have answered it just before the crash,
 * and a host answers a repeat it already has from its books, so no STAN is ever counted twice.
 */
import { buildBatchUpload, PROCESSING_CODE } from '../iso8583/index.js';
import type { Journal, UploadItem } from '../journal/index.js';
import type { TransactionKind } from '../vocabulary/index.js';
import type { SettlementLink } from './link.js';

/** Field 3 of an uploaded transaction: the processing code its own request carried. */
// Holds never reach the upload (the batch leaves them out); they are named for the type's sake.
const PROCESSING_CODE_OF: Readonly<Record<TransactionKind, string>> = {
  sale: PROCESSING_CODE.purchase,
  refund: PROCESSING_CODE.refund,
  void: PROCESSING_CODE.void,
  completion: PROCESSING_CODE.purchase,
  'tip-adjust': PROCESSING_CODE.purchase,
  preauth: PROCESSING_CODE.purchase,
  'preauth-increment': PROCESSING_CODE.purchase,
  'preauth-cancel': PROCESSING_CODE.purchase,
};

export type UploadOutcome = { done: true; sent: number } | { done: false; sent: number; reason: string };

export async function uploadBatch(
  journal: Journal,
  link: SettlementLink,
  batchNumber: number,
  opts: { resumed: boolean },
): Promise<UploadOutcome> {
  let repeat = opts.resumed;
  let sent = 0;
  for (;;) {
    const batch = journal.batches.get(batchNumber);
    if (!batch) return { done: false, sent, reason: `batch ${batchNumber} is gone` };
    const items = journal.batches.uploadItems(batchNumber, batch.uploadAfterId, 200);
    if (items.length === 0) return { done: true, sent };
    for (const item of items) {
      const answer = await link.exchange((now, attempt) =>
        buildBatchUpload(record(item, link, batchNumber, now, repeat || attempt > 1)),
      );
      if (!answer.ok) return { done: false, sent, reason: answer.reason };
      if (!answer.success)
        return {
          done: false,
          sent,
          reason: `the host refused the upload of STAN ${item.stan} (${answer.responseCode})`,
        };
      journal.batches.recordUploaded(batchNumber, item.id);
      repeat = false;
      sent += 1;
    }
  }
}

function record(item: UploadItem, link: SettlementLink, batchNumber: number, now: Date, repeat: boolean) {
  return {
    stan: item.stan,
    processingCode: PROCESSING_CODE_OF[item.kind],
    amount: item.amount,
    currency: item.currency,
    terminalId: link.terminalId,
    merchantId: link.merchantId,
    batchNumber,
    transactedAt: new Date(item.createdAt),
    transmittedAt: now,
    ...(item.approvalCode !== null ? { approvalCode: item.approvalCode } : {}),
    ...(item.rrn !== null ? { rrn: item.rrn } : {}),
    ...(item.originalStan !== null ? { originalStan: item.originalStan } : {}),
    repeat,
  };
}
