/** Printing from the journal: a receipt again, and the slip of an anomaly for the cashier to hand to support. */
import { isDeviceFault } from '../../hal/fault.js';
import type { Locale } from '../i18n/index.js';
import { describeResponseCode } from '../iso8583/index.js';
import type { ReceiptInput } from '../transaction/types.js';
import { anomalyByCode, anomalyForDeviceFault, renderAnomalySlip } from '../anomaly/index.js';
import { buildReceipt } from '../receipt/receipt.js';
import type { AnomalyRow, TransactionRow } from '../journal/index.js';
import { TerminalError, type TerminalDeps } from './types.js';

type PrintDeps = Pick<TerminalDeps, 'journal' | 'printer' | 'anomalies' | 'merchant' | 'clock'>;

/**
 * Print the receipt again as the original was printed: the merchant copy, then the customer copy, each marked
 * REPRINT, with the response text of the host's code (field 39's meaning from the code table; the journal keeps the
 * code). Of the given STAN, or of the last transaction with an outcome.
 */
export async function reprintReceipt(deps: PrintDeps, stan?: number): Promise<TransactionRow> {
  const { journal } = deps;
  const row = stan !== undefined ? journal.transactions.findByStan(stan) : journal.transactions.lastReceiptCandidate();
  if (!row || row.outcome === null)
    throw new TerminalError(
      'not-found',
      stan !== undefined ? `no transaction with STAN ${stan}` : 'no transaction to reprint',
    );
  const input = receiptInputFromRow(row);
  const printedAt = new Date(deps.clock.now());
  for (const copy of ['merchant', 'customer'] as const) {
    try {
      await deps.printer.print(buildReceipt(input, copy, deps.merchant, printedAt, true, row.batchNumber));
    } catch (err) {
      const name = isDeviceFault(err) ? anomalyForDeviceFault(err).name : 'system-fault';
      deps.anomalies.raise(name, { txnRef: row.txnRef, reason: `${copy} copy: ${(err as Error).message}` });
      throw new TerminalError('printer-fault', `reprint failed at the ${copy} copy: ${(err as Error).message}`);
    }
  }
  return journal.transactions.recordState(row.txnRef, 'reprinted', { receiptStatus: 'printed' });
}

/** What the receipt needs, rebuilt from the journal row (only the masked card summary survives there). */
export function receiptInputFromRow(row: TransactionRow): ReceiptInput {
  const code = row.responseCode;
  const offline = row.outcome === 'offline-approved';
  return {
    txnRef: row.txnRef,
    kind: row.kind,
    amount: row.amount,
    currency: row.currency,
    ...(row.tipAmount > 0 ? { tip: row.tipAmount } : {}),
    ...(row.maskedPan ? { cardSummary: { maskedPan: row.maskedPan, entryMode: row.entryMode ?? 'unknown' } } : {}),
    ...(code
      ? {
          authorization: {
            ...(row.stan !== null ? { stan: row.stan } : {}),
            responseCode: code,
            responseText: describeResponseCode(code)?.meaning ?? 'unknown response code',
            approved: row.outcome === 'approved' || offline,
            ...(offline ? { offline: true } : {}),
            ...(row.approvalCode ? { approvalCode: row.approvalCode } : {}),
            ...(row.rrn ? { rrn: row.rrn } : {}),
          },
        }
      : {}),
  };
}

/** The merchant's language and zone, without the absent ones (exact optional types). */
function localeOf(merchant: PrintDeps['merchant']): Locale {
  return {
    ...(merchant.language !== undefined ? { language: merchant.language } : {}),
    ...(merchant.timeZone !== undefined ? { timeZone: merchant.timeZone } : {}),
  };
}

/** Print the slip of the latest anomaly (with that code, when given). */
export async function printAnomalySlip(deps: PrintDeps, code?: string): Promise<AnomalyRow> {
  const row = deps.journal.anomalies.list({ ...(code ? { code } : {}), limit: 1 })[0];
  const definition = row ? anomalyByCode(row.code) : undefined;
  if (!row || !definition)
    throw new TerminalError('not-found', code ? `no anomaly ${code} in the journal` : 'no anomaly in the journal');
  try {
    await deps.printer.print(
      renderAnomalySlip(definition, { ...row, terminalId: deps.merchant.terminalId }, localeOf(deps.merchant)),
    );
  } catch (err) {
    throw new TerminalError('printer-fault', `slip not printed: ${(err as Error).message}`);
  }
  return row;
}
