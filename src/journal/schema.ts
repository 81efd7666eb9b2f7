/**
 * The journal's data contract: the rows it holds, the words they use and the error type. The SQL that makes the
 * tables is in migrations/.
 */
import type { ReceiptStatus, TransactionKind, TransactionOutcome } from '../vocabulary/index.js';

// The transaction words belong to the vocabulary; the journal's stores validate rows against them from here.
export {
  RECEIPT_STATUSES,
  TRANSACTION_KINDS,
  TRANSACTION_OUTCOMES,
  type ReceiptStatus,
  type TransactionKind,
  type TransactionOutcome,
} from '../vocabulary/index.js';

export interface TransactionRow {
  id: number;
  txnRef: string;
  kind: TransactionKind;
  state: string;
  outcome: TransactionOutcome | null;
  /** Integer minor units. */
  amount: number;
  /** ISO 4217 numeric code. */
  currency: string;
  stan: number | null;
  maskedPan: string | null;
  entryMode: string | null;
  responseCode: string | null;
  approvalCode: string | null;
  rrn: string | null;
  anomalyCode: string | null;
  originalStan: number | null;
  receiptStatus: ReceiptStatus;
  ecrRequestId: string | null;
  /** MTI of the request that carried it to the host (0200, or 0220 for an offline approval); what a void's field 90 names. */
  requestMti: string | null;
  /** Field 7 of that request, ms since the epoch: what a void's field 90 names. */
  transmittedAt: number | null;
  /** The part of `amount` that is a tip (0 without one): totals carry tips apart. */
  tipAmount: number;
  /** Milliseconds since the epoch (UTC). */
  createdAt: number;
  updatedAt: number;
  /** The settlement batch it belongs to: the one not yet closed when it began. */
  batchNumber?: number | null;
}

/** `amount` changes only when the host approved less than asked (a partial approval the register accepted). */
export type TransactionPatch = Partial<
  Pick<
    TransactionRow,
    | 'amount'
    | 'stan'
    | 'maskedPan'
    | 'entryMode'
    | 'responseCode'
    | 'approvalCode'
    | 'rrn'
    | 'outcome'
    | 'anomalyCode'
    | 'receiptStatus'
    | 'tipAmount'
  >
>;

export const PATCH_FIELDS = [
  'amount',
  'stan',
  'maskedPan',
  'entryMode',
  'responseCode',
  'approvalCode',
  'rrn',
  'outcome',
  'anomalyCode',
  'receiptStatus',
  'tipAmount',
] as const;

export interface AnomalyRow {
  id: number;
  at: number;
  code: string;
  class: string;
  severity: string;
  message: string;
  txnRef: string | null;
  stan: number | null;
  amount: number | null;
  currency: string | null;
  maskedPan: string | null;
  detail: Record<string, unknown> | null;
}

export interface TransactionEventRow {
  id: number;
  txnRef: string;
  at: number;
  state: string;
  detail: Record<string, unknown> | null;
  /** The patch applied with this state change, if any: which facts became known when. */
  changes: TransactionPatch | null;
}

export type ReversalState = 'armed' | 'pending' | 'acknowledged' | 'cleared';
export const REVERSAL_STATES: readonly ReversalState[] = ['armed', 'pending', 'acknowledged', 'cleared'];

/**
 * A pre-stored reversal, committed before its authorization request leaves the terminal.
 * armed: the request may be on its way; pending: the host may hold it, so a reversal is owed;
 * acknowledged: the host answered the reversal; cleared: no reversal is needed (answered, or never sent).
 */
export interface ReversalRow {
  id: number;
  txnRef: string;
  stan: number;
  originalMti: string;
  processingCode: string;
  amount: number;
  currency: string;
  /** Milliseconds since the epoch of the original request (field 90 of the reversal). */
  transmittedAt: number;
  terminalId: string;
  merchantId: string;
  maskedPan: string | null;
  /** Field 22 of the original, repeated in the reversal; null on rows armed before it was kept. */
  posEntryMode: string | null;
  /** Fields 32/33 of the original (also in field 90); null when not configured. */
  acquiringInstitutionId: string | null;
  forwardingInstitutionId: string | null;
  /** PAN and expiry sealed by the card vault for fields 2/14; erased once the reversal settles. Never track data. */
  cardBlob: Buffer | null;
  /** Field 39 of the reversal: why it is sent (see REVERSAL_REASON); set when it becomes owed. */
  reasonCode: string | null;
  state: ReversalState;
  attempts: number;
  /** When the forwarder should try again; null means no attempt is scheduled (due now). */
  nextAttemptAt: number | null;
  reason: string | null;
  /**
   * Acknowledged or set aside: the host's answer to the reversal. Still armed or pending: the host's answer to the
   * original when it gave one the terminal could not take (an untrusted answer, a partial approval the register
   * declined); null when the original went unanswered.
   */
  responseCode: string | null;
  createdAt: number;
  updatedAt: number;
}

/** cancelled: a void of the offline sale came before its advice ever left, so neither goes to the host. */
export type SafState = 'queued' | 'forwarded' | 'set-aside' | 'cancelled';
export const SAF_STATES: readonly SafState[] = ['queued', 'forwarded', 'set-aside', 'cancelled'];

/** A pending reversal the host refused for good (see durability/answer-policy.ts): still owed, no longer sent. */
export interface ReversalSetAsideRow {
  reversalId: number;
  txnRef: string;
  stan: number;
  amount: number;
  currency: string;
  maskedPan: string | null;
  responseCode: string;
  reason: string;
  at: number;
}

/** An offline approval waiting to be sent to the host as an advice; `id` is the forwarding order. */
export interface SafRow {
  id: number;
  txnRef: string;
  stan: number;
  processingCode: string;
  amount: number;
  currency: string;
  approvalCode: string;
  entryMode: string;
  maskedPan: string;
  transmittedAt: number;
  terminalId: string;
  merchantId: string;
  /** Field 22 as decided at the sale (PIN capability included); null on rows queued before it was kept. */
  posEntryMode: string | null;
  acquiringInstitutionId: string | null;
  forwardingInstitutionId: string | null;
  /** Card data sealed by the card vault; null once the host has the advice (or rejected it). */
  cardBlob: Buffer | null;
  state: SafState;
  attempts: number;
  nextAttemptAt: number | null;
  responseCode: string | null;
  reason: string | null;
  createdAt: number;
  updatedAt: number;
}

export type OutboxKind = 'birth' | 'state' | 'health' | 'event' | 'cmd-result';
export const OUTBOX_KINDS: readonly OutboxKind[] = ['birth', 'state', 'health', 'event', 'cmd-result'];

/** A telemetry message waiting for the broker; `id` is the sending order. */
export interface OutboxRow {
  id: number;
  kind: OutboxKind;
  topic: string;
  payload: Buffer;
  retain: boolean;
  bootId: string;
  seq: number;
  createdAt: number;
}

export type JournalErrorCode =
  | 'unknown-transaction'
  | 'card-data-refused'
  | 'storage-fault'
  | 'duplicate-reference'
  /** A value the schema cannot hold (negative amount, unknown kind, STAN out of range...). */
  | 'invalid-record';

export class JournalError extends Error {
  override readonly name = 'JournalError';
  /** SQLite extended result code (SQLITE_FULL, SQLITE_READONLY, SQLITE_IOERR_...) for storage faults. */
  readonly sqliteCode: string | undefined;

  constructor(
    readonly code: JournalErrorCode,
    message: string,
    options: { cause?: unknown; sqliteCode?: string } = {},
  ) {
    super(message, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.sqliteCode = options.sqliteCode;
  }
}
