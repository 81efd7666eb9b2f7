/**
 * The nexo Retailer front end (Sale to POI 3.0, JSON as in Adyen's Terminal API): one SaleToPOIRequest in, one
 * SaleToPOIResponse out. It only translates: every payment, refund, reversal and cancel goes to the one command
 * service (repeats of SaleID + ServiceID answered from the journal by its request id), every answer is read back
 * from the journal. Bad input is answered Failure MessageFormat and journaled; nothing is charged for it.
 */
import type { Locale } from '../i18n/index.js';
import {
  type Json,
  isObject,
  looseHeader,
  NexoFormatError,
  objectAt,
  optionalObjectAt,
  optionalStringAt,
  type RequestHeader,
  readHeader,
  requestIdOf,
  stringAt,
} from './messages/fields.js';
import { conditionOfRefusal } from './messages/error-conditions.js';
import { diagnosisResponse } from './messages/diagnosis.js';
import { display, print } from './messages/device.js';
import { parsePayment, paymentResponse, type SaleTransaction, supervisorPinOf } from './messages/payment.js';
import { failure, type NexoResult, responseHeader, success } from './messages/response.js';
import { parseReversal, reversalResponse } from './messages/reversal.js';
import { BoundedMap } from './messages/bounded-map.js';
import type {
  NexoCommandResult,
  NexoHandlerDeps,
  NexoSelfTest,
  NexoStatus,
  NexoTransactionAnswer,
  NexoTransactionRecord,
} from './ports.js';
import type { NexoContext, NexoHandler } from './types.js';

/** Categories nexo defines that this terminal does not serve: answered UnavailableService, not MessageFormat. */
const UNSERVED = new Set([
  'Admin',
  'BalanceInquiry',
  'Batch',
  'CardAcquisition',
  'CardReaderAPDU',
  'CardReaderInit',
  'CardReaderPowerOff',
  'EnableService',
  'GetTotals',
  'Input',
  'Loyalty',
  'PIN',
  'Reconciliation',
  'Sound',
  'StoredValue',
  'Transmit',
]);

type Reply = { SaleToPOIResponse: Json };

export function createNexoHandler(deps: NexoHandlerDeps): NexoHandler {
  const handler = new NexoMessageHandler(deps);
  return (message, context) => handler.handle(message, context);
}

export class NexoMessageHandler {
  /** Logged-in sale systems by SaleID (a payment without a login is taken all the same, as Adyen does). */
  private readonly sessions = new BoundedMap<string, { operatorId?: string }>(256);
  /** The SaleData each payment echoes, by request id (a status request answers it again). */
  private readonly sales = new BoundedMap<string, SaleTransaction>(1000);
  /** The payment each reversal reversed, by request id. */
  private readonly originals = new BoundedMap<string, string>(1000);
  /** The last payment or reversal of each SaleID: what a TransactionStatus without MessageReference asks about. */
  private readonly lastService = new BoundedMap<string, { ServiceID: string; category: string }>(256);
  private readonly running = new Set<string>();
  private readonly aborted = new BoundedMap<string, true>(1000);

  constructor(private readonly deps: NexoHandlerDeps) {}

  async handle(message: { SaleToPOIRequest: Json }, context: NexoContext): Promise<Reply> {
    const request = isObject(message) ? message.SaleToPOIRequest : undefined;
    if (!isObject(request)) return this.badInput({}, 'SaleToPOIRequest: expected an object', context);
    let header: RequestHeader | undefined;
    try {
      header = readHeader(request);
      return await this.dispatch(header, request, context);
    } catch (err) {
      const loose = header ?? looseHeader(request);
      if (err instanceof NexoFormatError) return this.badInput(loose, err.message, context);
      // The journal refuses an id that looks like a card number: bad input too, and the value is not repeated.
      if (isCardDataRefusal(err)) return this.badInput(loose, 'an identifier looks like a card number', context);
      this.deps.anomalies.raise(
        'system-fault',
        { reason: `nexo ${context.clientId}: ${describe(err)}` },
        { show: false },
      );
      return this.reply(loose, failure('UnavailableService', { reason: 'internal-error' }));
    }
  }

