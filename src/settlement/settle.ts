/**
 * End of day: the open batch is settled with the host. First everything owed (reversals, advices) is forwarded: a
 * batch never closes with money owed, and when the host stays away the settlement waits (bounded tries on the
 * Clock) and says what is owed. Then one 0500 per currency with the batch's totals; 00 closes it, 95 (the host's
 * totals differ) uploads the batch (0320 per transaction, resumable) and settles again "after upload" (96). A
 * difference that remains is an anomaly with both totals side by side, and the batch stays open.
 *
 * While a settlement runs the command service refuses new sales ('busy'): the totals sent are the batch's totals.
 * A 0500 sent without an answer (none in time, or the terminal died before it committed one) may have closed the
 * batch at the host: the batch stays 'settling' and takes no new transaction until a settlement is answered, so the
 * next 0500 repeats the same totals, which a host that has closed the batch recognises.
 */
import type { Clock } from '../../hal/clock.js';
import type { PrintResult, ReceiptDocument } from '../../hal/printer/contract.js';
import type { AnomalyRecorder } from '../anomaly/recorder.js';
import { buildSettlementRequest, OUT_OF_BALANCE, type ReconciliationTotals, readTotals } from '../iso8583/index.js';
import type { BatchRow, Journal } from '../journal/index.js';
import { buildSettlementReceipt } from '../receipt/settlement-receipt.js';
import type { MerchantInfo } from '../receipt/receipt.js';
import type { Logger } from '../util/log.js';
import { pause, type SettlementLink } from './link.js';
import { type BatchTotals, computeBatchTotals } from './totals.js';
import { uploadBatch } from './upload.js';

export type SettlementErrorCode = 'busy' | 'host-unavailable' | 'money-owed' | 'out-of-balance' | 'host-refused';

/** What is still owed to the host, by kind; set aside: refused by the host for good, waiting for support. */
export interface OwedCounts {
  reversals: number;
  advices: number;
  setAsideReversals: number;
  setAsideAdvices: number;
}

export interface SettlementSummary {
  batchNumber: number;
  closedAt: number;
  totals: BatchTotals;
  /** Transactions uploaded in this run (0 when the host agreed at once). */
  uploaded: number;
  afterUpload: boolean;
  receipt: 'printed' | 'failed' | 'none';
}

export type SettlementOutcome =
  | { ok: true; value: SettlementSummary }
  | { ok: false; error: SettlementErrorCode; message: string; batchNumber: number; owed?: OwedCounts };

/** The host's word on one currency of the batch, kept in the batch's host_answer. */
interface CurrencyAnswer {
  responseCode: string;
  afterUpload: boolean;
  hostTotals?: ReconciliationTotals;
}

export interface SettlementDeps {
  journal: Journal;
  link: SettlementLink;
  forwarder: { drain(options?: { ignoreBackoff?: boolean }): Promise<unknown> };
  clock: Clock;
  log: Logger;
  anomalies: AnomalyRecorder;
  defaultCurrency: string;
  /** Drains of what is owed before the settlement gives up for now, and the pause between two. */
  owedAttempts: number;
  retryDelayMs: number;
  merchant: MerchantInfo;
  print?: (doc: ReceiptDocument) => Promise<PrintResult>;
}

export class SettlementService {
  private active = false;

  constructor(private readonly deps: SettlementDeps) {}

  /** A settlement is running: new sales wait for it. */
  running(): boolean {
    return this.active;
  }

  /** The last settlement request of the batch may be at the host unanswered: new sales wait for a settlement. */
  awaitingAnswer(): boolean {
    return !this.active && this.deps.journal.batches.current().state === 'settling';
  }

  /** What the terminal still owes the host now. */
  owed(): OwedCounts {
    const { journal } = this.deps;
    const setAside = journal.setAsideTotals();
    return {
      reversals: journal.reversals.pending().length + journal.reversals.armed().length,
      advices: journal.saf.stats().count,
      setAsideReversals: setAside.reversals.count,
      setAsideAdvices: setAside.advices.count,
    };
  }

