/**
 * The effects the transaction machine needs, built from devices, the journal and the host client. This is where
 * "commit before the effect" is honoured: the STAN is committed before the request leaves.
 */
import type { CardReader } from '../../hal/card-reader/contract.js';
import type { Clock } from '../../hal/clock.js';
import type { Display, Screen } from '../../hal/display/contract.js';
import type { NetworkMonitor } from '../../hal/network/contract.js';
import type { Printer } from '../../hal/printer/contract.js';
import { fromPromise } from 'xstate';
import { anomalyByName, type AnomalyName } from '../anomaly/index.js';
import type { AnomalyRecorder } from '../anomaly/recorder.js';
import { SensitiveCard } from '../card/sensitive-card.js';
import { posEntryMode } from '../durability/entry-mode.js';
import { HostError, type AcquirerClient } from '../acquirer/acquirer-client.js';
import type { HostAvailability } from '../acquirer/host-availability.js';
import { VaultError, type CardVault } from '../durability/card-vault.js';
import type { Forwarder } from '../durability/forwarder.js';
import {
  decideOffline as decideOfflinePolicy,
  offlineApprovalCode,
  type OfflineLimits,
} from '../durability/offline-policy.js';
import {
  buildFinancialRequest,
  describeResponseCode,
  isApprovedClass,
  isKnownResponseCode,
  MTI,
  PROCESSING_CODE,
  responseClass,
  REVERSAL_REASON,
  type FinancialRequest,
  type IsoMessage,
} from '../iso8583/index.js';
import type { Journal, TransactionPatch } from '../journal/index.js';
import { buildReceipt, type MerchantInfo } from '../receipt/receipt.js';
import type { TransactionContext } from '../transaction/machine.js';
import { transactionMachine } from '../transaction/machine.js';
import {
  AuthorizationFailure,
  type AssessInput,
  type Authorization,
  type AuthorizeInput,
  type CardAssessment,
  type ReceiptInput,
  type TransactionOutput,
} from '../transaction/types.js';
import type { RiskControls } from '../risk/controls.js';
import { checkResponse } from '../risk/data-errors.js';
import type { Logger } from '../util/log.js';

export type TransactionStreamEvent =
  | { type: 'state'; state: string }
  | { type: 'screen'; screen: Screen }
  /** The host approved less than asked: the register answers with confirm (accept) or cancel (reverse). */
  | { type: 'partial'; requestedAmount: number; approvedAmount: number; currency: string };
export type TransactionListener = (event: TransactionStreamEvent) => void;

export interface TransactionDeps {
  reader: CardReader;
  printer: Printer;
  display: Display;
  journal: Journal;
  acquirer: AcquirerClient;
  anomalies: AnomalyRecorder;
  clock: Clock;
  log: Logger;
  merchant: MerchantInfo;
  responseTimeoutMs: number;
  /** Who is watching the transaction now (the ECR session that started it), if anyone. */
  listener: () => TransactionListener | undefined;
  /** Sends owed reversals and advices; absent in tests that only look at the machine. */
  forwarder?: Forwarder;
  /** Card checks (fraud rules, duplicates); absent = every card passes. */
  risk?: RiskControls;
  /** Store-and-forward: limits, and the vault that seals card data for the queue (both absent = disabled). */
  offline?: OfflineLimits;
  vault?: CardVault;
  network?: Pick<NetworkMonitor, 'current'>;
  /** Whether the host still answers; absent = always asked. */
  hostAvailability?: Pick<HostAvailability, 'isDown'>;
  /** What the terminal's messages say about itself (field 22's PIN digit, fields 32/33); absent = no PIN pad, no ids. */
  messageProfile?: MessageProfile;
  /** The outcome is known (the card may still be in the reader): the register gets it now. */
  onOutcome?: (output: TransactionOutput) => void;
}

/** From configuration: `terminal.pinPad`, `host.acquiringInstitutionId`, `host.forwardingInstitutionId`. */
export interface MessageProfile {
  pinPad: boolean;
  acquiringInstitutionId?: string;
  forwardingInstitutionId?: string;
}

