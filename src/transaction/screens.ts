/**
 * What the cashier and the cardholder see at each step: pure functions of the transaction, no device access, in the
 * merchant's language (`screensIn`); `screens` is the English set.
 */
import type { Screen } from '../../hal/display/contract.js';
import { formatLocalAmount, formatLocalTime, messagesFor, type Locale, type OutcomeWord } from '../i18n/index.js';
import type { TransactionKind } from '../vocabulary/index.js';

export function screensIn(locale: Locale = {}) {
  const messages = messagesFor(locale.language);
  const t = messages.screen;
  const money = (amount: number, currency: string) => formatLocalAmount(amount, currency, messages);
  const outcomeText = (outcome: string) => t.outcome[outcome as OutcomeWord] ?? outcome;
  return {
    presentCard: (
      kind: TransactionKind,
      amount: number,
      currency: string,
      retry: boolean,
      otherMethod = false,
    ): Screen => ({
      title: t.kind[kind],
      lines: [money(amount, currency), otherMethod ? t.insertChipOrOther : retry ? t.readErrorTryAgain : t.presentCard],
      severity: retry || otherMethod ? 'warning' : 'info',
    }),
    reading: (kind: TransactionKind, amount: number, currency: string): Screen => ({
      title: t.kind[kind],
      lines: [money(amount, currency), t.readingCard, t.doNotRemoveCard],
      severity: 'info',
    }),
    enterTip: (amount: number, currency: string): Screen => ({
      title: t.enterTipTitle,
      lines: [money(amount, currency), t.enterTipOnPad, t.okForNoTip],
      severity: 'info',
    }),
    enterPin: (amount: number, currency: string): Screen => ({
      title: t.enterPinTitle,
      lines: [money(amount, currency), t.enterPinOnPad, t.thenPressOk],
      severity: 'info',
    }),
    incorrectPin: (triesLeft: number): Screen => ({
      title: t.incorrectPinTitle,
      lines: [t.triesLeft(triesLeft), t.leaveCardIn, t.enterPinAgain],
      severity: 'warning',
    }),
    authorizing: (kind: TransactionKind, amount: number, currency: string): Screen => ({
      title: t.kind[kind],
      lines: [money(amount, currency), t.processing, t.pleaseWait],
      severity: 'info',
    }),
    approved: (
      kind: TransactionKind,
      amount: number,
      currency: string,
      approvalCode: string | undefined,
      offline = false,
    ): Screen => ({
      title: offline ? t.approvedOfflineTitle : t.approvedTitle,
      lines: [`${t.kind[kind]} ${money(amount, currency)}`, approvalCode ? t.authCode(approvalCode) : ''].filter(
        Boolean,
      ),
      severity: 'success',
    }),
    printing: (): Screen => ({ title: t.printingTitle, lines: [t.printingReceipt], severity: 'info' }),
    done: (outcome: string, receiptPending: boolean): Screen => ({
      title:
        outcome === 'approved'
          ? t.approvedTitle
          : outcome === 'offline-approved'
            ? t.approvedOfflineTitle
            : outcomeText(outcome).toUpperCase(),
      lines: [receiptPending ? t.receiptPending : t.thankYou, t.removeCardShort],
      severity:
        outcome === 'approved' || outcome === 'offline-approved' ? (receiptPending ? 'warning' : 'success') : 'info',
    }),
    confirmDuplicate: (
      amount: number,
      currency: string,
      earlier: { at: number; stan?: number } | undefined,
    ): Screen => ({
      title: t.duplicateTitle,
      code: 'E501',
      lines: [
        t.sameCard(money(amount, currency)),
        earlier
          ? `${t.earlierAt(formatLocalTime(new Date(earlier.at), locale.timeZone))}${earlier.stan !== undefined ? ` STAN ${String(earlier.stan).padStart(6, '0')}` : ''}`
          : t.earlierSale,
        t.confirmDuplicate,
      ],
      severity: 'warning',
    }),
    confirmPartial: (requested: number, approved: number, currency: string): Screen => ({
      title: t.partialTitle,
      lines: [t.partialApproved(money(approved, currency)), t.partialOf(money(requested, currency)), t.confirmPartial],
      severity: 'warning',
    }),
    /** After the outcome, until the reader is empty; `overdue` once the card has been left in too long. */
    removeCard: (outcome: string, overdue: boolean): Screen => ({
      title: t.removeCardTitle,
      lines: [outcomeText(outcome), overdue ? t.cardStillIn : t.pleaseRemoveCard],
      severity: overdue ? 'warning' : 'info',
    }),
    cancelled: (): Screen => ({ title: t.cancelledTitle, lines: [t.transactionCancelled], severity: 'warning' }),
  };
}

export type TransactionScreens = ReturnType<typeof screensIn>;

/** The English screens. */
export const screens: TransactionScreens = screensIn();
