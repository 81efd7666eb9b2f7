/**
 * `journal transactions` and `journal anomalies`: read the journal for support and reconciliation.
 *   pos-terminal journal transactions --from 2024-05-01 --outcome declined --format csv
 *   pos-terminal journal anomalies --class hardware-fault --limit 20
 * A bad option value prints one `error:` line and exits 2; a journal or config failure prints one line too.
 */
import { Command, InvalidArgumentError, type ErrorOptions } from 'commander';
import { ANOMALY_CLASSES, anomalyByName, isAnomalyName, type AnomalyClass } from '../anomaly/taxonomy.js';
import { ConfigError, EX_CONFIG, formatConfigError } from '../config/index.js';
import { EXPORT_FORMATS, formatAnomalies, formatTransactions, type ExportFormat } from '../journal/export.js';
import type { Journal } from '../journal/journal.js';
import { JournalError, type TransactionEventRow } from '../journal/schema.js';
import { TRANSACTION_OUTCOMES, type TransactionOutcome } from '../vocabulary/index.js';

/** Usage errors, as shells and most CLIs report them. */
export const EX_USAGE_ERROR = 2;
const EX_FAILURE = 1;

/** Every commander usage error (unknown option, bad value, missing argument) exits 2 instead of commander's 1. */
class JournalCliCommand extends Command {
  override createCommand(name?: string): JournalCliCommand {
    return new JournalCliCommand(name);
  }

  override error(message: string, errorOptions: ErrorOptions = {}): never {
    const code = errorOptions.code ?? 'commander.error';
    const exitCode = code.startsWith('commander.') ? EX_USAGE_ERROR : (errorOptions.exitCode ?? EX_FAILURE);
    return super.error(message, { ...errorOptions, code, exitCode });
  }
}

export function choice<T extends string>(name: string, values: readonly T[]) {
  return (value: string): T => {
    if (!(values as readonly string[]).includes(value))
      throw new InvalidArgumentError(`${name} must be one of ${values.join(', ')}`);
    return value as T;
  };
}

export function positiveInteger(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 10_000_000)
    throw new InvalidArgumentError('expected a whole number from 1 to 10000000');
  return Number(value);
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}:\d{2})?)?$/i;

/**
 * A date (UTC day) or date-time (UTC unless it names an offset) to ms since the epoch. A bare date used as an
 * upper bound means the end of that day, so `--from 2024-05-01 --to 2024-05-01` is the whole day.
 */
export function parseIsoDate(value: string, bound: 'from' | 'to'): number {
  const m = ISO_DATE.exec(value.trim());
  if (!m) throw new InvalidArgumentError('expected an ISO 8601 date like 2024-05-01 or 2024-05-01T13:45:00Z');
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const parts = [
    Number(y),
    Number(mo) - 1,
    Number(d),
    Number(h ?? 0),
    Number(mi ?? 0),
    Number(s ?? 0),
    Number((frac ?? '0').padEnd(3, '0')),
  ] as const;
  const utc = Date.UTC(...parts);
  const check = new Date(utc);
  if (
    check.getUTCFullYear() !== parts[0] ||
    check.getUTCMonth() !== parts[1] ||
    check.getUTCDate() !== parts[2] ||
    check.getUTCHours() !== parts[3] ||
    check.getUTCMinutes() !== parts[4] ||
    check.getUTCSeconds() !== parts[5]
  ) {
    throw new InvalidArgumentError('not a real date or time');
  }
  let offsetMs = 0;
  if (zone && zone.toUpperCase() !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const [oh, om] = zone.slice(1).split(':').map(Number) as [number, number];
    if (oh > 23 || om > 59) throw new InvalidArgumentError('not a valid UTC offset');
    offsetMs = sign * (oh * 60 + om) * 60_000;
  }
  const dateOnly = h === undefined;
  return utc - offsetMs + (dateOnly && bound === 'to' ? 86_400_000 : 0);
}

