/** The command service's vocabulary: what a front end may ask, how each answer and refusal reads. */
import type { JournalCounts } from '../journal/index.js';
import type { SettlementSummary } from '../settlement/settle.js';
import type { CheckStatus, SelfTestReport } from '../selftest/selftest.js';
import type { ExternalCheck, HealthLevel, OperatorAnswer } from '../selftest/health-levels.js';
import type { PrintResult, ReceiptDocument } from '../../hal/printer/contract.js';
import type { RegisterText } from '../terminal/register-output.js';
import type { TerminalStatus } from '../terminal/terminal.js';
import type { ReceiptStatus, TransactionKind, TransactionOutcome } from '../vocabulary/index.js';
import type { HospitalityCommand } from './preauth-commands.js';

/**
 * Who vouches for a supervised operation: a supervisor PIN (checked, wrong ones counted towards a lockout), or the
 * fleet, whose allow-list of commands already decided.
 */
export type Rights = { pin: string | undefined } | { fleet: true };

export type CommandRequest =
  /** `requestId`: the front end's id of the request (an ECR id); a repeat of it is answered from the journal. */
  /** `tip`: added to `amount`, and journaled apart (the card pays both). */
  | { kind: 'sale'; amount: number; currency?: string; tip?: number; requestId?: string }
  | HospitalityCommand
  | { kind: 'refund'; amount: number; currency?: string; rights: Rights; requestId?: string }
  /** Void the approved sale with this STAN. */
  | { kind: 'void'; stan: number; rights: Rights; requestId?: string }
  | { kind: 'cancel' }
  | { kind: 'confirm' }
  | { kind: 'status' }
  /** The last receipt, or the one of this STAN. */
  | { kind: 'reprint'; stan?: number }
  /** The slip of the latest anomaly, or of the latest with this code. */
  | { kind: 'slip'; code?: string }
  /** Open the cash drawer without a sale (journaled as E410); refused when no drawer is configured. */
  | { kind: 'drawer.open' }
  | { kind: 'unlock'; rights: Rights }
  /** The self-test (internal), or with a test page and the reader asked (external), then the operator's word (interactive). */
  | { kind: 'selftest'; level?: HealthLevel }
  /** The operator's answer to the interactive health check's question. */
  | { kind: 'selftest.answer'; answer: OperatorAnswer }
  /** The register's text on the terminal's display, while no transaction runs. */
  | ({ kind: 'display' } & RegisterText)
  /** The register's document on the receipt printer, while no transaction runs. */
  | { kind: 'print'; document: ReceiptDocument }
  /** End of day: settle the open batch with the host. */
  | { kind: 'settle' };

export type CommandKind = CommandRequest['kind'];

export type CommandErrorCode =
  | 'busy'
  | 'not-allowed'
  | 'unauthorized'
  | 'no-transaction'
  | 'not-found'
  | 'device-fault'
  | 'invalid-request'
  /** A settlement that could not finish: the host away, money owed, totals that differ, a refusal. */
  | 'host-unavailable'
  | 'money-owed'
  | 'out-of-balance'
  | 'host-refused'
  /** A completion (or tip adjust) of something already completed: refused, never made twice. */
  | 'duplicate';

export interface CommandFailure {
  ok: false;
  error: CommandErrorCode;
  message: string;
  /** The request field at fault, when one is. */
  field?: string;
}

/** A transaction's result as every front end reports it; `replayed` when it comes from the journal for a repeat. */
export interface TransactionAnswer {
  replayed?: true;
  outcome: TransactionOutcome;
  txnRef: string;
  kind: TransactionKind;
  amount: number;
  currency: string;
  receipt: ReceiptStatus;
  stan?: number;
  responseCode?: string;
  responseText?: string | undefined;
  approvalCode?: string;
  requestedAmount?: number;
  approvedAmount?: number | undefined;
  maskedPan?: string;
  entryMode?: string;
  anomaly?: { code: string; name: string; message: string };
  /** The part of `amount` that is a tip. */
  tip?: number;
  /** An approved pre-authorization: what the register completes, increments or cancels it by. */
  preauthId?: string;
}

export interface CommandValues {
  sale: TransactionAnswer;
  refund: TransactionAnswer;
  void: TransactionAnswer;
  preauth: TransactionAnswer;
  'preauth.increment': TransactionAnswer;
  'preauth.complete': TransactionAnswer;
  'preauth.cancel': TransactionAnswer;
  tipAdjust: TransactionAnswer;
  cancel: Record<string, never>;
  confirm: Record<string, never>;
  status: TerminalStatus & { journal: JournalCounts; nexo?: { port: number; fingerprint: string } };
  reprint: { stan: number | null; receipt: ReceiptStatus };
  slip: { code: string; anomalyId: number };
  'drawer.open': Record<string, never>;
  /**
   * The self-test runs before sales resume; `settled` gives the state it leaves the terminal in. `clientsCleared`:
   * register clients that were locked out and are let in again.
   */
  unlock: { settled: Promise<string>; clientsCleared: number };
  selftest: SelfTestReport & { state: string; level?: HealthLevel; status?: CheckStatus; checks?: ExternalCheck[] };
  'selftest.answer': Record<string, never>;
  display: Record<string, never>;
  print: PrintResult;
  settle: SettlementSummary;
}

export type CommandResult<K extends CommandKind = CommandKind> = { ok: true; value: CommandValues[K] } | CommandFailure;
