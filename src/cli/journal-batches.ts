/**
 * The merchant's accounting of the end of day:
 *   pos-terminal journal batches [--format table|json]          every batch: state, times, totals per currency
 *   pos-terminal journal export --batch 12 --format csv|json    the transactions of one batch (json: with its totals)
 * Amounts are integer minor units, with the ISO 4217 decimal rendering beside them; times are ISO 8601 UTC.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { formatTransactions, isoTime } from '../journal/export.js';
import type { Journal } from '../journal/journal.js';
import type { BatchRow } from '../journal/stores/batches.js';
import type { TransactionRow } from '../journal/schema.js';
import { decimalAmount } from '../vocabulary/index.js';
import { choice, positiveInteger, withJournal } from './journal-command.js';
import { cellText, textTable } from './text-table.js';

interface TotalsShape {
  currencies?: Array<{ currency: string; net: number; byKind: Record<string, { count: number; amount: number }> }>;
}

function batchNumber(value: string): number {
  if (!/^\d{1,6}$/.test(value) || Number(value) < 1)
    throw new InvalidArgumentError('expected a batch number 1..999999');
  return Number(value);
}

function batchRecord(b: BatchRow): Record<string, unknown> {
  return {
    number: b.number,
    state: b.state,
    openedAt: isoTime(b.openedAt),
    closedAt: b.closedAt === null ? null : isoTime(b.closedAt),
    terminalTotals: b.terminalTotals,
    hostAnswer: b.hostAnswer,
    uploaded: b.uploaded,
    settlementRequests: b.attempts,
    reason: b.reason,
  };
}

function netText(b: BatchRow): string {
  const totals = b.terminalTotals as TotalsShape | null;
  if (!totals?.currencies?.length) return '-';
  return totals.currencies.map((c) => `${decimalAmount(c.net, c.currency)} ${c.currency}`).join(', ');
}

function countText(b: BatchRow): string {
  const totals = b.terminalTotals as TotalsShape | null;
  if (!totals?.currencies) return '-';
  let n = 0;
  for (const c of totals.currencies) for (const k of Object.values(c.byKind)) n += k.count;
  return String(n);
}

function batchesTable(rows: readonly BatchRow[]): string {
  const head = ['BATCH', 'STATE', 'OPENED (UTC)', 'CLOSED (UTC)', 'COUNT', 'NET', 'NOTE'];
  const short = (ms: number | null) => (ms === null ? '-' : isoTime(ms).replace(/\.\d{3}Z$/, 'Z'));
  const cells = rows.map((b) => [
    String(b.number).padStart(6, '0'),
    b.state,
    short(b.openedAt),
    short(b.closedAt),
    countText(b),
    netText(b),
    cellText(b.reason),
  ]);
  return textTable(head, cells);
}

function batchTransactions(j: Journal, number: number): TransactionRow[] {
  return j.batches
    .transactionRefs(number)
    .map((ref) => j.transactions.get(ref))
    .filter((t): t is TransactionRow => t !== undefined);
}

export function registerBatchCommands(journal: Command, openJournal: (opts: { config?: string }) => Journal): void {
  journal
    .command('batches')
    .description('settlement batches: state, when opened and closed, transactions counted and the net per currency')
    .option('--format <format>', 'table or json', choice('format', ['table', 'json'] as const), 'table')
    .option('--limit <n>', 'only the newest n batches', positiveInteger)
    .option('--config <file>', 'configuration overlay naming the data directory')
    .action((_opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<{ format: 'table' | 'json'; limit?: number; config?: string }>();
      withJournal(cmd, openJournal, opts.config, (j) => {
        const rows = j.batches.list(opts.limit ?? 100);
        return opts.format === 'json' ? `${JSON.stringify(rows.map(batchRecord))}\n` : batchesTable(rows);
      });
    });

  journal
    .command('export')
    .description("one batch's transactions for the merchant's accounting (json: with the batch and its totals)")
    .requiredOption('--batch <n>', 'the batch number', batchNumber)
    .option('--format <format>', 'csv or json', choice('format', ['csv', 'json'] as const), 'csv')
    .option('--config <file>', 'configuration overlay naming the data directory')
    .action((_opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<{ batch: number; format: 'csv' | 'json'; config?: string }>();
      withJournal(cmd, openJournal, opts.config, (j) => {
        const batch = j.batches.get(opts.batch);
        if (!batch) throw new Error(`no batch ${opts.batch} in the journal`);
        const rows = batchTransactions(j, opts.batch);
        if (opts.format === 'csv') return formatTransactions(rows, 'csv');
        const transactions = formatTransactions(rows, 'jsonl')
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => JSON.parse(l) as unknown);
        return `${JSON.stringify({ batch: batchRecord(batch), transactions })}\n`;
      });
    });
}
