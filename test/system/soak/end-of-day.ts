/**
 * The soak's end of day, as a merchant and support would do it: support resolves what the host refused for good
 * (the advices of offline sales on declining cards, `journal resolve` does the same call), then the register sends
 * `settle`. Each day's settlement is kept with the host simulator's own record of it, so the caller can compare the
 * terminal's closed batches with the host's books and both with the host's ledger.
 */
import type { ManualClock } from '../../../hal/clock.js';
import type { TerminalApp } from '../../../src/app/compose.js';
import type { EcrClient, EcrMessage } from '../../../src/ecr/client.js';
import type { ReconciliationTotals } from '../../../src/iso8583/index.js';

export interface DaySettlement {
  batchNumber: number;
  reply: EcrMessage;
  /** What the host recorded of the 0500s of this batch: its own totals beside the terminal's, and its answer. */
  host: Array<{ responseCode: string; afterUpload: boolean; hostTotals: ReconciliationTotals }>;
  /** The totals the journal kept for the batch when it closed (null: it did not close). */
  journalTotals: ReconciliationTotals | null;
  resolved: number;
}

/** Settles the open batch; the clock runs in `stepMs` steps while it waits (forwarding owed items, retries). */
export async function endOfDay(app: TerminalApp, ecr: EcrClient, clock: ManualClock, stepMs = 5_000) {
  const journal = app.journal;
  let resolved = 0;
  for (const item of journal.setAside.list()) {
    journal.setAside.resolve(item.item, item.id, 'settled with the acquirer by support');
    resolved += 1;
  }
  const batchNumber = journal.batches.current().number;
  const seen = app.hostSim!.settlements.length;
  let reply: EcrMessage | undefined;
  const call = ecr.call({ cmd: 'settle' }).then((m) => (reply = m));
  for (let pumps = 0; reply === undefined; pumps++) {
    if (pumps > 400) throw new Error('the settlement did not finish within 2,000 simulated seconds');
    await Promise.race([call, new Promise((r) => setTimeout(r, 5))]);
    if (reply === undefined) await clock.advance(stepMs, () => app.terminal.settled());
  }
  const closed = journal.batches.get(batchNumber);
  const totals = closed?.state === 'closed' ? (closed.terminalTotals as { currencies?: unknown[] } | null) : null;
  const day: DaySettlement = {
    batchNumber,
    reply,
    host: app.hostSim!.settlements.slice(seen).map((s) => ({
      responseCode: s.responseCode,
      afterUpload: s.afterUpload,
      hostTotals: s.hostTotals,
    })),
    journalTotals:
      totals?.currencies?.length === 1
        ? (totals.currencies[0] as { reconciliation: ReconciliationTotals }).reconciliation
        : null,
    resolved,
  };
  return day;
}
