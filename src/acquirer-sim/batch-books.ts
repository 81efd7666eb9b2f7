/**
 * The host's batch per terminal: what it approved and did not see reversed since the terminal's last settlement, by
 * STAN, and its answer to a 0500 (agree, or 95 with its own totals) and to each 0320 of a batch upload. It can be
 * told to disagree (once, or always) or to lose one approved STAN from its totals, which an upload restores: the
 * upload names a STAN the host approved, so the host takes it back into the batch from its own records.
 */
import {
  buildResponse,
  emptyReconciliationTotals,
  type IsoMessage,
  OUT_OF_BALANCE,
  readBatchNumber,
  readTotals,
  type ReconciliationTotals,
  sameTotals,
  totalsFields,
} from '../iso8583/index.js';
import type { Processed } from './books.js';
import { type FinancialKind, text } from './messages.js';

/** How the host settles when told: agree when the totals match, disagree once or always, lose a STAN. */
export interface SettlementBehaviour {
  disagree: 'never' | 'once' | 'always';
}

/** One approved item in a terminal's open batch. */
export interface BatchItem {
  stan: string;
  kind: FinancialKind;
  /** For a void: the kind of what it voided (a void of a sale is a debit reversal). */
  voidOf?: FinancialKind;
  amount: number;
  currency: string;
}

/** What the host answered to one settlement request, for tests that read it. */
export interface SettlementRecord {
  terminalId: string;
  batchNumber: number | undefined;
  currency: string;
  afterUpload: boolean;
  responseCode: string;
  terminalTotals: ReconciliationTotals | undefined;
  hostTotals: ReconciliationTotals;
}

/** The side of the 1987 totals an item counts on (a new kind is one more row here). */
export function addToTotals(t: ReconciliationTotals, item: Pick<BatchItem, 'kind' | 'voidOf' | 'amount'>): void {
  const kind = item.kind === 'void' ? `void-${item.voidOf ?? 'sale'}` : item.kind;
  switch (kind) {
    case 'sale':
      t.debitsNumber += 1;
      t.debitsAmount += item.amount;
      break;
    case 'refund':
      t.creditsNumber += 1;
      t.creditsAmount += item.amount;
      break;
    case 'void-sale':
      t.debitsReversalNumber += 1;
      t.debitsReversalAmount += item.amount;
      break;
    default:
      t.creditsReversalNumber += 1;
      t.creditsReversalAmount += item.amount;
  }
}

interface TerminalBatch {
  items: Map<string, BatchItem>;
  /** Approved but forgotten from the totals (told to lose them): what an upload restores. */
  lost: Map<string, BatchItem>;
  /** The last batch the host agreed to, so a repeated 0500 for it (a terminal that crashed before it closed) agrees. */
  lastClosed?: { batchNumber: number | undefined; key: string };
  uploads: number;
}

export class HostBatchBooks {
  private readonly terminals = new Map<string, TerminalBatch>();
  private behaviour: SettlementBehaviour = { disagree: 'never' };
  private loseNext = 0;
  readonly settlements: SettlementRecord[] = [];

  setBehaviour(b: Partial<SettlementBehaviour>): void {
    this.behaviour = { ...this.behaviour, ...b };
  }

  /** Forget the next `count` approved sales from the batch totals (kept in the books, so an upload restores them). */
  loseNextApproved(count = 1): void {
    this.loseNext += count;
  }

  /** Forget one approved STAN already in the batch; false when there is none such. */
  lose(terminalId: string, stan: number): boolean {
    const batch = this.batch(terminalId);
    const key = String(stan).padStart(6, '0');
    const item = batch.items.get(key);
    if (!item) return false;
    batch.items.delete(key);
    batch.lost.set(key, item);
    return true;
  }

  private batch(terminalId: string): TerminalBatch {
    let b = this.terminals.get(terminalId);
    if (!b) {
      b = { items: new Map(), lost: new Map(), uploads: 0 };
      this.terminals.set(terminalId, b);
    }
    return b;
  }

  /** The host's own totals of a terminal's open batch, per currency. */
  totals(terminalId: string): Map<string, ReconciliationTotals> {
    const out = new Map<string, ReconciliationTotals>();
    for (const item of this.batch(terminalId).items.values()) {
      let t = out.get(item.currency);
      if (!t) {
        t = emptyReconciliationTotals();
        out.set(item.currency, t);
      }
      addToTotals(t, item);
    }
    return out;
  }