const NO_PIN_PAD: MessageProfile = { pinPad: false };

/** The journal keeps the stable on-screen code (E101…), as the anomalies table does. */
export function anomalyCode(name: AnomalyName): string {
  return anomalyByName(name).code;
}

/** The journal summary of a transaction as the machine knows it at this instant. */
function patchFrom(context: TransactionContext): TransactionPatch {
  const auth = context.authorization;
  const anomaly = context.anomalies[0];
  return {
    ...(context.stan !== undefined ? { stan: context.stan } : {}),
    ...(context.card ? { maskedPan: context.card.summary.maskedPan, entryMode: context.card.summary.entryMode } : {}),
    ...(auth ? { responseCode: auth.responseCode } : {}),
    ...(auth?.approvalCode ? { approvalCode: auth.approvalCode } : {}),
    ...(auth?.rrn ? { rrn: auth.rrn } : {}),
    // A partial approval that was accepted: the journal shows the amount that moved.
    ...(context.partial && context.amount === context.partial.approvedAmount ? { amount: context.amount } : {}),
    ...(context.outcome ? { outcome: context.outcome } : {}),
    ...(anomaly ? { anomalyCode: anomalyCode(anomaly.name) } : {}),
    receiptStatus: context.receipt,
  };
}

export function financialRequestFor(
  input: AuthorizeInput,
  stan: number,
  identity: { terminalId: string; merchantId: string },
  now: Date,
  profile: MessageProfile = NO_PIN_PAD,
): FinancialRequest {
  const card = input.card?.reveal();
  const original = input.original;
  return {
    processingCode:
      input.kind === 'refund'
        ? PROCESSING_CODE.refund
        : input.kind === 'void'
          ? PROCESSING_CODE.void
          : PROCESSING_CODE.purchase,
    amount: input.amount,
    currency: input.currency,
    stan,
    transmittedAt: now,
    terminalId: identity.terminalId,
    merchantId: identity.merchantId,
    entryMode: posEntryMode(card ? card.entryMode : 'manual', profile.pinPad),
    ...(card ? { pan: card.pan, expiry: card.expiry } : {}),
    ...(card?.track2 ? { track2: card.track2 } : {}),
    ...(card?.iccData ? { iccData: card.iccData } : {}),
    ...(profile.acquiringInstitutionId !== undefined ? { acquiringInstitutionId: profile.acquiringInstitutionId } : {}),
    ...(profile.forwardingInstitutionId !== undefined
      ? { forwardingInstitutionId: profile.forwardingInstitutionId }
      : {}),
    // A void names its original by RRN, approval code and field 90 (its MTI, STAN and time); 62 keeps the STAN too.
    ...(original
      ? {
          originalStan: original.stan,
          original: {
            mti: original.requestMti ?? MTI.financialRequest,
            stan: original.stan,
            ...(original.transmittedAt !== undefined ? { transmittedAt: new Date(original.transmittedAt) } : {}),
            ...(original.rrn ? { rrn: original.rrn } : {}),
            ...(original.approvalCode ? { approvalCode: original.approvalCode } : {}),
          },
        }
      : {}),
  };
}

/**
 * PAN and expiry for the reversal's fields 2/14, sealed by the card vault (no vault: the reversal goes without them,
 * field 90 still names the original). Card data the vault refuses is left out, never a reason to stop the sale.
 */
function sealedForReversal(deps: TransactionDeps, input: AuthorizeInput): { cardBlob?: Buffer } {
  const card = input.card?.reveal();
  if (!card || !deps.vault) return {};
  try {
    return {
      cardBlob: deps.vault.seal({ pan: card.pan, expiry: card.expiry, entryMode: card.entryMode }, input.txnRef),
    };
  } catch (err) {
    if (!(err instanceof VaultError)) throw err;
    deps.log.warn({ txnRef: input.txnRef, reason: err.message }, 'card data not sealed for the reversal');
    return {};
  }
}

