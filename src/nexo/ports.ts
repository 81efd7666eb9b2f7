/**
 * What the nexo front end needs of the terminal, as narrow structural types: the composition root hands in the one
 * command service and the journal (src/app is never imported from here). The names mirror src/app/commands.ts.
 */
import type { Locale } from '../i18n/index.js';
import type { Clock } from '../../hal/clock.js';

/** A supervisor PIN as the register gave it (checked and counted by the command service). */
export interface NexoRights {
  pin: string | undefined;
}

export type NexoCommand =
  | { kind: 'sale'; amount: number; currency?: string; requestId?: string }
  | { kind: 'refund'; amount: number; currency?: string; rights: NexoRights; requestId?: string }
  | { kind: 'void'; stan: number; rights: NexoRights; requestId?: string }
  | { kind: 'cancel' }
  | { kind: 'status' }
  | { kind: 'selftest' }
  | { kind: 'display'; lines: string[]; minimumDisplayMs?: number }
  | { kind: 'print'; document: NexoPrintDocument };

/** A document for the receipt printer (the HAL's ReceiptDocument fits it). */
export interface NexoPrintDocument {
  lines: Array<{
    text: string;
    align?: 'left' | 'center' | 'right';
    bold?: boolean;
    doubleHeight?: boolean;
    doubleWidth?: boolean;
  }>;
  barcode?: { kind: 'code128' | 'qr'; data: string };
  cut: boolean;
}

/** A transaction's answer, the fields the nexo responses use. */
export interface NexoTransactionAnswer {
  outcome: string;
  txnRef: string;
  kind: string;
  amount: number;
  currency: string;
  anomaly?: { code: string; name: string; message: string };
}

export interface NexoCheckResult {
  component: string;
  status: string;
  code: string;
  detail: string;
}

export interface NexoSelfTest {
  results: NexoCheckResult[];
  state: string;
}

export interface NexoStatus {
  state: string;
  hostUp: boolean;
  transaction?: { txnRef: string };
}

export type NexoCommandResult =
  | { ok: true; value: unknown }
  | { ok: false; error: string; message: string; field?: string };

export interface NexoCaller {
  client: string;
}

/** The command service (src/app/commands.ts CommandService fits it). */
export interface NexoCommands {
  run(request: NexoCommand, caller: NexoCaller): Promise<NexoCommandResult>;
}

/** A journaled transaction, the fields the nexo responses use (src/journal TransactionRow fits it). */
export interface NexoTransactionRecord {
  txnRef: string;
  kind: string;
  outcome: string | null;
  amount: number;
  currency: string;
  stan: number | null;
  maskedPan: string | null;
  entryMode: string | null;
  responseCode: string | null;
  approvalCode: string | null;
  rrn: string | null;
  anomalyCode: string | null;
  originalStan: number | null;
  ecrRequestId: string | null;
  createdAt: number;
}

/** Read-only look-ups in the journal (src/journal Journal fits it). */
export interface NexoJournal {
  transactions: {
    get(txnRef: string): NexoTransactionRecord | undefined;
    findByEcrRequestId(id: string): NexoTransactionRecord | undefined;
  };
}

/** Journals bad input (src/anomaly AnomalyRecorder fits it). */
export interface NexoAnomalies {
  raise(name: 'invalid-input' | 'system-fault', context: { reason?: string }, options: { show?: boolean }): unknown;
}

export interface NexoHandlerDeps {
  commands: NexoCommands;
  journal: NexoJournal;
  anomalies: NexoAnomalies;
  clock: Pick<Clock, 'now'>;
  /** The POIID this terminal answers as (default the terminal id). */
  poiId: string;
  /** ISO 4217 numeric, as the configuration has it: the currency of a payment that names none. */
  defaultCurrency: string;
  /** For PaymentAcquirerData.MerchantID. */
  merchantId?: string;
  /** The language and time zone of the receipts returned (`terminal.language`, `terminal.timeZone`). */
  locale?: Locale;
}
