/**
 * Authorizing online: the order of journal writes is the point. The STAN is committed, then the armed reversal, then
 * the request leaves; the answer and the cleared reversal land in one commit. An answer that cannot be trusted, or a
 * request that may have reached the host unanswered, leaves the reversal owed.
 */
import { HostError, type HostReply } from '../../acquirer/acquirer-client.js';
import { VaultError } from '../../durability/card-vault.js';
import {
  buildAuthorizationRequest,
  buildFinancialRequest,
  describeResponseCode,
  isApprovedClass,
  isKnownResponseCode,
  MTI,
  responseClass,
  REVERSAL_REASON,
  type IsoMessage,
} from '../../iso8583/index.js';
import { checkResponse } from '../../risk/data-errors.js';
import { AuthorizationFailure, type Authorization, type AuthorizeInput } from '../../transaction/types.js';
import type { TransactionDeps } from './deps.js';
import { decideOffline, offlineReason, sealableIccData, voidOfOfflineSale } from './offline.js';
import { financialRequestFor } from './request.js';
import { unableToGoOnline } from './chip.js';
import { holdWrite, isHoldRequest, needsTheHost, settledWithoutRequest, settleWithoutRequest } from './preauth.js';

/**
 * PAN and expiry for the reversal's fields 2/14, sealed by the card vault (no vault: the reversal goes without them,
 * field 90 still names the original). Card data the vault refuses is left out, never a reason to stop the sale.
 */
function sealedForReversal(deps: TransactionDeps, input: AuthorizeInput): { cardBlob?: Buffer } {
  const card = input.card?.reveal();
  if (!card || !deps.vault) return {};
  try {
    return {
      cardBlob: deps.vault.seal(
        { pan: card.pan, expiry: card.expiry, entryMode: card.entryMode, ...sealableIccData(card.iccData) },
        input.txnRef,
      ),
    };
  } catch (err) {
    if (!(err instanceof VaultError)) throw err;
    deps.log.warn({ txnRef: input.txnRef, reason: err.message }, 'card data not sealed for the reversal');
    return {};
  }
}

/**
 * The host cannot be asked. An online chip sale asks the card first (Y3/Z3 by its default action codes): declined by
 * the card, it is declined; approved, the offline rules decide, with the card's final field 55 for the advice.
 */
async function offline(
  deps: TransactionDeps,
  input: AuthorizeInput,
  why: string,
  stan?: number,
): Promise<Authorization> {
  // A hold (or a completion sent as a 0200) is the host's to give: never decided by the terminal.
  if (needsTheHost(input))
    return {
      ...(stan !== undefined ? { stan } : {}),
      responseCode: 'Z3',
      responseText: `host unreachable (${why}); a ${input.kind} needs the host`,
      approved: false,
      offline: true,
    };
  if (input.chip !== 'ARQC' || !input.card) return decideOffline(deps, input, why, stan);
  const { card, declined } = await unableToGoOnline(deps, input.card);
  if (declined === undefined) return decideOffline(deps, { ...input, card }, why, stan);
  return {
    ...(stan !== undefined ? { stan } : {}),
    responseCode: 'Z3',
    responseText: `host unreachable (${why}); ${declined}`,
    approved: false,
    offline: true,
  };
}

/** Field 39 of the reversal a failed send leaves owed. */
function reversalReasonFor(err: HostError): string {
  if (err.code === 'timeout') return REVERSAL_REASON.timeout;
  if (err.code === 'cancelled') return REVERSAL_REASON.cancelled;
  return REVERSAL_REASON.malfunction;
}

/** The host's field 39 as the journal keeps it: a code it cannot print is still an answer. */
function answeredWith(responseCode: string): string {
  return /^[ -~]{1,8}$/.test(responseCode) ? responseCode : '??';
}

/**
 * Authorize online with a pre-stored reversal, or decide offline. The order of journal writes is the point:
 * STAN, then the armed reversal, then the request; the answer and the cleared reversal land in one commit.
 */
