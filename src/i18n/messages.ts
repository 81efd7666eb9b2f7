/** Every text the terminal shows or prints, by meaning; one catalogue per language fills it (catalogue/). */
import type { TransactionKind } from '../vocabulary/index.js';

/** The outcomes a screen names (the transaction's outcome vocabulary). */
export type OutcomeWord = 'approved' | 'offline-approved' | 'declined' | 'cancelled' | 'failed';

export interface Messages {
  receipt: {
    kind: Record<TransactionKind, string>;
    date: string;
    terminal: string;
    merchant: string;
    batch: string;
    card: string;
    entry: string;
    stan: string;
    ref: string;
    originalStan: string;
    amount: string;
    ofWhichTip: string;
    reservedNotCharged: string;
    approved: string;
    approvedOffline: string;
    declined: string;
    sentWhenOnline: string;
    authCode: string;
    response: string;
    merchantCopy: string;
    customerCopy: string;
    reprint: string;
  };
  settlement: {
    title: string;
    kind: Record<'sale' | 'refund' | 'void', string>;
    ofWhichTips: string;
    reversed: string;
    net: string;
    settledAfterUpload: string;
    settledAgreed: string;
  };
  screen: {
    kind: Record<TransactionKind, string>;
    outcome: Record<OutcomeWord, string>;
    insertChipOrOther: string;
    readErrorTryAgain: string;
    presentCard: string;
    readingCard: string;
    doNotRemoveCard: string;
    enterTipTitle: string;
    enterTipOnPad: string;
    okForNoTip: string;
    enterPinTitle: string;
    enterPinOnPad: string;
    thenPressOk: string;
    incorrectPinTitle: string;
    triesLeft: (n: number) => string;
    leaveCardIn: string;
    enterPinAgain: string;
    processing: string;
    pleaseWait: string;
    approvedTitle: string;
    approvedOfflineTitle: string;
    authCode: (code: string) => string;
    printingTitle: string;
    printingReceipt: string;
    receiptPending: string;
    thankYou: string;
    removeCardShort: string;
    duplicateTitle: string;
    sameCard: (amount: string) => string;
    earlierAt: (time: string) => string;
    earlierSale: string;
    confirmDuplicate: string;
    partialTitle: string;
    partialApproved: (amount: string) => string;
    partialOf: (amount: string) => string;
    confirmPartial: string;
    removeCardTitle: string;
    cardStillIn: string;
    pleaseRemoveCard: string;
    cancelledTitle: string;
    transactionCancelled: string;
  };
  idle: {
    starting: string;
    selfTest: string;
    ready: string;
    welcome: string;
    readyLimited: string;
    locked: string;
    supervisorUnlock: string;
  };
  /** Symbols printed in place of an ISO 4217 code in this language ("€" for EUR in French). */
  currencySymbols: Readonly<Record<string, string>>;
  /** The decimal mark of amounts: "." or ",". */
  decimalMark: '.' | ',';
}
