/**
 * What a transaction starts with: the request, and for a void (or a tip adjust) the approved sale it names, for an
 * increment, completion or cancel the open pre-authorization, from the journal.
 */
import { type CardReader, hasEmvKernel } from '../../hal/card-reader/contract.js';
import type { PinPad } from '../../hal/pin-pad/contract.js';
import type { Locale } from '../i18n/index.js';
import type { Journal } from '../journal/index.js';
import type { TransactionInput, TransactionLimits } from '../transaction/types.js';
import type { TransactionRequest } from './types.js';

/** The approved transaction a void of this STAN cancels. */
function originalFor(journal: Journal, stan: number): TransactionInput['original'] {
  const row = journal.transactions.findByStan(stan, 'sale');
  if (!row || (row.outcome !== 'approved' && row.outcome !== 'offline-approved') || row.stan === null) return undefined;
  return {
    txnRef: row.txnRef,
    stan: row.stan,
    amount: row.amount,
    currency: row.currency,
    ...(row.maskedPan ? { maskedPan: row.maskedPan } : {}),
    ...(row.approvalCode ? { approvalCode: row.approvalCode } : {}),
    ...(row.rrn ? { rrn: row.rrn } : {}),
    ...(row.requestMti ? { requestMti: row.requestMti } : {}),
    ...(row.transmittedAt !== null ? { transmittedAt: row.transmittedAt } : {}),
  };
}

/** The open pre-authorization of this id as the original of an increment, completion or cancel (its held amount). */
function preauthFor(journal: Journal, preauthId: string): TransactionInput['original'] {
  const hold = journal.preauths.get(preauthId);
  const row = journal.transactions.get(preauthId);
  if (hold?.state !== 'open' || !row || row.kind !== 'preauth' || row.outcome !== 'approved') return undefined;
  return {
    txnRef: row.txnRef,
    stan: hold.stan,
    amount: hold.heldAmount,
    currency: hold.currency,
    ...(row.maskedPan ? { maskedPan: row.maskedPan } : {}),
    ...(row.approvalCode ? { approvalCode: row.approvalCode } : {}),
    ...(row.rrn ? { rrn: row.rrn } : {}),
    ...(row.requestMti ? { requestMti: row.requestMti } : {}),
    ...(row.transmittedAt !== null ? { transmittedAt: row.transmittedAt } : {}),
  };
}

/** The original a request names, if it names one the journal holds in a state that allows it. */
function originalOf(request: TransactionRequest, journal: Journal): TransactionInput['original'] {
  switch (request.kind) {
    case 'void':
    case 'tip-adjust':
      return originalFor(journal, request.originalStan);
    case 'preauth-increment':
    case 'completion':
    case 'preauth-cancel':
      return preauthFor(journal, request.preauthId);
    default:
      return undefined;
  }
}

/** What a request asks to be charged (a void and a cancel take the original's), and of it, the tip. */
function amountsOf(
  request: TransactionRequest,
  original: TransactionInput['original'],
  defaultCurrency: string,
): { amount: number; currency: string; tip?: number } {
  switch (request.kind) {
    case 'void':
    case 'preauth-cancel':
      return original ?? { amount: 0, currency: defaultCurrency };
    case 'tip-adjust':
      return { amount: request.tip, currency: original?.currency ?? defaultCurrency, tip: request.tip };
    case 'preauth-increment':
      return { amount: request.amount, currency: original?.currency ?? defaultCurrency };
    case 'completion':
      return {
        amount: request.amount,
        currency: original?.currency ?? defaultCurrency,
        ...(request.tip ? { tip: request.tip } : {}),
      };
    default:
      return {
        amount: request.amount,
        currency: request.currency ?? defaultCurrency,
        ...('tip' in request && request.tip ? { tip: request.tip } : {}),
      };
  }
}

export function transactionInput(
  request: TransactionRequest,
  txnRef: string,
  journal: Journal,
  terms: {
    limits: TransactionLimits;
    defaultCurrency: string;
    emv?: { onlinePinTries: number };
    reader: CardReader;
    tips?: { maxPercent: number; timeoutMs: number };
    pinPad?: PinPad;
    /** The merchant's language and time zone, for the screens. */
    merchant?: Locale;
  },
): TransactionInput {
  const original = originalOf(request, journal);
  // A void takes the original's amount; one of an unknown STAN has none, and its machine fails it as such.
  const { amount, currency, tip } = amountsOf(request, original, terms.defaultCurrency);
  return {
    txnRef,
    kind: request.kind,
    amount,
    currency,
    limits: terms.limits,
    supervisor: request.supervisor ?? false,
    ...(request.supervisorNote ? { supervisorNote: request.supervisorNote } : {}),
    ...(original ? { original } : {}),
    ...(tip ? { tip } : {}),
    // A tip is asked on the pad only for a sale the register sent without one, on a pad that can take an amount.
    ...(terms.tips && request.kind === 'sale' && !tip && terms.pinPad?.requestAmount ? { tipEntry: terms.tips } : {}),
    ...(terms.merchant?.language ? { language: terms.merchant.language } : {}),
    ...(terms.merchant?.timeZone ? { timeZone: terms.merchant.timeZone } : {}),
    // Chip processing needs both the configuration and a reader that runs an EMV kernel.
    ...(terms.emv !== undefined && hasEmvKernel(terms.reader)
      ? { emv: true, onlinePinTries: terms.emv.onlinePinTries }
      : {}),
  };
}