  async settle(): Promise<SettlementOutcome> {
    const { journal } = this.deps;
    const batch = journal.batches.current();
    if (this.active)
      return { ok: false, error: 'busy', message: 'a settlement is already running', batchNumber: batch.number };
    if (journal.transactions.inFlight().length > 0)
      return { ok: false, error: 'busy', message: 'a transaction is in progress', batchNumber: batch.number };
    this.active = true;
    try {
      return await this.run(batch);
    } finally {
      this.active = false;
    }
  }

  private fail(
    batch: BatchRow,
    error: SettlementErrorCode,
    message: string,
    extra: { owed?: OwedCounts; keepState?: boolean } = {},
  ): SettlementOutcome {
    const { journal, log } = this.deps;
    // An upload under way stays so: the next settlement goes on with it.
    const state = extra.keepState ? journal.batches.get(batch.number)!.state : 'open';
    journal.batches.setState(batch.number, state === 'closed' ? 'open' : state, { reason: message });
    log.warn({ batch: batch.number, error }, `settlement of batch ${batch.number} not done: ${message}`);
    return {
      ok: false,
      error,
      message,
      batchNumber: batch.number,
      ...(extra.owed ? { owed: extra.owed } : {}),
    };
  }

  private async run(batch: BatchRow): Promise<SettlementOutcome> {
    const { journal, forwarder, clock } = this.deps;
    const resumedUpload = batch.state === 'uploading';
    // Left settling by an earlier run: its 0500 may be at the host, so the batch stays frozen if this run stops early.
    const unanswered = batch.state === 'settling';
    if (!resumedUpload) journal.batches.setState(batch.number, 'settling');

    // Nothing owed may stay behind: forward, wait, forward again, a bounded number of times.
    let owed = this.owed();
    for (let attempt = 1; owed.reversals + owed.advices > 0 && attempt <= this.deps.owedAttempts; attempt++) {
      if (attempt > 1) await pause(clock, this.deps.retryDelayMs);
      await forwarder.drain({ ignoreBackoff: true });
      owed = this.owed();
    }
    if (owed.reversals + owed.advices > 0)
      return this.fail(batch, 'host-unavailable', `waiting for the host: ${describeOwed(owed)}`, {
        owed,
        keepState: resumedUpload || unanswered,
      });
    if (owed.setAsideReversals + owed.setAsideAdvices > 0)
      return this.fail(
        batch,
        'money-owed',
        `the host refused for good ${describeOwed(owed)}: support must resolve them before the batch can close`,
        { owed, keepState: resumedUpload || unanswered },
      );

    const answers: Record<string, CurrencyAnswer> = { ...answersOf(batch.hostAnswer) };
    let uploaded = 0;
    let afterUpload = resumedUpload;
    if (resumedUpload) {
      const up = await uploadBatch(journal, this.deps.link, batch.number, { resumed: true });
      uploaded += up.sent;
      if (!up.done)
        return this.fail(batch, 'host-unavailable', `batch upload stopped: ${up.reason}`, { keepState: true });
    }

    for (let round = 0; round < 2; round++) {
      const totals = computeBatchTotals(journal, batch.number, this.deps.defaultCurrency);
      let disagreed = false;
      for (const c of totals.currencies) {
        if (answers[c.currency]?.responseCode === '00') continue;
        const answer = await this.deps.link.exchange((now) =>
          buildSettlementRequest({
            stan: journal.counters.nextStan(),
            terminalId: this.deps.link.terminalId,
            merchantId: this.deps.link.merchantId,
            transmittedAt: now,
            batchNumber: batch.number,
            currency: c.currency,
            totals: c.reconciliation,
            afterUpload,
          }),
        );
        journal.batches.setState(batch.number, afterUpload ? 'uploading' : 'settling', { attempt: true });
        // Sent without an answer: the host may have taken it (and closed the batch), so the batch stays as it is.
        if (!answer.ok)
          return this.fail(batch, 'host-unavailable', answer.reason, { keepState: afterUpload || answer.sent });
        let hostTotals: ReconciliationTotals | undefined;
        try {
          hostTotals = readTotals(answer.message);
        } catch {
          hostTotals = undefined;
        }
        answers[c.currency] = {
          responseCode: answer.responseCode,
          afterUpload,
          ...(hostTotals ? { hostTotals } : {}),
        };
        journal.batches.setState(batch.number, afterUpload ? 'uploading' : 'settling', {
          totals,
          hostAnswer: answers,
        });
        if (answer.success) continue;
        if (answer.responseCode !== OUT_OF_BALANCE)
          return this.fail(batch, 'host-refused', `the host answered ${answer.responseCode} to the settlement`);
        disagreed = true;
        if (afterUpload) return this.outOfBalance(batch, c.currency, c.reconciliation, hostTotals);
      }
      if (!disagreed) return this.closed(batch, totals, answers, uploaded, afterUpload);
      // The host's totals differ: it gets every transaction of the batch, then the totals again.
      journal.batches.setState(batch.number, 'uploading');
      afterUpload = true;
      const up = await uploadBatch(journal, this.deps.link, batch.number, { resumed: false });
      uploaded += up.sent;
      if (!up.done)
        return this.fail(batch, 'host-unavailable', `batch upload stopped: ${up.reason}`, { keepState: true });
    }
    return this.fail(batch, 'out-of-balance', 'the host still disagrees after the upload');
  }