  /** The terminals the host keeps a batch for. */
  terminalIds(): string[] {
    return [...this.terminals.keys()];
  }

  /** Approved STANs of a terminal's batch that the host was told to forget and no upload has restored yet. */
  lostCount(terminalId: string): number {
    return this.batch(terminalId).lost.size;
  }

  /** Transactions uploaded (0320 taken, repeats not counted) for a terminal since its last settlement. */
  uploads(terminalId: string): number {
    return this.batch(terminalId).uploads;
  }

  /** An approved financial request or advice joins the batch; `voided` is the original a void cancelled. */
  approved(terminalId: string, request: IsoMessage, processed: Processed, voided: Processed | undefined): void {
    const stan = text(request, 11) ?? '';
    const kind = processed.kind ?? 'sale';
    const item: BatchItem = {
      stan,
      kind,
      ...(kind === 'void' ? { voidOf: voided?.kind ?? 'sale' } : {}),
      amount: processed.moved,
      currency: text(request, 49) ?? '',
    };
    const batch = this.batch(terminalId);
    if (this.loseNext > 0 && kind === 'sale') {
      this.loseNext -= 1;
      batch.lost.set(stan, item);
      return;
    }
    batch.items.set(stan, item);
  }

  /** A reversal took an original back: it leaves the batch (whether counted or lost). */
  reversed(terminalId: string, originalStan: string): void {
    const batch = this.batch(terminalId);
    batch.items.delete(originalStan);
    batch.lost.delete(originalStan);
  }

  /** A 0320/0321: the host restores a STAN it approved and lost; it never adds one it did not approve. */
  upload(terminalId: string, request: IsoMessage): IsoMessage {
    const batch = this.batch(terminalId);
    const stan = text(request, 11) ?? '';
    batch.uploads += 1;
    const lost = batch.lost.get(stan);
    if (lost) {
      batch.lost.delete(stan);
      batch.items.set(stan, lost);
    }
    return buildResponse(request, { responseCode: '00' });
  }

  /** A 0500: agree (00, the batch closes and a new one starts) or 95 with the host's totals in the answer. */
  settle(terminalId: string, request: IsoMessage): IsoMessage {
    const batch = this.batch(terminalId);
    const currency = text(request, 50) ?? '';
    const batchNumber = readBatchNumber(request);
    const afterUpload = text(request, 3)?.startsWith('96') === true;
    let theirs: ReconciliationTotals | undefined;
    try {
      theirs = readTotals(request);
    } catch {
      theirs = undefined;
    }
    const ours = this.totals(terminalId).get(currency) ?? emptyReconciliationTotals();
    const key = `${currency}/${JSON.stringify(theirs)}`;
    const repeatOfClosed =
      batch.lastClosed !== undefined && batch.lastClosed.batchNumber === batchNumber && batch.lastClosed.key === key;
    let agree = repeatOfClosed || (theirs !== undefined && sameTotals(theirs, ours));
    // Told to disagree: the next settlement request (once) or every one (always) is answered 95 whatever it says.
    const told = this.behaviour.disagree;
    if (told === 'once') this.behaviour = { disagree: 'never' };
    if (told !== 'never' && !repeatOfClosed) agree = false;
    const responseCode = agree ? '00' : theirs === undefined ? '30' : OUT_OF_BALANCE;
    const response = buildResponse(request, { responseCode });
    // The host's own totals go back in the answer, so the terminal can show both side by side.
    Object.assign(response.fields, totalsFields(repeatOfClosed && theirs ? theirs : ours));
    response.fields[50] = currency;
    this.settlements.push({
      terminalId,
      batchNumber,
      currency,
      afterUpload,
      responseCode,
      terminalTotals: theirs,
      hostTotals: ours,
    });
    if (agree && !repeatOfClosed) {
      // This currency is settled: its items leave the batch (a terminal settles each currency in turn).
      for (const [stan, item] of batch.items) if (item.currency === currency) batch.items.delete(stan);
      for (const [stan, item] of batch.lost) if (item.currency === currency) batch.lost.delete(stan);
      batch.lastClosed = { batchNumber, key };
      batch.uploads = 0;
    }
    return response;
  }
}
