import type { TransactionOutput } from '../types.js';
import type { TransactionContext } from './context.js';

/** The result as the register gets it; the same whether told at the outcome or when the transaction ends. */
export function outputOf(context: TransactionContext): TransactionOutput {
  const auth = context.authorization;
  const primary = context.anomalies[0];
  return {
    txnRef: context.txnRef,
    kind: context.kind,
    outcome: context.outcome ?? 'failed',
    amount: context.amount,
    currency: context.currency,
    ...(context.stan !== undefined ? { stan: context.stan } : {}),
    ...(context.card
      ? { maskedPan: context.card.summary.maskedPan, entryMode: context.card.summary.entryMode }
      : context.original?.maskedPan
        ? { maskedPan: context.original.maskedPan }
        : {}),
    ...(auth ? { responseCode: auth.responseCode, responseText: auth.responseText } : {}),
    ...(auth?.approvalCode ? { approvalCode: auth.approvalCode } : {}),
    ...(auth?.rrn ? { rrn: auth.rrn } : {}),
    ...(context.partial ? context.partial : {}),
    receipt: context.receipt,
    ...(primary ? { anomaly: primary } : {}),
    anomalies: context.anomalies,
    ...(context.cardKey ? { cardKey: context.cardKey } : {}),
    ...(context.lockRequested ? { lockRequested: context.lockRequested } : {}),
    ...(context.tip ? { tip: context.tip } : {}),
    ...(context.kind === 'preauth' && context.outcome === 'approved' ? { preauthId: context.txnRef } : {}),
  };
}
