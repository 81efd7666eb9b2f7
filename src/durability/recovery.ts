/**
 * Recovery: what becomes of a transaction the journal shows unfinished, at boot, at unlock, or when its machine
 * crashed. Each gets its fate from what the journal holds (see fateOf), so the register is never told "failed"
 * about a sale the host approved, and a request that may have reached the host is always reversed.
 */
import { performance } from 'node:perf_hooks';
import type { Display } from '../../hal/display/contract.js';
import { anomalyByName, type AnomalyName } from '../anomaly/index.js';
import type { AnomalyRecorder } from '../anomaly/recorder.js';
import { describeResponseCode, isApprovedClass } from '../iso8583/index.js';
import {
  JournalError,
  type Journal,
  type ReversalRow,
  type TransactionPatch,
  type TransactionRow,
} from '../journal/index.js';
import type { AnomalyRef, TransactionOutput } from '../transaction/types.js';
import type { ReceiptStatus, TransactionKind, TransactionOutcome } from '../vocabulary/index.js';
import type { Logger } from '../util/log.js';

export interface RecoveryDeps {
  journal: Journal;
  anomalies: AnomalyRecorder;
  display: Display;
  log: Logger;
  /** Sends what recovery leaves owed (reversals, advices) at once. */
  forwarder?: { kick(): void };
}

/** What boot recovery found and how long it took (the benchmark and telemetry read it). */
export interface RecoveryReport {
  recovered: number;
  durationMs: number;
}

/** The journal keeps the stable on-screen code (E101…), as the anomalies table does. */
function anomalyCode(name: AnomalyName): string {
  return anomalyByName(name).code;
}

/**
 * Boot recovery: every transaction the journal shows unfinished gets its fate from the journal (see fateOf). A
 * journal or vault under question (`held`) is left as found: recovery waits for the supervised way out.
 */
export function recoverAtBoot(deps: RecoveryDeps, held: boolean): RecoveryReport {
  const started = performance.now();
  const recovered = held ? 0 : settleUnfinished(deps);
  return { recovered, durationMs: Math.round((performance.now() - started) * 10) / 10 };
}

/**
 * Settles every unfinished transaction and reversal in the journal. Only safe when no transaction is running (at
 * boot, or while locked): then an armed reversal means the request was about to leave or had left when the fault
 * struck, and it must be treated as sent. Throws a JournalError when the journal cannot write.
 */
export function settleUnfinished(deps: RecoveryDeps, cause?: string): number {
  const { journal, anomalies } = deps;
  // Nothing to do is the common case: a write transaction is not even begun then (a full disk may refuse it).
  if (cause !== undefined && journal.transactions.inFlight().length === 0 && journal.reversals.armed().length === 0)
    return 0;
  // One commit for the whole recovery: thousands of unfinished items must not cost an fsync each.
  const { unfinished, tally } = journal.batch('boot recovery', () => {
    for (const armed of journal.reversals.armed())
      journal.reversals.markPending(armed.txnRef, `interrupted before the answer (${cause ?? 'recovery'})`);
    const unfinished = journal.transactions.inFlight();
    const tally = { reversed: 0, completed: 0, closed: 0 };
    for (const row of unfinished) {
      const fate = fateOf(row, journal.reversals.forTransaction(row.txnRef), 'crash-recovered');
      journal.transactions.recordState(row.txnRef, 'recovered', fate.patch, {
        lastState: row.state,
        fate: fate.detail,
      });
      tally[fate.tally] += 1;
      anomalies.raise(
        'crash-recovered',
        {
          txnRef: row.txnRef,
          reason: `${cause ? `${cause}: ` : ''}interrupted in ${row.state}: ${fate.text}`,
          amount: row.amount,
          currency: row.currency,
          ...(row.stan !== null ? { stan: row.stan } : {}),
          ...(row.maskedPan ? { maskedPan: row.maskedPan } : {}),
        },
        { show: false },
      );
    }
    return { unfinished, tally };
  });
  if (unfinished.length > 0) {
    deps.display
      .show({
        title: 'RECOVERED',
        code: anomalyCode('crash-recovered'),
        severity: 'warning',
        lines: [`${tally.reversed} to reverse, ${tally.completed} completed`, `${tally.closed} closed; see journal`],
      })
      .catch(() => {});
  }
  deps.forwarder?.kick();
  return unfinished.length;
}

/** A transaction whose machine crashed, as its machine last held it. */
export interface CrashedTransaction {
  txnRef: string;
  kind: TransactionKind;
  amount: number;
  currency: string;
  /** The last state it recorded. */
  state: string;
}

/**
 * A transaction whose machine crashed (often a journal write that failed) ends with the fate boot recovery would
 * give it, so the register is never told "failed" about a sale the host approved and the journal holds. When the
 * journal cannot even record that, the storage is the fault (`storageFault`: the terminal must lock) and the
 * transaction stays unfinished in the journal, settled the same way at unlock or at the next start.
 */
