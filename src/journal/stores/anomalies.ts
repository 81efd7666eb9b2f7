/** Anomalies: what went wrong, kept apart from the transactions (one may concern a transaction that never started). */
import type Database from 'better-sqlite3';
import { assertMaskedPan, assertNoCardData } from '../card-data-guard.js';
import { checkAmount, checkCurrency, checkStan, checkText, limitParam, parseJson, serializeDetail } from '../checks.js';
import type { AnomalyRow } from '../schema.js';
import { Store, type Stmt } from './store.js';

export interface AnomalyInput {
  code: string;
  class: string;
  severity: string;
  message: string;
  txnRef?: string;
  stan?: number;
  amount?: number;
  currency?: string;
  maskedPan?: string;
  detail?: Record<string, unknown>;
}

export interface AnomalyFilter {
  from?: number;
  to?: number;
  code?: string;
  class?: string;
  limit?: number;
}

const ANOMALY_COLUMNS = `id, at, code, class, severity, message, txn_ref AS txnRef, stan, amount, currency,
  masked_pan AS maskedPan, detail`;

type RawAnomaly = Omit<AnomalyRow, 'detail'> & { detail: string | null };

export class AnomalyStore extends Store {
  private readonly insert: Stmt;
  private readonly select: Stmt;
  private readonly tx: Database.Transaction<(a: AnomalyInput, detail: string | null) => AnomalyRow>;

  constructor(db: Database.Database, now: () => number) {
    super(db, now);
    this.insert =
      db.prepare(`INSERT INTO anomalies (at, code, class, severity, message, txn_ref, stan, amount, currency, masked_pan, detail)
        VALUES (@at, @code, @class, @severity, @message, @txnRef, @stan, @amount, @currency, @maskedPan, @detail) RETURNING ${ANOMALY_COLUMNS}`);
    this.select = db.prepare(`SELECT * FROM (SELECT ${ANOMALY_COLUMNS} FROM anomalies
        WHERE (@from IS NULL OR at >= @from) AND (@to IS NULL OR at < @to)
          AND (@code IS NULL OR code = @code) AND (@class IS NULL OR class = @class)
        ORDER BY id DESC LIMIT @limit) ORDER BY id`);
    this.tx = db.transaction((a: AnomalyInput, detail: string | null) => {
      const raw = this.insert.get({
        at: this.now(),
        code: a.code,
        class: a.class,
        severity: a.severity,
        message: a.message,
        txnRef: a.txnRef ?? null,
        stan: a.stan ?? null,
        amount: a.amount ?? null,
        currency: a.currency ?? null,
        maskedPan: a.maskedPan ?? null,
        detail,
      }) as RawAnomaly;
      return { ...raw, detail: parseJson<Record<string, unknown>>(raw.detail) };
    });
  }

  record(a: AnomalyInput): AnomalyRow {
    return this.run(`record anomaly ${String(a.code)}`, () => {
      checkText(a.code, 'code', 20);
      checkText(a.class, 'class', 40);
      checkText(a.severity, 'severity', 20);
      checkText(a.message, 'message', 1000);
      if (a.txnRef !== undefined) checkText(a.txnRef, 'txnRef', 100);
      if (a.stan !== undefined) checkStan(a.stan, 'stan');
      if (a.amount !== undefined) checkAmount(a.amount, 'amount');
      if (a.currency !== undefined) checkCurrency(a.currency, 'currency');
      if (a.maskedPan !== undefined && a.maskedPan !== '') assertMaskedPan(a.maskedPan, 'maskedPan');
      const input = a.maskedPan === '' ? { ...a, maskedPan: undefined } : a;
      const detail = serializeDetail(a.detail, 'detail');
      assertNoCardData({ ...input, detail: undefined }, 'anomaly');
      return this.tx.immediate(input, detail);
    });
  }

  list(filter: AnomalyFilter = {}): AnomalyRow[] {
    return this.run('list anomalies', () =>
      (
        this.select.all({
          from: filter.from ?? null,
          to: filter.to ?? null,
          code: filter.code ?? null,
          class: filter.class ?? null,
          limit: limitParam(filter.limit),
        }) as RawAnomaly[]
      ).map((r) => ({ ...r, detail: parseJson<Record<string, unknown>>(r.detail) })),
    );
  }
}
