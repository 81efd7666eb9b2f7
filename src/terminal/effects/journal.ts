/** What the journal keeps of a transaction while it runs. */
import { anomalyByName, type AnomalyName } from '../../anomaly/index.js';
import type { TransactionPatch } from '../../journal/index.js';
import type { TransactionContext } from '../../transaction/machine.js';

/** The journal keeps the stable on-screen code (E101…), as the anomalies table does. */
export function anomalyCode(name: AnomalyName): string {
  return anomalyByName(name).code;
}

/** The journal summary of a transaction as the machine knows it at this instant. */
export function patchFrom(context: TransactionContext): TransactionPatch {
  const auth = context.authorization;
  const anomaly = context.anomalies[0];
  return {
    ...(context.stan !== undefined ? { stan: context.stan } : {}),
    ...(context.card ? { maskedPan: context.card.summary.maskedPan, entryMode: context.card.summary.entryMode } : {}),
    ...(auth ? { responseCode: auth.responseCode } : {}),
    ...(auth?.approvalCode ? { approvalCode: auth.approvalCode } : {}),
    ...(auth?.rrn ? { rrn: auth.rrn } : {}),
    // A partial approval that was accepted: the journal shows the amount that moved.
    ...(context.partial && context.amount === context.partial.approvedAmount ? { amount: context.amount } : {}),
    ...(context.outcome ? { outcome: context.outcome } : {}),
    ...(anomaly ? { anomalyCode: anomalyCode(anomaly.name) } : {}),
    receiptStatus: context.receipt,
  };
}
