/**
 * Settlement tests on the assembled terminal (the durability rig: embedded host simulator, ManualClock, ECR client).
 * The host's side is read from its ledger file and its own batch books, never from the terminal's code.
 */
import type { LedgerEntry } from '../../src/acquirer-sim/simulator.js';
import type { EcrMessage } from '../../src/ecr/client.js';
import type { Rig } from '../durability/harness.js';

/** A ledger line as the simulator writes it (in memory or read back from its file). */
export interface LedgerLineLike {
  dir?: string;
  mti?: string;
  stan?: string | number;
  responseCode?: string;
  processingCode?: string;
  movedAmount?: number;
  duplicate?: boolean;
}

/** Field 39 codes with which a host approves (ISO 8583:1987). */
const APPROVING = new Set(['00', '08', '10', '11', '16']);

export interface LedgerTotals {
  debits: { count: number; amount: number };
  credits: { count: number; amount: number };
  debitReversals: { count: number; amount: number };
}

/**
 * What the host approved since `fromIndex` of its ledger, from the ledger alone: approved 0210/0230 answers by field 3
 * (00 sale or advice: debit; 20 refund: credit; 02 void: a debit reversal), less what an acknowledged 0410 took back.
 */
export function totalsFromLedger(ledger: readonly LedgerLineLike[], fromIndex = 0): LedgerTotals {
  const t: LedgerTotals = {
    debits: { count: 0, amount: 0 },
    credits: { count: 0, amount: 0 },
    debitReversals: { count: 0, amount: 0 },
  };
  for (const { bucket, amount } of kept(ledger, fromIndex).values()) {
    t[bucket].count += 1;
    t[bucket].amount += amount;
  }
  return t;
}

/** What the host approved and kept, by STAN, from its ledger alone (see totalsFromLedger). */
export function kept(
  ledger: readonly LedgerLineLike[],
  fromIndex = 0,
): Map<string, { bucket: keyof LedgerTotals; amount: number }> {
  const byStan = new Map<string, { bucket: keyof LedgerTotals; amount: number }>();
  // A late answer is written to the ledger when it leaves, which may be after the reversal that took it back.
  const reversed = new Set<string>();
  for (const e of ledger.slice(fromIndex)) {
    if (e.dir !== 'out' || e.duplicate || !APPROVING.has(e.responseCode ?? '')) continue;
    if (e.mti === '0210' || e.mti === '0230') {
      const type = (e.processingCode ?? '00').slice(0, 2);
      const bucket = type === '20' ? 'credits' : type === '02' ? 'debitReversals' : 'debits';
      byStan.set(String(e.stan ?? ''), { bucket, amount: e.movedAmount ?? 0 });
    } else if (e.mti === '0410' && (e.movedAmount ?? 0) > 0) {
      reversed.add(String(e.stan ?? ''));
    }
  }
  for (const stan of reversed) byStan.delete(stan);
  return byStan;
}

export function settle(rig: Rig): Promise<EcrMessage> {
  return rig.client.call({ cmd: 'settle' });
}

/** The settlement requests the host received (0500), in order. */
export function settlementRequests(rig: Rig): LedgerEntry[] {
  return rig.received('0500');
}

/** Runs `work` while the simulated clock moves on, so pauses on the Clock (retries) pass. */
export async function withClockRunning<T>(rig: Rig, work: Promise<T>, stepMs = 1_000): Promise<T> {
  let done = false;
  const result = work.finally(() => {
    done = true;
  });
  while (!done) {
    await rig.clock.advance(stepMs);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  return result;
}
