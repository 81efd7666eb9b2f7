/**
 * The soak as a test: a seeded run of mixed transactions with faults (see soak.ts), then the proofs: the host
 * ledger reconciles exactly with the journal, nothing is left owed, and no card data appeared in any log line, ECR
 * message, telemetry payload, receipt, screen or journal byte. Memory growth and journal size are reported.
 *
 * CI runs POS_SOAK_TRANSACTIONS (default 1,500). The long run is `npm run soak` (100,000 transactions), which also
 * writes its figures to POS_SOAK_REPORT (bench/soak.json) for the benchmark report.
 */
import { writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { Journal } from '../../../src/journal/index.js';
import { type LedgerLine, leftPending, readLedger, reconcile } from '../../support/reconcile.js';
import { kept, totalsFromLedger } from '../../settlement/support.js';
import { runSoak, type SoakRun } from './soak.js';

const TRANSACTIONS = Number(process.env['POS_SOAK_TRANSACTIONS'] ?? 1_500);
const SEED = Number(process.env['POS_SOAK_SEED'] ?? Date.now() % 1_000_000);
const REPORT = process.env['POS_SOAK_REPORT'];

let run: SoakRun | undefined;

/** What the host saw of the chip and the PIN, from its own ledger (its answers to financial requests). */
function chipEvidence(lines: LedgerLine[]) {
  const ledger = lines as Array<LedgerLine & Record<string, unknown>>;
  const answers = ledger.filter((e) => e.dir === 'out' && e.mti === '0210');
  return {
    field55: answers.filter((e) => e['field55'] === true).length,
    cryptogramInvalid: answers.filter((e) => e['field55'] === true && e['cryptogramValid'] !== true).length,
    pinVerified: answers.filter((e) => e['pinPresent'] === true && e['pinVerified'] === true).length,
    wrongPin55: answers.filter((e) => e['pinPresent'] === true && e.responseCode === '55').length,
    pinTriesExceeded75: answers.filter((e) => e.responseCode === '75').length,
    reversalsTaken: ledger.filter((e) => e.dir === 'out' && e.mti === '0410' && e.responseCode === '00').length,
    // MAC on: the host answered the terminal's 0800s (sign-on for its keys, echo tests) and refused none of its MACs.
    networkAnswered: ledger.filter((e) => e.dir === 'out' && e.mti === '0810' && e.responseCode === '00').length,
    macRefused: ledger.filter((e) => e.dir === 'in' && e.note?.startsWith('MAC refused')).length,
  };
}
// POS_SOAK_KEEP=1 keeps the data directory (journal, host ledger) for a look afterwards.
afterAll(() => (process.env['POS_SOAK_KEEP'] ? console.info(`soak data kept in ${run?.dataDir}`) : run?.cleanup()));

describe(`soak: ${TRANSACTIONS} transactions (seed ${SEED})`, () => {
  it(
    'reconciles with the host, leaves nothing owed and leaks no card data',
    async () => {
      run = await runSoak({
        transactions: TRANSACTIONS,
        seed: SEED,
        logLevel: TRANSACTIONS <= 5_000 ? 'trace' : 'debug',
        progressEvery: 5_000,
        onProgress: (done, p) => {
          if (process.env['POS_SOAK_VERBOSE'])
            console.info(`soak ${done}/${TRANSACTIONS}: ${p.elapsedS.toFixed(0)} s, heap ${p.heapMb.toFixed(1)} MB`);
        },
      });
      const { report } = run;
      const journal = Journal.open(run.journalPath, { readonly: true });
      let reconciliation: ReturnType<typeof reconcile>;
      const ledger = readLedger(run.ledgerPath);
      const chip = chipEvidence(ledger);
      try {
        expect(leftPending(journal)).toEqual({ inFlight: 0, armedReversals: 0, pendingReversals: 0, queued: 0 });
        reconciliation = reconcile(ledger, journal, { expectSetAside: run.expectedSetAside });
      } finally {
        journal.close();
      }
      const summary = {
        ...report,
        chip,
        settlements: run.settlements.map((d) => ({
          batch: d.batchNumber,
          reply: d.reply.type,
          requests: d.host.length,
          resolved: d.resolved,
        })),
        at: new Date().toISOString(),
        reconciliation: {
          tally: reconciliation.tally,
          money: reconciliation.money,
          transactions: reconciliation.transactions,
          ledgerEntries: reconciliation.ledgerEntries,
        },
      };
      console.info(`soak: ${JSON.stringify(summary)}`);
      if (REPORT) writeFileSync(REPORT, `${JSON.stringify(summary, null, 2)}\n`);

      expect(reconciliation.problems).toEqual([]);
      expect(report.leaks).toEqual([]);
      // Every day ended with a settlement the host agreed to, on totals equal to the host's own books; and the
      // closed batches together hold exactly what the host's ledger shows it approved and kept.
      const days = run.settlements;
      expect(days.length).toBeGreaterThanOrEqual(1);
      for (const d of days) {
        expect(d.reply, `batch ${d.batchNumber}`).toMatchObject({ type: 'done', batchNumber: d.batchNumber });
        expect(d.host.at(-1)?.responseCode, `batch ${d.batchNumber}`).toBe('00');
        expect(d.journalTotals, `batch ${d.batchNumber}`).toEqual(d.host.at(-1)?.hostTotals);
      }
      const sum = (
        k:
          | 'debitsNumber'
          | 'debitsAmount'
          | 'creditsNumber'
          | 'creditsAmount'
          | 'debitsReversalNumber'
          | 'debitsReversalAmount',
      ) => days.reduce((n, d) => n + (d.journalTotals?.[k] ?? 0), 0);
      const fromLedger = totalsFromLedger(ledger);
      const counted = new Set(run.counted.map((c) => String(c.stan).padStart(6, '0')));
      const hostOnly = [...kept(ledger).keys()].filter((stan) => !counted.has(stan.padStart(6, '0')));
      const terminalOnly = [...counted].filter(
        (stan) => !kept(ledger).has(stan) && !kept(ledger).has(String(Number(stan))),
      );
      expect({ hostOnly, terminalOnly }).toEqual({ hostOnly: [], terminalOnly: [] });
      expect({
        debits: { count: sum('debitsNumber'), amount: sum('debitsAmount') },
        credits: { count: sum('creditsNumber'), amount: sum('creditsAmount') },
        debitReversals: { count: sum('debitsReversalNumber'), amount: sum('debitsReversalAmount') },
      }).toEqual(fromLedger);
      // What support resolved is exactly what the host refused: the declining cards' offline sales.
      expect(days.reduce((n, d) => n + d.resolved, 0)).toBe(run.expectedSetAside.length);
      // The soak must have exercised what it claims: every outcome class, and the scans must have read real data.
      expect(reconciliation.tally.approved).toBeGreaterThan(0);
      expect(reconciliation.tally.offline).toBeGreaterThan(0);
      expect(reconciliation.tally.reversed).toBeGreaterThan(0);
      expect(reconciliation.tally.declined).toBeGreaterThan(0);
      expect(reconciliation.tally.refunds).toBeGreaterThan(0);
      expect(reconciliation.tally.voids).toBeGreaterThan(0);
      // Only the advices of declining cards were set aside, and the host's net equals the journal's less them.
      expect(reconciliation.notCollected.map((n) => n.stan).sort()).toEqual([...run.expectedSetAside].sort());
      expect(reconciliation.money.host).toBe(reconciliation.money.journal - reconciliation.money.notCollected);
      // The chip's branches ran and the host judged them: cryptograms verified, PINs right and wrong deciphered, never
      // a third wrong PIN in a row (each wrong PIN is followed by the right one), approvals the card refused reversed.
      const chipSteps = Object.entries(report.steps).filter(([kind]) => /^(chip|tap)-/.test(kind));
      expect(chipSteps.reduce((n, [, count]) => n + count, 0)).toBeGreaterThan(TRANSACTIONS * 0.04);
      expect(chip.field55).toBeGreaterThan(TRANSACTIONS / 2);
      expect(chip.cryptogramInvalid).toBe(0);
      expect(chip.pinVerified).toBeGreaterThan(0);
      expect(chip.pinTriesExceeded75).toBe(0);
      expect(chip.networkAnswered).toBeGreaterThan(0);
      expect(chip.macRefused).toBe(0);
      // An answer whose MAC fails is never honoured (the reconcile has checked that its approval was reversed).
      expect(report.chipResults['chip-bad-mac']?.['approved']).toBeUndefined();
      if ((report.steps['chip-pin-retry'] ?? 0) > 0) {
        // The wrong PIN is answered 55 and asked again in the same sale, which the right PIN then approves.
        expect(chip.wrongPin55).toBeGreaterThan(0);
        expect(report.chipResults['chip-pin-retry']?.['declined 55']).toBeUndefined();
        expect(report.chipResults['chip-pin-retry']?.['approved']).toBeGreaterThan(0);
      }
      for (const kind of ['chip-declined-after-approval', 'chip-removed'])
        if ((report.steps[kind] ?? 0) > 0) expect(report.chipResults[kind]?.['declined']).toBeGreaterThan(0);
      if ((report.steps['chip-offline'] ?? 0) > 0)
        expect(report.chipResults['chip-offline']?.['offline-approved']).toBeGreaterThan(0);
      expect(report.scanned.logLines).toBeGreaterThan(TRANSACTIONS);
      expect(report.scanned.telemetryMessages).toBeGreaterThan(0);
      expect(report.scanned.receipts).toBeGreaterThan(TRANSACTIONS / 2);
      expect(report.scanned.ecrMessages).toBeGreaterThan(TRANSACTIONS);
      expect(report.scanned.screens).toBeGreaterThan(TRANSACTIONS * 3);
      expect(report.journalRows).toBeGreaterThanOrEqual(TRANSACTIONS * 0.9);
    },
    Math.max(300_000, TRANSACTIONS * 60),
  );
});
