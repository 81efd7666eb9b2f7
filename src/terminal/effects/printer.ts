/** The receipts of a transaction: merchant copy, then customer copy; then the drawer kick, when configured. */
import { fromPromise } from 'xstate';
import { buildReceipt } from '../../receipt/receipt.js';
import type { ReceiptInput } from '../../transaction/types.js';
import type { TransactionDeps } from './deps.js';

export function printerActors(
  deps: Pick<TransactionDeps, 'printer' | 'anomalies' | 'clock' | 'merchant' | 'journal' | 'kickDrawerOnSale'>,
) {
  return {
    printReceipts: fromPromise<{ warnings: string[] }, ReceiptInput>(async ({ input }) => {
      const now = new Date(deps.clock.now());
      const warnings: string[] = [];
      const batch = deps.journal.transactions.get(input.txnRef)?.batchNumber;
      for (const copy of ['merchant', 'customer'] as const) {
        const result = await deps.printer.print(buildReceipt(input, copy, deps.merchant, now, false, batch));
        warnings.push(...result.warnings);
      }
      // Both copies are out: the drawer opens for the change (ESC p on the printer's drawer connector).
      if (deps.kickDrawerOnSale && deps.printer.kickDrawer && input.kind === 'sale' && input.authorization?.approved) {
        // The receipts are out: a drawer that does not open is journaled, not a failed receipt.
        await deps.printer.kickDrawer().catch((err: unknown) => {
          deps.anomalies.raise('printer-offline', {
            txnRef: input.txnRef,
            reason: `drawer: ${(err as Error).message}`,
          });
        });
      }
      if (warnings.includes('paper-near-end')) {
        deps.anomalies.raise('printer-paper-near-end', { txnRef: input.txnRef }, { show: false });
      }
      return { warnings };
    }),
  };
}