  private async dispatch(header: RequestHeader, request: Json, context: NexoContext): Promise<Reply> {
    const category = header.MessageCategory;
    const body = request[`${category}Request`];
    if (UNSERVED.has(category) || category === 'Event' || category === 'InputUpdate')
      return this.reply(header, failure('UnavailableService', { reason: `${category} is not served` }));
    const known = [
      'Login',
      'Logout',
      'Payment',
      'Reversal',
      'TransactionStatus',
      'Abort',
      'Diagnosis',
      'Display',
      'Print',
    ];
    if (!known.includes(category)) throw new NexoFormatError('MessageHeader.MessageCategory', 'unknown category');
    if (!isObject(body)) throw new NexoFormatError(`${category}Request`, 'expected an object');
    const client = `nexo:${context.clientId}`;
    switch (category) {
      case 'Login': {
        const operatorId = optionalStringAt(body, 'OperatorID', 'LoginRequest');
        this.sessions.set(header.SaleID, operatorId !== undefined ? { operatorId } : {});
        return this.reply(header, success(), {
          POISystemData: { DateTime: new Date(this.deps.clock.now()).toISOString(), POIStatus: { GlobalStatus: 'OK' } },
        });
      }
      case 'Logout':
        this.sessions.delete(header.SaleID);
        return this.reply(header, success());
      case 'Payment':
        return this.payment(header, body, client);
      case 'Reversal':
        return this.reversal(header, body, client);
      case 'TransactionStatus':
        return this.transactionStatus(header, body);
      case 'Abort':
        return this.abort(header, body, client);
      case 'Diagnosis':
        return this.diagnosis(header, body, client);
      case 'Display':
        return this.body(header, await display(body, (command) => this.deps.commands.run(command, { client })));
      default:
        return this.body(header, await print(body, (command) => this.deps.commands.run(command, { client })));
    }
  }

  private async payment(header: RequestHeader, body: Json, client: string): Promise<Reply> {
    const requestId = requestIdOf(header.SaleID, header.ServiceID);
    const parsed = parsePayment(body, this.deps.defaultCurrency, requestId);
    if (!parsed.ok)
      return this.reply(header, failure('UnavailableService', { reason: `${parsed.unsupported} is not supported` }));
    this.sales.set(requestId, parsed.sale);
    this.lastService.set(header.SaleID, { ServiceID: header.ServiceID, category: 'Payment' });
    const result = await this.runTransaction(requestId, parsed.command, client);
    if (!result.ok) return this.reply(header, result.refused, { SaleData: { SaleTransactionID: parsed.sale } });
    return this.body(header, this.paymentBody(result.record, parsed.sale, requestId, result.anomalyMessage));
  }

  private async reversal(header: RequestHeader, body: Json, client: string): Promise<Reply> {
    const requestId = requestIdOf(header.SaleID, header.ServiceID);
    const { originalTxnRef, saleData } = parseReversal(body);
    const original = this.deps.journal.transactions.get(originalTxnRef);
    if (!original || original.stan === null || original.kind === 'void')
      return this.body(
        header,
        reversalResponse({ poiId: this.deps.poiId, refused: failure('NotFound', { reason: 'no such payment' }) }),
      );
    this.originals.set(requestId, original.txnRef);
    this.lastService.set(header.SaleID, { ServiceID: header.ServiceID, category: 'Reversal' });
    const pin = supervisorPinOf(saleData, 'ReversalRequest.SaleData');
    const result = await this.runTransaction(
      requestId,
      { kind: 'void', stan: original.stan, rights: { pin }, requestId },
      client,
    );
    const { poiId } = this.deps;
    if (!result.ok) return this.body(header, reversalResponse({ original, poiId, refused: result.refused }));
    return this.body(
      header,
      reversalResponse({
        record: result.record,
        original,
        poiId,
        ...anomalyMessageOf(result.anomalyMessage),
        ...this.receiptLocale(),
      }),
    );
  }

