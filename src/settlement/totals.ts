/**
 * A batch's totals from the journal, per currency: counts and amounts per kind, and the ISO 8583:1987 reconciliation
 * totals they make. Which side a kind counts on is in one table (a new kind, a completion, is one row); the amount
 * the journal counts is one SQL expression in the batch store (COUNTED_AMOUNT_SQL: where a tip column would join).
 * A reversed transaction counts nowhere: its reversal took it back at the host too, so both sides net it out; the
 * reversals are listed apart for the merchant.
 */
import { emptyReconciliationTotals, netSettlement, type ReconciliationTotals } from '../iso8583/index.js';
import type { Journal } from '../journal/index.js';
import type { TransactionKind } from '../vocabulary/index.js';

export type TotalsSide = 'debit' | 'credit' | 'debit-reversal' | 'credit-reversal';

/**
 * The side of the 1987 totals each kind counts on: a sale debits the cardholder, a void of a sale reverses it, a
 * completion (tip included) and a tip adjust debit as a sale does. A hold, its increment and its release move no
 * money: null, and the batch leaves them out (HOLD_KINDS).
 */
export const SIDE_OF_KIND: Readonly<Record<TransactionKind, TotalsSide | null>> = {
  sale: 'debit',
  refund: 'credit',
  void: 'debit-reversal',
  completion: 'debit',
  'tip-adjust': 'debit',
  preauth: null,
  'preauth-increment': null,
  'preauth-cancel': null,
};

export interface KindTotal {
  count: number;
  amount: number;
}

export interface CurrencyTotals {
  currency: string;
  byKind: Partial<Record<TransactionKind, KindTotal>>;
  /** Reversals the host acknowledged (not in the reconciliation totals: they net out). */
  reversals: KindTotal;
  /** Tips within the amounts above (sales, completions, tip adjusts), counted apart for the merchant's staff. */
  tips: KindTotal;
  reconciliation: ReconciliationTotals;
  /** Field 97: what the acquirer owes the merchant (negative: owed by the merchant), minor units. */
  net: number;
}

export interface BatchTotals {
  batchNumber: number;
  currencies: CurrencyTotals[];
}

function add(t: ReconciliationTotals, side: TotalsSide, count: number, amount: number): void {
  switch (side) {
    case 'debit':
      t.debitsNumber += count;
      t.debitsAmount += amount;
      break;
    case 'credit':
      t.creditsNumber += count;
      t.creditsAmount += amount;
      break;
    case 'debit-reversal':
      t.debitsReversalNumber += count;
      t.debitsReversalAmount += amount;
      break;
    case 'credit-reversal':
      t.creditsReversalNumber += count;
      t.creditsReversalAmount += amount;
      break;
  }
}

/**
 * The totals of batch `number`; an empty batch still settles, in `defaultCurrency` (the host closes its empty batch
 * too).
 */
export function computeBatchTotals(journal: Journal, number: number, defaultCurrency: string): BatchTotals {
  const byCurrency = new Map<string, CurrencyTotals>();
  const of = (currency: string): CurrencyTotals => {
    let c = byCurrency.get(currency);
    if (!c) {
      c = {
        currency,
        byKind: {},
        reversals: { count: 0, amount: 0 },
        tips: { count: 0, amount: 0 },
        reconciliation: emptyReconciliationTotals(),
        net: 0,
      };
      byCurrency.set(currency, c);
    }
    return c;
  };
  for (const line of journal.batches.lines(number)) {
    const c = of(line.currency);
    const k = c.byKind[line.kind] ?? { count: 0, amount: 0 };
    k.count += line.count;
    k.amount += line.amount;
    c.tips = { count: c.tips.count + line.tipped, amount: c.tips.amount + line.tips };
    c.byKind[line.kind] = k;
    const side = SIDE_OF_KIND[line.kind];
    if (side) add(c.reconciliation, side, line.count, line.amount);
  }
  for (const line of journal.batches.reversalLines(number)) {
    const c = of(line.currency);
    c.reversals = { count: line.count, amount: line.amount };
  }
  if (byCurrency.size === 0) of(defaultCurrency);
  const currencies = [...byCurrency.values()].sort((a, b) => a.currency.localeCompare(b.currency));
  for (const c of currencies) c.net = netSettlement(c.reconciliation);
  return { batchNumber: number, currencies };
}