/** An anomaly code (E301) or a taxonomy name (printer-paper-out), as stored: the code. */
function anomalyCodeOption(value: string): string {
  if (/^E\d{3}$/i.test(value)) return value.toUpperCase();
  if (isAnomalyName(value)) return anomalyByName(value).code;
  throw new InvalidArgumentError('expected an anomaly code like E301 or a name like printer-paper-out');
}

interface CommonOptions {
  format: ExportFormat;
  from?: number;
  to?: number;
  limit?: number;
  config?: string;
}

interface TransactionOptions extends CommonOptions {
  state?: string;
  outcome?: TransactionOutcome;
  events?: boolean;
}

interface AnomalyOptions extends CommonOptions {
  code?: string;
  class?: AnomalyClass;
}

function addCommonOptions(cmd: Command): Command {
  return cmd
    .option(
      '--format <format>',
      `output format: ${EXPORT_FORMATS.join(', ')}`,
      choice('format', EXPORT_FORMATS),
      'table' as ExportFormat,
    )
    .option(
      '--from <date>',
      'from this ISO 8601 date or time, inclusive (UTC unless an offset is given)',
      (v: string) => parseIsoDate(v, 'from'),
    )
    .option('--to <date>', 'up to this ISO 8601 time, exclusive; a bare date includes that whole day', (v: string) =>
      parseIsoDate(v, 'to'),
    )
    .option('--limit <n>', 'only the newest n entries (still listed oldest first)', positiveInteger)
    .option('--config <file>', 'configuration overlay naming the data directory');
}

function write(cmd: Command, text: string): void {
  const out = cmd.configureOutput().writeOut ?? ((s: string) => process.stdout.write(s));
  out(text);
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, '; ').trim();
}

/**
 * Opens the journal, runs `read`, closes it. Failures become one `error:` line. cmd.error is only called outside
 * the try blocks, because with exitOverride it throws and must not be caught here.
 */
export function withJournal(
  cmd: Command,
  openJournal: (opts: { config?: string }) => Journal,
  config: string | undefined,
  read: (journal: Journal) => string,
): void {
  let output: string | undefined;
  let failure: unknown;
  let journal: Journal | undefined;
  try {
    journal = openJournal(config !== undefined ? { config } : {});
    output = read(journal);
  } catch (err) {
    failure = err;
  } finally {
    try {
      journal?.close();
    } catch {
      // Closing a read-only connection cannot lose data; the read result still stands.
    }
  }
  if (failure === undefined) {
    write(cmd, output ?? '');
    return;
  }
  if (failure instanceof ConfigError)
    cmd.error(formatConfigError(failure).trimEnd(), { exitCode: EX_CONFIG, code: 'journal.config' });
  if (failure instanceof JournalError)
    cmd.error(`error: journal: ${oneLine(failure.message)}`, { exitCode: EX_FAILURE, code: `journal.${failure.code}` });
  const message = failure instanceof Error ? failure.message : String(failure);
  cmd.error(`error: ${oneLine(message)}`, { exitCode: EX_FAILURE, code: 'journal.failed' });
}

function checkRange(cmd: Command, opts: CommonOptions): void {
  if (opts.from !== undefined && opts.to !== undefined && opts.from >= opts.to) {
    cmd.error('error: --from must be earlier than --to', { exitCode: EX_USAGE_ERROR, code: 'journal.usage' });
  }
}

/**
 * Adds `journal transactions` and `journal anomalies` to `program`. `openJournal` receives the --config value
 * (from the subcommand or a --config of the program itself); the command closes the journal it gets. Output goes
 * to the program's configured writeOut (stdout by default). Configure exitOverride/configureOutput on `program`
 * before calling this: subcommands copy those settings when they are created.
 */