export function settleCrashed(
  deps: RecoveryDeps,
  crashed: CrashedTransaction,
  crash: AnomalyRef,
): { output: TransactionOutput; storageFault?: string } {
  const { journal, log } = deps;
  const { txnRef } = crashed;
  let row: TransactionRow | undefined;
  let reversal: ReversalRow | undefined;
  try {
    row = journal.transactions.get(txnRef);
    reversal = journal.reversals.forTransaction(txnRef);
  } catch (err) {
    log.error({ err, txnRef }, 'could not read crashed transaction');
  }
  const fate = row ? fateOf(row, reversal, crash.name) : undefined;
  let anomaly = crash;
  let storageFault: string | undefined;
  try {
    journal.batch(`settle crashed transaction ${txnRef}`, () => {
      // It may be at the host: from now on the reversal is owed, whatever happens to this process.
      if (reversal?.state === 'armed')
        journal.reversals.markPending(txnRef, `transaction crashed: ${crash.reason ?? crash.name}`);
      journal.transactions.recordState(
        txnRef,
        'recovered',
        fate?.patch ?? { outcome: 'failed', anomalyCode: anomalyCode(crash.name) },
        { lastState: crashed.state, fate: fate?.detail ?? 'failed', crash: crash.reason ?? crash.name },
      );
    });
    if (reversal?.state === 'armed') deps.forwarder?.kick();
  } catch (err) {
    log.error({ err, txnRef }, 'could not journal crashed transaction');
    if (err instanceof JournalError && err.code === 'storage-fault') {
      storageFault = `storage fault: ${err.message}`;
      anomaly = {
        name: 'storage-fault',
        reason: `${crash.reason ?? crash.name}; not journaled: ${fate?.text ?? 'failed'} once the storage is fixed`,
      };
    }
  }
  deps.anomalies.raise(anomaly.name, {
    txnRef,
    ...(anomaly.reason !== undefined ? { reason: anomaly.reason } : {}),
    amount: row?.amount ?? crashed.amount,
    currency: row?.currency ?? crashed.currency,
    ...(row?.stan != null ? { stan: row.stan } : {}),
    ...(row?.maskedPan ? { maskedPan: row.maskedPan } : {}),
  });
  const answered = fate?.tally === 'completed' && row?.responseCode != null ? row.responseCode : undefined;
  const output: TransactionOutput = {
    txnRef,
    kind: crashed.kind,
    outcome: fate?.outcome ?? 'failed',
    amount: row?.amount ?? crashed.amount,
    currency: row?.currency ?? crashed.currency,
    receipt: fate?.receipt ?? 'none',
    ...(row?.stan != null ? { stan: row.stan } : {}),
    ...(row?.maskedPan ? { maskedPan: row.maskedPan } : {}),
    ...(row?.entryMode ? { entryMode: row.entryMode } : {}),
    ...(answered !== undefined
      ? { responseCode: answered, responseText: describeResponseCode(answered)?.meaning ?? 'unknown response code' }
      : {}),
    ...(answered !== undefined && row?.approvalCode ? { approvalCode: row.approvalCode } : {}),
    anomaly,
    anomalies: [anomaly],
  };
  return storageFault ? { output, storageFault } : { output };
}

export interface Fate {
  outcome: TransactionOutcome;
  patch: TransactionPatch;
  receipt: ReceiptStatus;
  tally: 'reversed' | 'completed' | 'closed';
  /** For the journal event's detail. */
  detail: string;
  /** For the anomaly. */
  text: string;
}

/**
 * What an unfinished transaction becomes, from what the journal holds:
 * - a request that may have reached the host (reversal armed or pending) is reversed: the reversal is owed;
 * - an answer the host gave (approved, declined, or approved offline and queued) stands: the receipt is pending;
 * - a transaction that never reached the host is closed as failed (with `failedAnomaly`).
 */
export function fateOf(row: TransactionRow, reversal: ReversalRow | undefined, failedAnomaly: AnomalyName): Fate {
  if (reversal && (reversal.state === 'armed' || reversal.state === 'pending')) {
    return {
      outcome: 'failed',
      patch: { outcome: 'failed', anomalyCode: anomalyCode('reversal-pending') },
      receipt: 'none',
      tally: 'reversed',
      detail: 'reversal owed',
      text: 'reversal owed',
    };
  }
  const queued = row.responseCode === 'Y1' && row.approvalCode !== null;
  if (queued || row.responseCode !== null) {
    // Approved by class (00, 08, 11, 16, an accepted 10), as the host moved the money: never '00' alone.
    const outcome: TransactionOutcome = queued
      ? 'offline-approved'
      : isApprovedClass(row.responseCode!)
        ? 'approved'
        : 'declined';
    return {
      outcome,
      patch: { outcome, receiptStatus: 'pending' },
      receipt: 'pending',
      tally: 'completed',
      detail: 'completed, receipt pending',
      text: `completed as ${outcome}, receipt pending`,
    };
  }
  return {
    outcome: 'failed',
    patch: { outcome: 'failed', anomalyCode: anomalyCode(failedAnomaly) },
    receipt: 'none',
    tally: 'closed',
    detail: 'never reached the host',
    text: 'closed: never reached the host',
  };
}
