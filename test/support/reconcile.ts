/**
 * Reconciles the host simulator's ledger (one JSON line per message it received or sent) with the terminal's
 * journal, the way an acquirer and a merchant settle a day:
 * - every message the host received belongs to a transaction the journal knows (echo tests, 0800, excepted);
 * - the host processed at most one financial request, one reversal and one advice per STAN (repeats are flagged
 *   `duplicate` by the host and not counted);
 * - approved in the journal: the host approved it and it was never reversed (captured exactly once);
 * - approved offline: exactly one advice and no online request;
 * - anything else the host approved was undone by exactly one reversal, and no reversal is left owed.
 * Indexed by STAN in one pass, so it stays linear for a soak of 100,000 transactions.
 */
import { readFileSync } from 'node:fs';
import type { Journal } from '../../src/journal/index.js';

export interface ReconcileTally {
  approved: number;
  offline: number;
  reversed: number;
  declined: number;
  other: number;
}

export interface Reconciliation {
  problems: string[];
  tally: ReconcileTally;
  transactions: number;
  ledgerEntries: number;
}

interface HostView {
  financial: number;
  approved: boolean;
  reversals: number;
  advices: number;
}

type Entry = { dir?: string; mti?: string; stan?: string | number; responseCode?: string; duplicate?: boolean };

export function readLedger(path: string): Entry[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Entry);
}

export function reconcile(ledger: Entry[], journal: Journal, problemLimit = 50): Reconciliation {
  const rows = journal.listTransactions({ limit: 10_000_000 });
  const byStan = new Map(rows.filter((r) => r.stan !== null).map((r) => [String(r.stan).padStart(6, '0'), r]));
  const problems: string[] = [];
  const problem = (text: string) => {
    if (problems.length < problemLimit) problems.push(text);
  };

  const hostViews = new Map<string, HostView>();
  const view = (stan: string) => {
    let v = hostViews.get(stan);
    if (!v) hostViews.set(stan, (v = { financial: 0, approved: false, reversals: 0, advices: 0 }));
    return v;
  };
  for (const e of ledger) {
    if (e.stan === undefined || e.mti === '0800' || e.mti === '0810') continue;
    const stan = String(e.stan);
    if (e.dir === 'in' && !byStan.has(stan)) problem(`host saw STAN ${stan} (${e.mti}) that the journal does not know`);
    if (e.duplicate) continue;
    if (e.dir === 'in' && e.mti === '0200') view(stan).financial += 1;
    else if (e.dir === 'in' && (e.mti === '0400' || e.mti === '0401')) view(stan).reversals += 1;
    else if (e.dir === 'in' && (e.mti === '0220' || e.mti === '0221')) view(stan).advices += 1;
    else if (e.dir === 'out' && e.mti === '0210' && e.responseCode === '00') view(stan).approved = true;
  }

  const tally: ReconcileTally = { approved: 0, offline: 0, reversed: 0, declined: 0, other: 0 };
  for (const [stan, row] of byStan) {
    const host = hostViews.get(stan) ?? { financial: 0, approved: false, reversals: 0, advices: 0 };
    if (host.financial > 1) problem(`STAN ${stan}: the host processed ${host.financial} financial requests`);
    if (host.reversals > 1) problem(`STAN ${stan}: the host processed ${host.reversals} reversals`);
    if (host.advices > 1) problem(`STAN ${stan}: the host processed ${host.advices} advices`);
    switch (row.outcome) {
      case 'approved':
        tally.approved += 1;
        if (!host.approved || host.reversals !== 0) problem(`STAN ${stan}: approved in the journal but host approved=${host.approved}, reversals=${host.reversals}`);
        break;
      case 'offline-approved':
        tally.offline += 1;
        if (host.advices !== 1 || host.financial !== 0) problem(`STAN ${stan}: offline sale with ${host.advices} advices and ${host.financial} online requests`);
        break;
      default: {
        if (host.approved && host.reversals !== 1) problem(`STAN ${stan}: ${row.outcome} in the journal, host approved it, ${host.reversals} reversals`);
        const reversal = journal.reversalFor(row.txnRef);
        if (reversal && reversal.state !== 'acknowledged' && reversal.state !== 'cleared') problem(`STAN ${stan}: reversal left ${reversal.state}`);
        if (host.approved) tally.reversed += 1;
        else if (row.outcome === 'declined') tally.declined += 1;
        else tally.other += 1;
      }
    }
  }
  return { problems, tally, transactions: rows.length, ledgerEntries: ledger.length };
}

/** What must be empty once a terminal has drained: nothing in flight, no reversal owed, no advice queued. */
export function leftPending(journal: Journal): { inFlight: number; armedReversals: number; pendingReversals: number; queued: number } {
  return {
    inFlight: journal.inFlight().length,
    armedReversals: journal.armedReversals().length,
    pendingReversals: journal.pendingReversals().length,
    queued: journal.safQueue().length,
  };
}
