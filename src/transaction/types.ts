/** Shapes shared by the transaction machine and the effects that the composition root provides to it. */
import type { AnomalyName } from '../anomaly/taxonomy.js';
import type { SensitiveCard } from '../card/sensitive-card.js';
import type { HostErrorCode, ReceiptStatus, TransactionKind, TransactionOutcome } from '../vocabulary/index.js';
import type { Locale } from '../i18n/index.js';

export interface TransactionLimits {
  minAmount: number;
  maxAmount: number;
  /** Failed reads tolerated before the transaction fails (0 = no retry). */
  readRetries: number;
  cardWaitTimeoutMs: number;
  /** How long the register has to accept a partial approval before it is reversed (default 60 s). */
  partialApprovalTimeoutMs?: number;
  /** A card still in the reader this long after the outcome: the "remove card" alert. Default 10 s. */
  cardRemovalAlertMs?: number;
  /** A card still in the reader this long after the outcome: the card-left-in-reader anomaly. Default 60 s. */
  cardRemovalAnomalyMs?: number;
}

/** The approved transaction a void cancels, as found in the journal by its STAN. */
export interface OriginalTransaction {
  txnRef: string;
  stan: number;
  amount: number;
  currency: string;
  maskedPan?: string;
  approvalCode?: string;
  /** Field 37 of the host's answer to it. */
  rrn?: string;
  /** The request that carried it (0200, or 0220 when approved offline) and its field 7, ms since the epoch. */
  requestMti?: string;
  transmittedAt?: number;
}

/** The merchant's language and time zone (`Locale`) carry the screens' words and times. */
export interface TransactionInput extends Locale {
  txnRef: string;
  kind: TransactionKind;
  amount: number;
  currency: string;
  limits: TransactionLimits & {
    /** How long the cashier has to confirm a suspected duplicate. */
    confirmTimeoutMs?: number;
  };
  /** Supervisor rights were presented for this transaction (void, refund policy). */
  supervisor: boolean;
  /** Why rights were refused (no PIN, wrong PIN, locked out), for the anomaly. */
  supervisorNote?: string;
  original?: OriginalTransaction;
  /** The reader runs an EMV kernel and the chip is enabled: inserted and tapped sale cards go through it. */
  emv?: boolean;
  /** Online PIN tries within one sale, the first included (`emv.onlinePinTries`): a 55 with tries left asks again. */
  onlinePinTries?: number;
  /** The part of `amount` that is a tip (a sale's, a completion's, or a tip adjust's whole amount). */
  tip?: number;
  /** The cardholder is asked for a tip on the PIN pad before the card (`tips.prompt`, a sale without a tip). */
  tipEntry?: { maxPercent: number; timeoutMs: number };
}

/** A tip asked on the PIN pad: at most `maxTip`, in the sale's currency. */
export interface TipInput {
  txnRef: string;
  amount: number;
  currency: string;
  maxTip: number;
  timeoutMs: number;
}

/** What the host said, as the machine needs it. */
export interface Authorization {
  /** Absent when the request never needed one (declined offline before anything was sent). */
  stan?: number;
  responseCode: string;
  responseText: string;
  approved: boolean;
  approvalCode?: string;
  rrn?: string;
  /** Decided by the terminal because the host could not be asked (store-and-forward rules). */
  offline?: boolean;
  /** A partial approval (code 10): what was asked and what the host approved (smaller). */
  requestedAmount?: number;
  approvedAmount?: number;
  /** The host's field 55 (issuer authentication data 91, scripts 71/72), for the card's second decision. */
  issuerData?: Uint8Array;
}

/** The chip's first decision (the kernel's): go online (ARQC), approved offline (TC), declined offline (AAC). */
export type ChipDecision = 'ARQC' | 'TC' | 'AAC';

export interface ChipStartInput {
  txnRef: string;
  kind: TransactionKind;
  amount: number;
  currency: string;
  card: SensitiveCard;
}

export interface ChipStart {
  decision: ChipDecision;
  /** Why the kernel decided so (denial codes, try another interface...). */
  reason?: string;
  /** The cardholder verification the card asks for. */
  cvm: string;
  /** The card with the chip's field 55. */
  card: SensitiveCard;
}

export interface PinInput {
  txnRef: string;
  amount: number;
  currency: string;
  card: SensitiveCard;
}

