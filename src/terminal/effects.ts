/**
 * The effects the transaction machine needs, built from devices, the journal and the host client. This is where
 * "commit before the effect" is honoured: the STAN is committed before the request leaves.
 */
import type { CardReader, EntryMode } from '../../hal/card-reader/contract.js';
import type { Clock } from '../../hal/clock.js';
import type { Display, Screen } from '../../hal/display/contract.js';
import type { Printer } from '../../hal/printer/contract.js';
import { fromPromise } from 'xstate';
import { anomalyByName, isAnomalyName } from '../anomaly/index.js';
import type { AnomalyRecorder } from '../anomaly/recorder.js';
import { SensitiveCard } from '../card/sensitive-card.js';
import { HostError, type AcquirerClient } from '../host/acquirer-client.js';
import { buildFinancialRequest, describeResponseCode, PROCESSING_CODE, type FinancialRequest } from '../iso8583/index.js';
import type { Journal, TransactionPatch } from '../journal/index.js';
import { buildReceipt, type MerchantInfo } from '../receipt/receipt.js';
import type { TransactionContext } from '../transaction/machine.js';
import { transactionMachine } from '../transaction/machine.js';
import { AuthorizationFailure, type Authorization, type AuthorizeInput, type ReceiptInput } from '../transaction/types.js';
import type { Logger } from '../util/log.js';

/** ISO 8583 field 22: PAN entry mode (2 digits) + PIN entry capability (1 = can accept PIN). */
const POS_ENTRY_MODE: Record<EntryMode, string> = {
  manual: '011',
  swipe: '901',
  chip: '051',
  contactless: '071',
  'fallback-swipe': '801',
};

export type TransactionStreamEvent = { type: 'state'; state: string } | { type: 'screen'; screen: Screen };
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
}

/** The journal keeps the stable on-screen code (E101…), as the anomalies table does. */
export function anomalyCode(name: string): string {
  return isAnomalyName(name) ? anomalyByName(name).code : name;
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
    ...(context.outcome ? { outcome: context.outcome } : {}),
    ...(anomaly ? { anomalyCode: anomalyCode(anomaly.name) } : {}),
    receiptStatus: context.receipt,
  };
}

export function financialRequestFor(input: AuthorizeInput, stan: number, identity: { terminalId: string; merchantId: string }, now: Date): FinancialRequest {
  const card = input.card?.reveal();
  return {
    processingCode: input.kind === 'refund' ? PROCESSING_CODE.refund : input.kind === 'void' ? PROCESSING_CODE.void : PROCESSING_CODE.purchase,
    amount: input.amount,
    currency: input.currency,
    stan,
    transmittedAt: now,
    terminalId: identity.terminalId,
    merchantId: identity.merchantId,
    entryMode: card ? POS_ENTRY_MODE[card.entryMode] : '011',
    ...(card ? { pan: card.pan, expiry: card.expiry } : {}),
    ...(card?.track2 ? { track2: card.track2 } : {}),
    ...(card?.iccData ? { iccData: card.iccData } : {}),
    ...(input.original ? { originalStan: input.original.stan } : {}),
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
      waitForCard: fromPromise(async ({ signal }) => deps.reader.waitForCard({ signal, timeoutMs: Number.POSITIVE_INFINITY })),
      readCard: fromPromise(async () => new SensitiveCard(await deps.reader.read())),
      authorize: fromPromise<Authorization, AuthorizeInput>(async ({ input, signal }) => {
        // XState can start an invoked actor before the entry actions of the same macrostep have run; yield once so
        // the journal shows the states in the order they were entered.
        await Promise.resolve();
        // Committed before the request leaves: a crash after this line still knows which STAN may be at the host.
        const stan = journal.nextStan();
        journal.recordState(input.txnRef, 'sending', { stan });
        const request = buildFinancialRequest(financialRequestFor(input, stan, deps.merchant, new Date(deps.clock.now())));
        try {
          const reply = await deps.acquirer.send(request, { timeoutMs: deps.responseTimeoutMs, signal });
          const info = describeResponseCode(reply.responseCode);
          return {
            stan,
            responseCode: reply.responseCode,
            responseText: info?.meaning ?? 'unknown response code',
            approved: reply.responseCode === '00',
            ...(reply.approvalCode ? { approvalCode: reply.approvalCode.trim() } : {}),
            ...(reply.rrn ? { rrn: reply.rrn.trim() } : {}),
          };
        } catch (err) {
          if (err instanceof HostError) throw new AuthorizationFailure(err.code, err.message, err.sent, stan);
          throw err;
        }
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
      recordState: ({ context }, params) => {
        journal.recordState(context.txnRef, params.state, patchFrom(context), params.detail);
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