  private outOfBalance(
    batch: BatchRow,
    currency: string,
    terminal: ReconciliationTotals,
    host: ReconciliationTotals | undefined,
  ): SettlementOutcome {
    const reason = `batch ${batch.number} currency ${currency}: the host's totals differ after the upload`;
    this.deps.anomalies.raise(
      'settlement-out-of-balance',
      { reason, currency, detail: { batchNumber: batch.number, terminal, host: host ?? 'not given by the host' } },
      { show: false },
    );
    return this.fail(batch, 'out-of-balance', `${reason} (${sideBySide(terminal, host)})`);
  }

  private async closed(
    batch: BatchRow,
    totals: BatchTotals,
    answers: Record<string, CurrencyAnswer>,
    uploaded: number,
    afterUpload: boolean,
  ): Promise<SettlementOutcome> {
    const { journal, clock, log } = this.deps;
    const row = journal.batches.close(batch.number, totals, answers);
    const closedAt = row.closedAt ?? clock.now();
    log.info({ batch: batch.number, uploaded }, `batch ${batch.number} settled`);
    let receipt: SettlementSummary['receipt'] = 'none';
    if (this.deps.print) {
      try {
        await this.deps.print(buildSettlementReceipt(totals, this.deps.merchant, new Date(closedAt), afterUpload));
        receipt = 'printed';
      } catch (err) {
        receipt = 'failed';
        log.warn({ err }, 'settlement receipt not printed');
      }
    }
    return { ok: true, value: { batchNumber: batch.number, closedAt, totals, uploaded, afterUpload, receipt } };
  }
}

function answersOf(value: unknown): Record<string, CurrencyAnswer> {
  return value !== null && typeof value === 'object' ? (value as Record<string, CurrencyAnswer>) : {};
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function describeOwed(o: OwedCounts): string {
  const parts = [
    ...(o.reversals ? [plural(o.reversals, 'reversal')] : []),
    ...(o.advices ? [plural(o.advices, 'advice')] : []),
    ...(o.setAsideReversals ? [`${plural(o.setAsideReversals, 'reversal')} set aside`] : []),
    ...(o.setAsideAdvices ? [`${plural(o.setAsideAdvices, 'advice')} set aside`] : []),
  ];
  return parts.length ? `${parts.join(', ')} owed` : 'nothing owed';
}

function sideBySide(t: ReconciliationTotals, h: ReconciliationTotals | undefined): string {
  const f = (x: ReconciliationTotals) =>
    `debits ${x.debitsNumber}/${x.debitsAmount}, debit reversals ${x.debitsReversalNumber}/${x.debitsReversalAmount}, credits ${x.creditsNumber}/${x.creditsAmount}, credit reversals ${x.creditsReversalNumber}/${x.creditsReversalAmount}`;
  return `terminal: ${f(t)}; host: ${h ? f(h) : 'not given'}`;
}