export interface ChipCompleteInput {
  txnRef: string;
  card: SensitiveCard;
  authorization: Authorization;
  /** The host approved less than asked: the register still decides, so a TC leaves the stored reversal armed. */
  partial?: boolean;
}

/** A declined online-PIN attempt set apart before the PIN is asked again. */
export interface PinRetryInput {
  txnRef: string;
  /** 1 for the first retry. */
  attempt: number;
  amount: number;
  currency: string;
  card: SensitiveCard;
  authorization: Authorization;
}

/** The card's second decision, after the host's answer: a TC keeps an approval, an AAC (or a removed card) undoes it. */
export interface ChipCompletion {
  decision: 'TC' | 'AAC';
  reason?: string;
  /** The card left the reader (or the chip failed) before it decided. */
  interrupted?: boolean;
  card: SensitiveCard;
}

export interface AuthorizeInput {
  txnRef: string;
  kind: TransactionKind;
  amount: number;
  currency: string;
  card?: SensitiveCard;
  original?: OriginalTransaction;
  /** The chip's first decision, for a card that went through the kernel: ARQC online, TC approved offline (Y1). */
  chip?: 'ARQC' | 'TC';
  /** The part of `amount` that is a tip (field 54). */
  tip?: number;
}

/** A failed authorization: the host error plus the STAN it was sent under, if one was allocated. */
export class AuthorizationFailure extends Error {
  override readonly name = 'AuthorizationFailure';
  constructor(
    readonly code: HostErrorCode,
    message: string,
    /** The request may have reached the host: a reversal is owed. */
    readonly sent: boolean,
    readonly stan?: number,
  ) {
    super(message);
  }
}

/** What the card checks (fraud rules, duplicates) decided about the card just read. */
export type CardAssessment =
  | { action: 'continue'; cardKey?: string }
  | { action: 'decline' | 'lock' | 'ask-other-method'; anomaly: AnomalyRef; cardKey?: string }
  | {
      action: 'confirm-duplicate';
      anomaly: AnomalyRef;
      earlier: { at: number; stan?: number; txnRef: string };
      cardKey?: string;
    };

export interface AssessInput {
  txnRef: string;
  kind: TransactionKind;
  amount: number;
  currency: string;
  card: SensitiveCard;
  readFailures: number;
  /** The chip of a card was tried in this transaction and failed: a swipe now is the fallback asked for. */
  chipAttempted?: boolean;
}

export interface ReceiptInput {
  txnRef: string;
  kind: TransactionKind;
  amount: number;
  currency: string;
  card?: SensitiveCard;
  /** For a reprint from the journal, where only the masked summary survives. */
  cardSummary?: { maskedPan: string; entryMode: string };
  authorization?: Authorization;
  original?: OriginalTransaction;
  tip?: number;
}

/** An anomaly the machine raised, by taxonomy name, with a reason for the journal and the screen. */
export interface AnomalyRef {
  name: AnomalyName;
  reason?: string;
  /** Device fault detail for hardware anomalies (never card data). */
  fault?: { device: string; code: string; message: string };
}

export interface TransactionOutput {
  txnRef: string;
  kind: TransactionKind;
  outcome: TransactionOutcome;
  amount: number;
  currency: string;
  stan?: number;
  maskedPan?: string;
  entryMode?: string;
  responseCode?: string;
  responseText?: string;
  approvalCode?: string;
  rrn?: string;
  /** Set when the host approved part of the amount (code 10); `amount` is then the approved amount if accepted. */
  requestedAmount?: number;
  approvedAmount?: number;
  receipt: ReceiptStatus;
  /** The anomaly that decided the outcome, if any (decline reason, timeout, fault...). */
  anomaly?: AnomalyRef;
  /** Every anomaly raised during the transaction, in order (e.g. a decline and then a printer fault). */
  anomalies: AnomalyRef[];
  /** Keyed hash of the card (never the PAN), for duplicate detection after an approval. */
  cardKey?: string;
  /** The card checks asked for the terminal to be locked once this transaction ends. */
  lockRequested?: string;
  /** The part of `amount` that is a tip. */
  tip?: number;
  /** An approved pre-authorization: the id the register completes, increments or cancels it by (its txnRef). */
  preauthId?: string;
}