export async function authorize(
  deps: TransactionDeps,
  input: AuthorizeInput,
  signal: AbortSignal,
): Promise<Authorization> {
  const { journal } = deps;
  const now = () => new Date(deps.clock.now());
  const voided = input.kind === 'void' && input.original ? await voidOfOfflineSale(deps, input) : undefined;
  if (voided) return voided;
  // A completion advice, a tip adjust, a cancel: committed here and owed to the host, never an online request.
  if (settledWithoutRequest(deps, input)) return settleWithoutRequest(deps, input);
  // The card approved offline at its first decision (TC within the floor limit): the offline rules decide (Y1).
  if (input.chip === 'TC') return decideOffline(deps, input, 'approved offline by the card');
  // Known down (network, or a host that stopped answering): offline at once, without a send that would time out.
  const knownDown = offlineReason(deps);
  if (knownDown) return offline(deps, input, knownDown);
  // Reversals owed to the host go before any new online authorization (as acquirers require); if they cannot, neither
  // can this one.
  const reversalsClear = deps.forwarder ? await deps.forwarder.flushReversals() : true;
  const downReason = reversalsClear ? offlineReason(deps) : 'reversals still owed to the host';
  if (downReason) return offline(deps, input, downReason);

  const stan = journal.counters.nextStan();
  journal.transactions.recordState(input.txnRef, 'sending', { stan });
  const fields = {
    ...financialRequestFor(input, stan, deps.merchant, now(), deps.messageProfile),
    ...(input.tip ? { tipAmount: input.tip } : {}),
  };
  // A pre-authorization and its increments are 0100s: the host holds the amount, nothing moves yet.
  const requestMti = isHoldRequest(input) ? MTI.authRequest : MTI.financialRequest;
  // The reversal repeats the original's field 22, ids and (sealed, never in clear) PAN and expiry.
  journal.reversals.arm({
    txnRef: input.txnRef,
    stan,
    originalMti: requestMti,
    processingCode: fields.processingCode,
    amount: fields.amount,
    currency: fields.currency,
    transmittedAt: fields.transmittedAt.getTime(),
    terminalId: fields.terminalId,
    merchantId: fields.merchantId,
    posEntryMode: fields.entryMode,
    ...(fields.acquiringInstitutionId !== undefined ? { acquiringInstitutionId: fields.acquiringInstitutionId } : {}),
    ...(fields.forwardingInstitutionId !== undefined
      ? { forwardingInstitutionId: fields.forwardingInstitutionId }
      : {}),
    ...(input.card ? { maskedPan: input.card.summary.maskedPan } : {}),
    ...sealedForReversal(deps, input),
  });
  let reply: HostReply;
  try {
    const request = requestMti === MTI.authRequest ? buildAuthorizationRequest(fields) : buildFinancialRequest(fields);
    reply = await deps.acquirer.send(request, { timeoutMs: deps.responseTimeoutMs, signal });
  } catch (err) {
    if (!(err instanceof HostError)) throw err;
    if (!err.sent) {
      // It never left: nothing to reverse, and the host may simply be unreachable.
      journal.reversals.release(input.txnRef, `${err.code}: ${err.message}`);
      if (err.code === 'not-connected') return offline(deps, input, err.message, stan);
      throw new AuthorizationFailure(err.code, err.message, false, stan);
    }
    // It may be at the host: the reversal is owed from now on, whatever happens to this process.
    // An answer it could not take (wrong amount or MTI, garbled) still says the host has the original.
    journal.reversals.markPending(input.txnRef, `${err.code}: ${err.message}`, {
      reasonCode: reversalReasonFor(err),
      ...(err.answeredWith === undefined ? {} : { originalAnswer: answeredWith(err.answeredWith) }),
    });
    deps.forwarder?.kick();
    throw new AuthorizationFailure(err.code, `${err.message}; reversal pending`, true, stan);
  }
  // Data errors in an answer: a code the spec does not know, or a host clock far from ours. Where money may have
  // moved on an answer we cannot trust, the sale is reversed rather than approved.
  const dataErrors = checkResponse(
    { stan, amount: fields.amount, terminalId: fields.terminalId },
    {
      stan: reply.stan,
      ...(reply.amount !== undefined ? { amount: reply.amount } : {}),
      terminalId: reply.terminalId,
      responseCode: reply.responseCode,
      ...(reply.transmittedAt ? { transmittedAt: reply.transmittedAt } : {}),
    },
    deps.clock.now(),
    { maxSkewMs: 5 * 60_000, knownCode: isKnownResponseCode },
  );
  for (const error of dataErrors) {
    deps.anomalies.raise(
      error.anomaly,
      {
        txnRef: input.txnRef,
        stan,
        amount: input.amount,
        currency: input.currency,
        reason: `${error.kind}: ${Object.entries(error.evidence)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')}`,
      },
      { show: false },
    );
  }
  if (dataErrors.some((e) => e.moneyMayHaveMoved) || dataErrors.some((e) => e.kind === 'unknown-response-code')) {
    journal.reversals.markPending(input.txnRef, `untrusted answer: ${dataErrors.map((e) => e.kind).join(', ')}`, {
      reasonCode: REVERSAL_REASON.malfunction,
      originalAnswer: answeredWith(reply.responseCode),
    });
    deps.forwarder?.kick();
    throw new AuthorizationFailure(
      'mismatched-response',
      `the host's answer cannot be trusted (${dataErrors.map((e) => e.kind).join(', ')}); reversal pending`,
      true,
      stan,
    );
  }
  const info = describeResponseCode(reply.responseCode);
  // Approved by class (00, 08, 10, 11, 16...), never by '00' alone: the host moved money on each of them.
  const approved = isApprovedClass(reply.responseCode);
  const approvedAmount =
    responseClass(reply.responseCode) === 'partially-approved'
      ? partialAmount(reply, fields.amount, fields.currency)
      : undefined;
  if (approvedAmount === null) {
    journal.reversals.markPending(
      input.txnRef,
      `untrusted answer: partial approval ${reply.responseCode} without a smaller approved amount`,
      { reasonCode: REVERSAL_REASON.malfunction, originalAnswer: answeredWith(reply.responseCode) },
    );
    deps.forwarder?.kick();
    throw new AuthorizationFailure(
      'mismatched-response',
      `partial approval ${reply.responseCode} without an approved amount below ${fields.amount}; reversal pending`,
      true,
      stan,
    );
  }
  const authorization: Authorization = {
    stan,
    responseCode: reply.responseCode,
    responseText: info?.meaning ?? 'unknown response code',
    approved,
    ...(reply.approvalCode ? { approvalCode: reply.approvalCode.trim() } : {}),
    ...(reply.rrn ? { rrn: reply.rrn.trim() } : {}),
    ...(approvedAmount !== undefined ? { requestedAmount: fields.amount, approvedAmount } : {}),
    ...(reply.message.fields[55] instanceof Uint8Array ? { issuerData: reply.message.fields[55] } : {}),
  };
  const patch = {
    stan,
    responseCode: authorization.responseCode,
    ...(authorization.approvalCode ? { approvalCode: authorization.approvalCode } : {}),
    ...(authorization.rrn ? { rrn: authorization.rrn } : {}),
  };
  // What the answer does to a hold (opened, increased, captured) lands in the same commit as the answer.
  const holds = holdWrite(deps, input, authorization);
  journal.batch(`record the answer to ${input.txnRef}`, () => {
    if (approvedAmount !== undefined && approvedAmount < fields.amount) {
      // The answer is kept but the stored reversal stays armed until the register accepts: a crash meanwhile reverses.
      // Its amount becomes the approved one in the same commit: a cancel reverses what the host approved.
      journal.recordPartialApproval(input.txnRef, 'partiallyApproved', patch, {
        requestedAmount: fields.amount,
        approvedAmount,
      });
    } else if (input.chip === 'ARQC' && approved) {
      // The card decides last: the answer is kept, the stored reversal stays armed until the card says TC.
      journal.transactions.recordState(input.txnRef, 'authorizedAwaitingCard', patch);
    } else {
      journal.recordAuthorization(input.txnRef, 'authorized', patch);
    }
    holds?.();
  });
  return authorization;
}

/**
 * The amount a partial approval (code 10) approved: field 4 when the host put a smaller amount there, else the first
 * amount of field 54 (blocks of account type 2, amount type 2, currency 3, C/D, 12 digits) in our currency that is
 * smaller. The full amount means a full approval; null means no trustworthy amount (the sale is then reversed).
 */
export function partialAmount(
  reply: { amount?: number; message: IsoMessage },
  requested: number,
  currency: string,
): number | null {
  if (reply.amount !== undefined && reply.amount > 0 && reply.amount < requested) return reply.amount;
  const additional = reply.message.fields[54];
  if (typeof additional === 'string') {
    for (let at = 0; at + 20 <= additional.length; at += 20) {
      const block = additional.slice(at, at + 20);
      const amount = /^[CD]\d{12}$/.test(block.slice(7)) ? Number(block.slice(8)) : NaN;
      if (block.slice(4, 7) === currency && amount > 0 && amount < requested) return amount;
    }
  }
  return reply.amount === requested ? requested : null;
}