  /** Runs a transaction command; a refusal before any transaction ran becomes a nexo Response. */
  private async runTransaction(
    requestId: string,
    command: Parameters<NexoHandlerDeps['commands']['run']>[0],
    client: string,
  ): Promise<
    { ok: true; record: NexoTransactionRecord; anomalyMessage?: string } | { ok: false; refused: NexoResult }
  > {
    // A repeat of a running request must not end the first one's mark (the Abort of it still finds it).
    const first = !this.running.has(requestId);
    if (first) this.running.add(requestId);
    let result: NexoCommandResult;
    try {
      result = await this.deps.commands.run(command, { client });
    } finally {
      if (first) this.running.delete(requestId);
    }
    if (!result.ok) {
      // A repeat of a request that is still running: nexo's InProgress, not a second transaction.
      const earlier = this.deps.journal.transactions.findByEcrRequestId(requestId);
      const condition =
        result.error === 'busy' && earlier?.outcome === null ? 'InProgress' : conditionOfRefusal(result);
      return { ok: false, refused: failure(condition, { error: result.error, message: result.message }) };
    }
    const answer = result.value as NexoTransactionAnswer;
    const record = this.deps.journal.transactions.get(answer.txnRef);
    if (!record) throw new Error(`transaction ${answer.txnRef} is not in the journal`);
    return { ok: true, record, ...anomalyMessageOf(answer.anomaly?.message) };
  }

  private paymentBody(
    record: NexoTransactionRecord,
    sale: SaleTransaction,
    requestId: string,
    anomalyMessage?: string,
  ): Json {
    const { poiId, merchantId = '' } = this.deps;
    const response = paymentResponse({
      ...{ record, sale, poiId, merchantId },
      ...anomalyMessageOf(anomalyMessage),
      ...this.receiptLocale(),
    });
    // Cancelled because the register sent Abort: nexo's Aborted, not the cardholder's Cancel.
    if (record.outcome === 'cancelled' && this.aborted.has(requestId))
      response['Response'] = { ...(response['Response'] as Json), ErrorCondition: 'Aborted' };
    return response;
  }

  private transactionStatus(header: RequestHeader, body: Json): Reply {
    const ref = optionalObjectAt(body, 'MessageReference', 'TransactionStatusRequest');
    const path = 'TransactionStatusRequest.MessageReference';
    const last = this.lastService.get(header.SaleID);
    const saleId = (ref && optionalStringAt(ref, 'SaleID', path)) ?? header.SaleID;
    const serviceId = ref ? stringAt(ref, 'ServiceID', path, 32) : last?.ServiceID;
    const category = (ref && optionalStringAt(ref, 'MessageCategory', path, 32)) ?? last?.category ?? 'Payment';
    const reference = { MessageCategory: category, SaleID: saleId, ...(serviceId ? { ServiceID: serviceId } : {}) };
    const notFound = () =>
      this.reply(header, failure('NotFound', { reason: 'no such transaction' }), { MessageReference: reference });
    if (serviceId === undefined || (category !== 'Payment' && category !== 'Reversal')) return notFound();
    const requestId = requestIdOf(saleId, serviceId);
    const record = this.deps.journal.transactions.findByEcrRequestId(requestId);
    if (!record || (category === 'Reversal') !== (record.kind === 'void')) return notFound();
    if (record.outcome === null || this.running.has(requestId))
      return this.reply(header, failure('InProgress', { txnRef: record.txnRef }), { MessageReference: reference });
    const sale = this.sales.get(requestId) ?? {
      TransactionID: serviceId,
      TimeStamp: new Date(record.createdAt).toISOString(),
    };
    const originalRef = this.originals.get(requestId);
    const original = originalRef ? this.deps.journal.transactions.get(originalRef) : undefined;
    const repeated =
      category === 'Payment'
        ? { PaymentResponse: this.paymentBody(record, sale, requestId) }
        : {
            ReversalResponse: reversalResponse({
              ...{ record, poiId: this.deps.poiId },
              ...(original ? { original } : {}),
              ...this.receiptLocale(),
            }),
          };
    return this.reply(header, success(), {
      MessageReference: reference,
      RepeatedMessageResponse: {
        MessageHeader: responseHeader(
          { MessageClass: 'Service', MessageCategory: category, SaleID: saleId, ServiceID: serviceId },
          this.deps.poiId,
        ),
        RepeatedResponseMessageBody: repeated,
      },
    });
  }

