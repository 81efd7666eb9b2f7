/** Printing from the journal: a receipt again, and the slip of an anomaly for the cashier to hand to support. */
import { isDeviceFault } from '../../hal/fault.js';
import { anomalyByCode, anomalyForDeviceFault, renderAnomalySlip } from '../anomaly/index.js';
import { buildReceipt } from '../receipt/receipt.js';
import type { AnomalyRow, TransactionRow } from '../journal/index.js';
import { TerminalError, type TerminalDeps } from './types.js';

type PrintDeps = Pick<TerminalDeps, 'journal' | 'printer' | 'anomalies' | 'merchant' | 'clock'>;

/** Print the customer copy again: of the given STAN, or of the last transaction with an outcome. */
export async function reprintReceipt(deps: PrintDeps, stan?: number): Promise<TransactionRow> {
  const { journal } = deps;
  const row = stan !== undefined ? journal.transactions.findByStan(stan) : journal.transactions.lastReceiptCandidate();
  if (!row || row.outcome === null)
    throw new TerminalError(
      'not-found',
      stan !== undefined ? `no transaction with STAN ${stan}` : 'no transaction to reprint',
    );
  const doc = buildReceipt(
    {
      txnRef: row.txnRef,
      kind: row.kind,
      amount: row.amount,
      currency: row.currency,
      ...(row.maskedPan ? { cardSummary: { maskedPan: row.maskedPan, entryMode: row.entryMode ?? 'unknown' } } : {}),
      ...(row.stan !== null && row.responseCode
        ? {
            authorization: {
              stan: row.stan,
              responseCode: row.responseCode,
              responseText: '',
              approved: row.outcome === 'approved' || row.outcome === 'offline-approved',
              ...(row.approvalCode ? { approvalCode: row.approvalCode } : {}),
              ...(row.rrn ? { rrn: row.rrn } : {}),
            },
          }
        : {}),
    },
    'customer',
    deps.merchant,
    new Date(deps.clock.now()),
    true,
    row.batchNumber,
  );
  try {
    await deps.printer.print(doc);
  } catch (err) {
    const name = isDeviceFault(err) ? anomalyForDeviceFault(err).name : 'system-fault';
    deps.anomalies.raise(name, { txnRef: row.txnRef, reason: (err as Error).message });
    throw new TerminalError('printer-fault', `reprint failed: ${(err as Error).message}`);
  }
  return journal.transactions.recordState(row.txnRef, 'reprinted', { receiptStatus: 'printed' });
}

/** Print the slip of the latest anomaly (with that code, when given). */
export async function printAnomalySlip(deps: PrintDeps, code?: string): Promise<AnomalyRow> {
  const row = deps.journal.anomalies.list({ ...(code ? { code } : {}), limit: 1 })[0];
  const definition = row ? anomalyByCode(row.code) : undefined;
  if (!row || !definition)
    throw new TerminalError('not-found', code ? `no anomaly ${code} in the journal` : 'no anomaly in the journal');
  try {
    await deps.printer.print(renderAnomalySlip(definition, { ...row, terminalId: deps.merchant.terminalId }));
  } catch (err) {
    throw new TerminalError('printer-fault', `slip not printed: ${(err as Error).message}`);
  }
  return row;
}