/** Field 39 of the reversal a failed send leaves owed. */
function reversalReasonFor(err: HostError): string {
  if (err.code === 'timeout') return REVERSAL_REASON.timeout;
  if (err.code === 'cancelled') return REVERSAL_REASON.cancelled;
  return REVERSAL_REASON.malfunction;
}

/**
 * Why the host is not asked at all: the network is known to be down. (A host link that is merely down is tried:
 * the attempt reconnects at once and fails fast when the host refuses.)
 */
function offlineReason(deps: TransactionDeps): string | undefined {
  if (deps.network?.current().link === 'down') return 'network link down';
  // A host that stopped answering would cost this sale its full response timeout too.
  return deps.hostAvailability?.isDown() ? 'host not answering' : undefined;
}

/** The host's field 39 as the journal keeps it: a code it cannot print is still an answer. */
function answeredWith(responseCode: string): string {
  return /^[ -~]{1,8}$/.test(responseCode) ? responseCode : '??';
}

/**
 * Authorize online with a pre-stored reversal, or decide offline. The order of journal writes is the point:
 * STAN, then the armed reversal, then the request; the answer and the cleared reversal land in one commit.
 */
async function authorize(deps: TransactionDeps, input: AuthorizeInput, signal: AbortSignal): Promise<Authorization> {
  const { journal } = deps;
  const now = () => new Date(deps.clock.now());
  const voided = input.kind === 'void' && input.original ? await voidOfOfflineSale(deps, input) : undefined;
  if (voided) return voided;
  // Known down (network, or a host that stopped answering): offline at once, without a send that would time out.
  const knownDown = offlineReason(deps);
  if (knownDown) return decideOffline(deps, input, knownDown);
  // Reversals owed to the host go before any new online authorization (as acquirers require); if they cannot, neither
  // can this one.
  const reversalsClear = deps.forwarder ? await deps.forwarder.flushReversals() : true;
  const downReason = reversalsClear ? offlineReason(deps) : 'reversals still owed to the host';
  if (downReason) return decideOffline(deps, input, downReason);

  const stan = journal.counters.nextStan();
  journal.transactions.recordState(input.txnRef, 'sending', { stan });
  const fields = financialRequestFor(input, stan, deps.merchant, now(), deps.messageProfile);
  // The reversal repeats the original's field 22, ids and (sealed, never in clear) PAN and expiry.
  journal.reversals.arm({
    txnRef: input.txnRef,
    stan,
    originalMti: MTI.financialRequest,
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
  let reply;
  try {
    reply = await deps.acquirer.send(buildFinancialRequest(fields), { timeoutMs: deps.responseTimeoutMs, signal });
  } catch (err) {
    if (!(err instanceof HostError)) throw err;
    if (!err.sent) {
      // It never left: nothing to reverse, and the host may simply be unreachable.
      journal.reversals.release(input.txnRef, `${err.code}: ${err.message}`);
      if (err.code === 'not-connected') return decideOffline(deps, input, err.message, stan);
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
  };
  const patch = {
    stan,
    responseCode: authorization.responseCode,
    ...(authorization.approvalCode ? { approvalCode: authorization.approvalCode } : {}),
    ...(authorization.rrn ? { rrn: authorization.rrn } : {}),
  };
  if (approvedAmount !== undefined && approvedAmount < fields.amount) {
    // The answer is kept but the stored reversal stays armed until the register accepts: a crash meanwhile reverses.
    // Its amount becomes the approved one in the same commit: a cancel reverses what the host approved.
    journal.recordPartialApproval(input.txnRef, 'partiallyApproved', patch, {
      requestedAmount: fields.amount,
      approvedAmount,
    });
  } else {
    journal.recordAuthorization(input.txnRef, 'authorized', patch);
  }
  return authorization;
}

/**
 * A void must never reach the host before the advice of the offline sale it cancels. An advice that never left is
 * cancelled with the void in one commit, so neither reaches the host; one that may have left is forwarded first,
 * and while it cannot be the void is declined. Undefined when nothing of the original is owed: the void goes online.
 */
async function voidOfOfflineSale(deps: TransactionDeps, input: AuthorizeInput): Promise<Authorization | undefined> {
  const { journal } = deps;
  const original = input.original!;
  // A pass in flight may be sending that very advice: only once it is over does attempts === 0 mean "never left".
  await deps.forwarder?.idle();
  const advice = journal.saf.forTransaction(original.txnRef);
  if (!advice || advice.state === 'forwarded' || advice.state === 'set-aside') return undefined;
  const refuse = (why: string): Authorization => ({
    responseCode: 'Z3',
    responseText: why,
    approved: false,
    offline: true,
  });
  if (advice.state === 'cancelled') return refuse('the offline sale was already voided');
  if (advice.attempts === 0) {
    const stan = journal.counters.nextStan();
    const approvalCode = offlineApprovalCode(stan);
    journal.cancelAdviceForVoid(input.txnRef, advice.id, 'authorized', { stan, responseCode: 'Y1', approvalCode });
    return {
      stan,
      responseCode: 'Y1',
      responseText: 'voided locally: the offline sale had not been sent to the host',
      approved: true,
      offline: true,
      approvalCode,
    };
  }
  const forwarded =
    !offlineReason(deps) && deps.forwarder ? await deps.forwarder.forwardAdviceOf(original.txnRef) : false;
  return forwarded
    ? undefined
    : refuse('the offline sale is still owed to the host; void it once it has been forwarded');
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

/** The host cannot be asked: approve offline within the configured limits, or decline locally saying why. */
function decideOffline(
  deps: TransactionDeps,
  input: AuthorizeInput,
  why: string,
  stanIfAllocated?: number,
): Authorization {
  const { journal } = deps;
  const card = input.card?.reveal();
  const decision =
    deps.offline && deps.vault
      ? decideOfflinePolicy(
          { kind: input.kind, amount: input.amount, entryMode: card?.entryMode },
          deps.offline,
          journal.saf.stats(),
          deps.clock.now(),
        )
      : { allowed: false as const, reason: 'offline sales are disabled' };
  if (!decision.allowed || !card || !deps.vault) {
    return {
      ...(stanIfAllocated !== undefined ? { stan: stanIfAllocated } : {}),
      responseCode: 'Z3',
      responseText: `host unreachable (${why}); declined offline: ${decision.allowed ? 'no card data' : decision.reason}`,
      approved: false,
      offline: true,
    };
  }
  const stan = stanIfAllocated ?? journal.counters.nextStan();
  const approvalCode = offlineApprovalCode(stan);
  const fields = financialRequestFor(input, stan, deps.merchant, new Date(deps.clock.now()), deps.messageProfile);
  // The approval and the queued advice (card data sealed, never track 2 or CVV) are one commit.
  journal.recordOfflineApproval(
    input.txnRef,
    'offline-approved',
    { stan, responseCode: 'Y1', approvalCode },
    {
      stan,
      processingCode: fields.processingCode,
      amount: fields.amount,
      currency: fields.currency,
      approvalCode,
      entryMode: card.entryMode,
      maskedPan: input.card!.summary.maskedPan,
      transmittedAt: fields.transmittedAt.getTime(),
      terminalId: fields.terminalId,
      merchantId: fields.merchantId,
      posEntryMode: fields.entryMode,
      ...(fields.acquiringInstitutionId !== undefined ? { acquiringInstitutionId: fields.acquiringInstitutionId } : {}),
      ...(fields.forwardingInstitutionId !== undefined
        ? { forwardingInstitutionId: fields.forwardingInstitutionId }
        : {}),
      cardBlob: deps.vault.seal(
        {
          pan: card.pan,
          expiry: card.expiry,
          entryMode: card.entryMode,
          ...(card.serviceCode ? { serviceCode: card.serviceCode } : {}),
        },
        input.txnRef,
      ),
    },
  );
  return {
    stan,
    responseCode: 'Y1',
    responseText: `approved offline (${why})`,
    approved: true,
    offline: true,
    approvalCode,
  };
}

export function provideTransactionEffects(deps: TransactionDeps) {
  const { journal, anomalies, log } = deps;
  const emit = (event: TransactionStreamEvent) => {
    try {
      deps.listener()?.(event);
    } catch (err) {
      log.error({ err }, 'transaction listener failed');
    }
  };

  return transactionMachine.provide({
    actors: {
      waitForCard: fromPromise(async ({ signal }) =>
        deps.reader.waitForCard({ signal, timeoutMs: Number.POSITIVE_INFINITY }),
      ),
      readCard: fromPromise(async () => new SensitiveCard(await deps.reader.read())),
      // No deadline: the transaction is over only when the card is out; the machine's alert and anomaly time it.
      waitForRemoval: fromPromise(async ({ signal }) =>
        deps.reader.waitForRemoval({ signal, timeoutMs: Number.POSITIVE_INFINITY }),
      ),
      assessCard: fromPromise<CardAssessment, AssessInput>(
        async ({ input }) => deps.risk?.assess(input) ?? { action: 'continue' },
      ),
      authorize: fromPromise<Authorization, AuthorizeInput>(async ({ input, signal }) => {
        // XState can start an invoked actor before the entry actions of the same macrostep have run; yield once so
        // the journal shows the states in the order they were entered.
        await Promise.resolve();
        return authorize(deps, input, signal);
      }),
      printReceipts: fromPromise<{ warnings: string[] }, ReceiptInput>(async ({ input }) => {
        const now = new Date(deps.clock.now());
        const warnings: string[] = [];
        for (const copy of ['merchant', 'customer'] as const) {
          const result = await deps.printer.print(buildReceipt(input, copy, deps.merchant, now));
          warnings.push(...result.warnings);
        }
        if (warnings.includes('paper-near-end')) {
          anomalies.raise('printer-paper-near-end', { txnRef: input.txnRef }, { show: false });
        }
        return { warnings };
      }),
    },
    actions: {
      askPartialDecision: (_, params) => emit({ type: 'partial', ...params }),
      settlePartial: ({ context }, { accepted, reason }) => {
        if (accepted) {
          // The customer agreed: the stored reversal is cleared and the sale stands for the approved amount.
          journal.recordAuthorization(
            context.txnRef,
            'partialAccepted',
            { amount: context.partial!.approvedAmount },
            { ...context.partial },
          );
        } else {
          // The customer did not take the partial amount: a customer cancellation in field 39 of the 0400.
          journal.reversals.markPending(context.txnRef, reason, { reasonCode: REVERSAL_REASON.cancelled });
          deps.forwarder?.kick();
        }
      },
      outcomeKnown: (_, { output }) => {
        try {
          deps.onOutcome?.(output);
        } catch (err) {
          log.error({ err }, 'outcome listener failed');
        }
      },
      recordState: ({ context }, params) => {
        journal.transactions.recordState(context.txnRef, params.state, patchFrom(context), params.detail);
        emit({ type: 'state', state: params.state });
      },
      showScreen: (_, params) => {
        deps.display.show(params.screen).catch((err: unknown) => log.error({ err }, 'screen could not be shown'));
        emit({ type: 'screen', screen: params.screen });
      },
      raiseAnomaly: ({ context }, params) => {
        anomalies.raise(params.name, {
          txnRef: params.txnRef,
          ...(params.reason !== undefined ? { reason: params.reason } : {}),
          ...(context.stan !== undefined ? { stan: context.stan } : {}),
          amount: context.amount,
          currency: context.currency,
          ...(context.card ? { maskedPan: context.card.summary.maskedPan } : {}),
          ...(params.fault ? { detail: { fault: params.fault } } : {}),
        });
      },
    },
  });
}