  /** The receipts' language and zone, when configured. */
  private receiptLocale(): { locale?: Locale } {
    return this.deps.locale ? { locale: this.deps.locale } : {};
  }

  /** Abort has no response body in nexo: the aborted payment answers Failure Aborted. */
  private async abort(header: RequestHeader, body: Json, client: string): Promise<Reply> {
    const ref = objectAt(body, 'MessageReference', 'AbortRequest');
    const path = 'AbortRequest.MessageReference';
    const saleId = optionalStringAt(ref, 'SaleID', path) ?? header.SaleID;
    const requestId = requestIdOf(saleId, stringAt(ref, 'ServiceID', path, 32));
    // Only a transaction this register started here is cancelled, never another front end's.
    if (this.running.has(requestId)) {
      this.aborted.set(requestId, true);
      await this.deps.commands.run({ kind: 'cancel' }, { client });
    }
    return { SaleToPOIResponse: { MessageHeader: responseHeader(header, this.deps.poiId) } };
  }

  private async diagnosis(header: RequestHeader, body: Json, client: string): Promise<Reply> {
    const hostDiagnosis = body['HostDiagnosisFlag'] === true;
    const status = await this.deps.commands.run({ kind: 'status' }, { client });
    const now = (status.ok ? status.value : { state: 'unknown', hostUp: false }) as NexoStatus;
    // During a transaction the self-test is refused: the status alone answers (GlobalStatus Busy).
    const test = now.transaction ? undefined : await this.deps.commands.run({ kind: 'selftest' }, { client });
    const report = test?.ok ? (test.value as NexoSelfTest) : undefined;
    return this.body(header, diagnosisResponse(report, now, [...this.sessions.keys()], hostDiagnosis));
  }

  private badInput(header: Partial<RequestHeader>, reason: string, context: NexoContext): Reply {
    this.deps.anomalies.raise('invalid-input', { reason: `nexo ${context.clientId}: ${reason}` }, { show: false });
    return this.reply(header, failure('MessageFormat', { reason: 'message-format', message: reason }));
  }

  /** A response whose body is Response plus `extra`, under `<Category>Response`. */
  private reply(header: Partial<RequestHeader>, response: NexoResult, extra: Json = {}): Reply {
    return this.body(header, { Response: response, ...extra });
  }

  private body(header: Partial<RequestHeader>, body: Json): Reply {
    const category = header.MessageCategory ?? 'Event';
    return {
      SaleToPOIResponse: { MessageHeader: responseHeader(header, this.deps.poiId), [`${category}Response`]: body },
    };
  }
}

function anomalyMessageOf(message: string | undefined): { anomalyMessage?: string } {
  return message !== undefined ? { anomalyMessage: message } : {};
}

function isCardDataRefusal(err: unknown): boolean {
  return (
    err instanceof Error && err.name === 'JournalError' && (err as { code?: unknown }).code === 'card-data-refused'
  );
}

/** An unexpected error in one line, for the journal (never the stack). */
function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}`.slice(0, 200) : 'unknown error';
}
