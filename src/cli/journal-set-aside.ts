/**
 * What the host refused for good, for support:
 *   pos-terminal journal set-aside [--format table|json]                 reversals and advices still owed
 *   pos-terminal journal resolve --reversal 7 --note "refunded by hand"   settled with the acquirer: no longer owed
 *   pos-terminal journal resolve --advice 12 --note "loss written off"
 * The end of day waits for every item listed here; resolving one is journaled on its transaction. The terminal may
 * keep running: the resolution is one small commit on its journal.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { isoTime } from '../journal/export.js';
import type { Journal } from '../journal/journal.js';
import type { SetAsideItem, SetAsideRow } from '../journal/stores/set-aside.js';
import { decimalAmount } from '../vocabulary/index.js';
import { choice, positiveInteger, withJournal } from './journal-command.js';
import { cellText, textTable } from './text-table.js';

function table(rows: readonly SetAsideRow[]): string {
  if (rows.length === 0) return 'nothing is set aside\n';
  const head = ['ITEM', 'ID', 'STAN', 'AMOUNT', 'CARD', 'ANSWER', 'REFUSED (UTC)', 'REASON'];
  const cells = rows.map((r) => [
    r.item,
    String(r.id),
    String(r.stan).padStart(6, '0'),
    `${decimalAmount(r.amount, r.currency)} ${r.currency}`,
    r.maskedPan ?? '-',
    r.responseCode ?? '-',
    isoTime(r.at).replace(/\.\d{3}Z$/, 'Z'),
    cellText(r.reason),
  ]);
  return textTable(head, cells);
}

function note(value: string): string {
  if (value.trim() === '' || value.length > 500) throw new InvalidArgumentError('expected 1..500 characters');
  return value;
}

export function registerSetAsideCommands(
  journal: Command,
  openReadonly: (opts: { config?: string }) => Journal,
  openWritable: (opts: { config?: string }) => Journal,
): void {
  journal
    .command('set-aside')
    .description('reversals and advices the host refused for good: still owed, the end of day waits for them')
    .option('--format <format>', 'table or json', choice('format', ['table', 'json'] as const), 'table')
    .option('--config <file>', 'configuration overlay naming the data directory')
    .action((_opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<{ format: 'table' | 'json'; config?: string }>();
      withJournal(cmd, openReadonly, opts.config, (j) => {
        const rows = j.setAside.list();
        return opts.format === 'json' ? `${JSON.stringify(rows)}\n` : table(rows);
      });
    });

  journal
    .command('resolve')
    .description('record that a set-aside reversal or advice was settled with the acquirer: it is no longer owed')
    .option('--reversal <id>', 'the reversal id (from journal set-aside)', positiveInteger)
    .option('--advice <id>', 'the advice id (from journal set-aside)', positiveInteger)
    .requiredOption('--note <text>', 'how it was settled (journaled as given: no card data)', note)
    .option('--config <file>', 'configuration overlay naming the data directory')
    .action((_opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<{ reversal?: number; advice?: number; note: string; config?: string }>();
      if ((opts.reversal === undefined) === (opts.advice === undefined))
        cmd.error('error: give exactly one of --reversal and --advice', { code: 'commander.usage' });
      const item: SetAsideItem = opts.reversal !== undefined ? 'reversal' : 'advice';
      const id = (opts.reversal ?? opts.advice)!;
      withJournal(cmd, openWritable, opts.config, (j) => {
        const row = j.setAside.resolve(item, id, opts.note);
        const amount = `${decimalAmount(row.amount, row.currency)} ${row.currency}`;
        return `resolved ${item} ${id} (STAN ${String(row.stan).padStart(6, '0')}, ${amount})\n`;
      });
    });
}
