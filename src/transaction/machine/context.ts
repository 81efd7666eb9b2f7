/** What the transaction machine remembers and the events a register or operator may send it. */
import type { SensitiveCard } from '../../card/sensitive-card.js';
import type { ReceiptStatus, TransactionOutcome } from '../../vocabulary/index.js';
import type { AnomalyRef, Authorization, TransactionInput } from '../types.js';

export interface TransactionContext extends TransactionInput {
  readFailures: number;
  /** Times the card checks asked for another card or the chip; bounded so a transaction cannot loop forever. */
  otherMethodRequests: number;
  duplicateOf?: { at: number; stan?: number; txnRef: string };
  cardKey?: string;
  lockRequested?: string;
  card?: SensitiveCard;
  authorization?: Authorization;
  stan?: number;
  receipt: ReceiptStatus;
  anomalies: AnomalyRef[];
  outcome?: TransactionOutcome;
  /** The host approved less than asked (code 10); the register decides whether the customer pays the rest. */
  partial?: { requestedAmount: number; approvedAmount: number };
  /** The chip's first decision and the verification it asked for, when the card went through the EMV kernel. */
  chip?: { decision: 'ARQC' | 'TC' | 'AAC'; cvm: string; reason?: string };
  /** A card was presented in this transaction: it ends only once the reader is empty. */
  cardPresented?: boolean;
  /** The chip failed in this transaction and the stripe was asked for. */
  chipAttempted?: boolean;
  /** Online PIN attempts answered 55 and asked again in this sale. */
  pinRetries: number;
}

export type TransactionEvent =
  | { type: 'CANCEL'; by?: 'operator' | 'ecr' }
  | { type: 'CONFIRM'; by?: 'operator' | 'ecr' };

/** Defaults of the card-removal alert and anomaly when the limits do not set them. */
export const CARD_REMOVAL_ALERT_MS = 10_000;
export const CARD_REMOVAL_ANOMALY_MS = 60_000;