export function registerJournalCommand(program: Command, openJournal: (opts: { config?: string }) => Journal): Command {
  const journal = new JournalCliCommand('journal').description(
    'list or export the journal: transactions and anomalies',
  );
  journal.copyInheritedSettings(program);
  program.addCommand(journal);

  addCommonOptions(
    journal.command('transactions').description('list transactions (amounts in minor units, times in UTC)'),
  )
    .option('--state <state>', 'only transactions now in this state (e.g. approved, recovered)')
    .option(
      '--outcome <outcome>',
      `only this outcome: ${TRANSACTION_OUTCOMES.join(', ')}`,
      choice('outcome', TRANSACTION_OUTCOMES),
    )
    .option('--events', "include each transaction's state changes")
    .action((_opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<TransactionOptions>();
      checkRange(cmd, opts);
      withJournal(cmd, openJournal, opts.config, (j) => {
        const rows = j.transactions.list({
          ...(opts.from !== undefined ? { from: opts.from } : {}),
          ...(opts.to !== undefined ? { to: opts.to } : {}),
          ...(opts.state !== undefined ? { state: opts.state } : {}),
          ...(opts.outcome !== undefined ? { outcome: opts.outcome } : {}),
          ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
        });
        const events = opts.events
          ? new Map<string, TransactionEventRow[]>(rows.map((r) => [r.txnRef, j.transactions.events(r.txnRef)]))
          : undefined;
        return formatTransactions(rows, opts.format, events ? { events } : {});
      });
    });

  addCommonOptions(
    journal.command('anomalies').description('list anomalies (code, class, severity, message, transaction facts)'),
  )
    .option('--code <code>', 'only this anomaly code (E301) or name (printer-paper-out)', anomalyCodeOption)
    .option('--class <class>', `only this class: ${ANOMALY_CLASSES.join(', ')}`, choice('class', ANOMALY_CLASSES))
    .action((_opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<AnomalyOptions>();
      checkRange(cmd, opts);
      withJournal(cmd, openJournal, opts.config, (j) =>
        formatAnomalies(
          j.anomalies.list({
            ...(opts.from !== undefined ? { from: opts.from } : {}),
            ...(opts.to !== undefined ? { to: opts.to } : {}),
            ...(opts.code !== undefined ? { code: opts.code } : {}),
            ...(opts.class !== undefined ? { class: opts.class } : {}),
            ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
          }),
          opts.format,
        ),
      );
    });

  journal
    .command('summary')
    .description(
      'what the terminal still owes the host: pending reversals, the offline queue (depth, total, oldest age)',
    )
    .option('--format <format>', 'table or json', choice('format', ['table', 'json'] as const), 'table')
    .option('--config <file>', 'configuration overlay naming the data directory')
    .action((_opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<{ format: 'table' | 'json'; config?: string }>();
      withJournal(cmd, openJournal, opts.config, (j) => {
        const counts = j.counts();
        const saf = j.saf.stats();
        const summary = {
          transactions: counts.transactions,
          inFlight: counts.inFlight,
          anomalies: counts.anomalies,
          pendingReversals: counts.pendingReversals,
          offlineQueue: {
            count: saf.count,
            total: saf.total,
            oldestAgeMs: saf.oldestAt === null ? null : Date.now() - saf.oldestAt,
          },
          setAside: j.setAsideTotals(),
        };
        if (opts.format === 'json') return `${JSON.stringify(summary)}\n`;
        const age =
          summary.offlineQueue.oldestAgeMs === null
            ? '-'
            : `${Math.round(summary.offlineQueue.oldestAgeMs / 60_000)} min`;
        return [
          `transactions        ${summary.transactions} (${summary.inFlight} unfinished)`,
          `anomalies           ${summary.anomalies}`,
          `pending reversals   ${summary.pendingReversals}`,
          `offline queue       ${saf.count} sales, total ${saf.total} (minor units), oldest ${age}`,
          `set aside           ${summary.setAside.reversals.count} reversals possibly owed (total ${summary.setAside.reversals.total}), ${summary.setAside.advices.count} advices not collected (total ${summary.setAside.advices.total})`,
          '',
        ].join('\n');
      });
    });

  return journal;
}
