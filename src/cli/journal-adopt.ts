/**
 * `journal check` and `journal adopt`: the journal against its outside record, and the supervised way out of a
 * journal fault lock.
 *   pos-terminal journal check            compare the journal with journal.record.json (read-only); exit 1 on a fault
 *   pos-terminal journal adopt --yes      take the journal in place as this terminal's (stop the terminal first)
 * adopt is for an operator who deliberately put a journal there (a restored backup, the right file back after a
 * fault): its STAN counter is moved past every mark the record knows, so no STAN the host has seen is used again.
 */
import { InvalidArgumentError, type Command } from 'commander';
import {
  adoptJournal,
  checkRecordedJournal,
  formatJournalId,
  journalFiles,
  type JournalFault,
} from '../journal/outside-record.js';

const EX_FAULT = 1;
const EX_USAGE = 2;

function out(cmd: Command, text: string): void {
  const write = cmd.configureOutput().writeOut ?? ((s: string) => process.stdout.write(s));
  write(text);
}

function faultLine(fault: JournalFault | undefined): string {
  return fault ? `${fault.cause}: ${fault.message}` : 'none: the journal agrees with its record';
}

/** Adds check and adopt under the `journal` command; `dataDirOf` reads the data directory from the --config given. */
export function registerJournalRecordCommands(
  journal: Command,
  dataDirOf: (opts: { config?: string }) => string,
): void {
  journal
    .command('check')
    .description(
      'compare the journal with its outside record (journal id, generation, STAN mark) and run quick_check; read-only',
    )
    .option('--config <file>', 'configuration overlay naming the data directory')
    .action((_opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<{ config?: string }>();
      const dataDir = dataDirOf(opts.config !== undefined ? { config: opts.config } : {});
      let result: ReturnType<typeof checkRecordedJournal>;
      try {
        result = checkRecordedJournal(dataDir);
      } catch (err) {
        return cmd.error(`error: ${(err as Error).message}`, { exitCode: EX_FAULT, code: 'journal.unusable' });
      }
      const { identity, record, fault } = result;
      const recordText =
        record === undefined
          ? 'none'
          : typeof record === 'string'
            ? `unreadable (${record})`
            : `journal ${formatJournalId(record.journalId)}, generation ${record.generation}, STAN high-water ${record.stanHighWater}${record.hold ? ', held' : ''}`;
      out(
        cmd,
        [
          `journal   ${journalFiles(dataDir).db}: journal ${formatJournalId(identity.journalId)}, generation ${identity.generation}, STAN counter ${identity.stan}`,
          `record    ${journalFiles(dataDir).record}: ${recordText}`,
          `fault     ${faultLine(fault)}`,
          '',
        ].join('\n'),
      );
      if (fault) cmd.error('', { exitCode: EX_FAULT, code: 'journal.fault' });
    });

  journal
    .command('adopt')
    .description(
      "take the journal now in the data directory as this terminal's (after restoring a backup): STANs continue past the record's mark; stop the terminal first",
    )
    .option('--yes', 'really do it (without it, only say what would be done)')
    .option(
      '--stan-after <stan>',
      "also past this STAN (the acquirer's last one for this terminal, after a whole data directory was restored)",
      (v: string) => {
        if (!/^\d{1,6}$/.test(v) || Number(v) < 1) throw new InvalidArgumentError('expected a STAN from 1 to 999999');
        return Number(v);
      },
    )
    .option('--config <file>', 'configuration overlay naming the data directory')
    .action((_opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<{ config?: string; yes?: boolean; stanAfter?: number }>();
      const dataDir = dataDirOf(opts.config !== undefined ? { config: opts.config } : {});
      if (!opts.yes) {
        let fault: JournalFault | undefined;
        try {
          fault = checkRecordedJournal(dataDir).fault;
        } catch (err) {
          return cmd.error(`error: ${(err as Error).message}`, { exitCode: EX_FAULT, code: 'journal.unusable' });
        }
        out(
          cmd,
          `would adopt ${journalFiles(dataDir).db} (fault now: ${faultLine(fault)}); stop the terminal and run again with --yes\n`,
        );
        return cmd.error('', { exitCode: EX_USAGE, code: 'journal.usage' });
      }
      let result: ReturnType<typeof adoptJournal>;
      try {
        result = adoptJournal(dataDir, opts.stanAfter !== undefined ? { stanAfter: opts.stanAfter } : {});
      } catch (err) {
        return cmd.error(`error: ${(err as Error).message}`, { exitCode: EX_FAULT, code: 'journal.unusable' });
      }
      out(
        cmd,
        [
          `adopted   journal ${result.journalId} (${result.transactions} transactions, ${result.safQueued} queued offline sales, ${result.pendingReversals} pending reversals)`,
          `was       ${faultLine(result.previous)}`,
          `STANs     continue after ${result.stanFrom}`,
          'reconcile with the acquirer what the journal may have lost; the terminal starts unlocked at its next start',
          '',
        ].join('\n'),
      );
    });
}
