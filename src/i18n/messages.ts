/** Every text the terminal shows or prints, by meaning; one catalogue per language fills it (catalogue/). */
import type { TransactionKind } from '../vocabulary/index.js';

/** The outcomes a screen names (the transaction's outcome vocabulary). */
export type OutcomeWord = 'approved' | 'offline-approved' | 'declined' | 'cancelled' | 'failed';

/** An anomaly as the cashier reads it: a title (at most 20 columns), what happened and what to do (60 each). */
export interface AnomalyText {
  title: string;
  message: string;
  action: string;
}

/** The idle screen's reasons: fixed ones, and the words that start the ones built from a device and its code. */
export interface ReasonTexts {
  noPrinter: string;
  paperNearEnd: string;
  hostUnreachable: string;
  clockSkew: string;
  pinPadMissing: string;
  storageLow: string;
  recoveryFailed: string;
  storageFault: string;
  suspectedFraud: string;
  tamper: (device: string) => string;
  device: Record<
    'card reader' | 'PIN pad' | 'printer' | 'storage' | 'clock' | 'display' | 'network' | 'host-link',
    string
  >;
}

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
    /** The outcomes only a nexo receipt names (it is built for any journaled state). */
    cancelled: string;
    failed: string;
    inProgress: string;
    /** The label of the transaction reference on a nexo receipt. */
    txnRef: string;
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
  /** The reasons behind "limited" and "locked" on the idle screen (the terminal keeps them in English). */
  reasons: ReasonTexts;
  /** What the cashier reads of an anomaly, by its stable code (E101...); the code itself is never translated. */
  anomaly: Readonly<Record<string, AnomalyText>>;
  /** The labels of the anomaly slip. */
  anomalySlip: {
    heading: (code: string) => string;
    time: string;
    terminal: string;
    severity: string;
    severityWord: Record<'info' | 'warning' | 'error' | 'critical', string>;
    ref: string;
    stan: string;
    amount: string;
    card: string;
    action: string;
    giveToSupport: (name: string) => string;
  };
  /** Symbols printed in place of an ISO 4217 code in this language ("€" for EUR in French). */
  currencySymbols: Readonly<Record<string, string>>;
  /** The decimal mark of amounts: "." or ",". */
  decimalMark: '.' | ',';
}
