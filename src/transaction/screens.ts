/** What the cashier and the cardholder see at each step: pure functions of the transaction, no device access. */
import type { Screen } from '../../hal/display/contract.js';
import { formatAmount, type TransactionKind } from '../vocabulary/index.js';

const OUTCOME_TEXT: Record<string, string> = {
  approved: 'Approved',
  'offline-approved': 'Approved offline',
  declined: 'Declined',
  cancelled: 'Cancelled',
  failed: 'Not completed',
};

const KIND_TITLE: Record<TransactionKind, string> = {
  sale: 'SALE',
  refund: 'REFUND',
  void: 'VOID',
  preauth: 'PRE-AUTH',
  'preauth-increment': 'PRE-AUTH INCREMENT',
  completion: 'COMPLETION',
  'preauth-cancel': 'PRE-AUTH CANCEL',
  'tip-adjust': 'TIP ADJUST',
};

export const screens = {
  presentCard: (
    kind: TransactionKind,
    amount: number,
    currency: string,
    retry: boolean,
    otherMethod = false,
  ): Screen => ({
    title: KIND_TITLE[kind],
    lines: [
      formatAmount(amount, currency),
      otherMethod
        ? 'Insert the chip or use another card'
        : retry
          ? 'Read error - try again'
          : 'Insert, tap or swipe card',
    ],
    severity: retry || otherMethod ? 'warning' : 'info',
  }),
  reading: (kind: TransactionKind, amount: number, currency: string): Screen => ({
    title: KIND_TITLE[kind],
    lines: [formatAmount(amount, currency), 'Reading card...', 'Do not remove card'],
    severity: 'info',
  }),
  enterTip: (amount: number, currency: string): Screen => ({
    title: 'ADD A TIP?',
    lines: [formatAmount(amount, currency), 'Type a tip on the PIN pad and press OK', 'or press OK for no tip'],
    severity: 'info',
  }),
  enterPin: (amount: number, currency: string): Screen => ({
    title: 'ENTER PIN',
    lines: [formatAmount(amount, currency), 'Enter your PIN on the PIN pad', 'then press OK'],
    severity: 'info',
  }),
  incorrectPin: (triesLeft: number): Screen => ({
    title: 'INCORRECT PIN',
    lines: [`${triesLeft} ${triesLeft === 1 ? 'try' : 'tries'} left`, 'Leave the card in', 'Enter the PIN again'],
    severity: 'warning',
  }),
  authorizing: (kind: TransactionKind, amount: number, currency: string): Screen => ({
    title: KIND_TITLE[kind],
    lines: [formatAmount(amount, currency), 'Processing...', 'Please wait'],
    severity: 'info',
  }),
  approved: (
    kind: TransactionKind,
    amount: number,
    currency: string,
    approvalCode: string | undefined,
    offline = false,
  ): Screen => ({
    title: offline ? 'APPROVED OFFLINE' : 'APPROVED',
    lines: [
      `${KIND_TITLE[kind]} ${formatAmount(amount, currency)}`,
      approvalCode ? `Auth code ${approvalCode}` : '',
    ].filter(Boolean),
    severity: 'success',
  }),
  printing: (): Screen => ({ title: 'PRINTING', lines: ['Printing receipt...'], severity: 'info' }),
  done: (outcome: string, receiptPending: boolean): Screen => ({
    title:
      outcome === 'approved' ? 'APPROVED' : outcome === 'offline-approved' ? 'APPROVED OFFLINE' : outcome.toUpperCase(),
    lines: [receiptPending ? 'Receipt pending - reprint when fixed' : 'Thank you', 'Remove card'],
    severity:
      outcome === 'approved' || outcome === 'offline-approved' ? (receiptPending ? 'warning' : 'success') : 'info',
  }),
  confirmDuplicate: (amount: number, currency: string, earlier: { at: number; stan?: number } | undefined): Screen => ({
    title: 'DUPLICATE?',
    code: 'E501',
    lines: [
      `Same card, ${formatAmount(amount, currency)}`,
      earlier
        ? `earlier ${new Date(earlier.at).toISOString().slice(11, 19)} UTC${earlier.stan !== undefined ? ` STAN ${String(earlier.stan).padStart(6, '0')}` : ''}`
        : 'earlier sale',
      'Confirm to charge again, or cancel',
    ],
    severity: 'warning',
  }),
  confirmPartial: (requested: number, approved: number, currency: string): Screen => ({
    title: 'PARTIAL APPROVAL',
    lines: [
      `Approved ${formatAmount(approved, currency)}`,
      `of ${formatAmount(requested, currency)}`,
      'Accept and pay the rest, or cancel',
    ],
    severity: 'warning',
  }),
  /** After the outcome, until the reader is empty; `overdue` once the card has been left in too long. */
  removeCard: (outcome: string, overdue: boolean): Screen => ({
    title: 'REMOVE CARD',
    lines: [
      OUTCOME_TEXT[outcome] ?? outcome,
      overdue ? 'Card still in reader - please take it' : 'Please remove your card',
    ],
    severity: overdue ? 'warning' : 'info',
  }),
  cancelled: (): Screen => ({ title: 'CANCELLED', lines: ['Transaction cancelled'], severity: 'warning' }),
};
