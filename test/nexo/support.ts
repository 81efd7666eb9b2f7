/**
 * A nexo handler on a whole terminal app on mocks, request builders as a nexo client sends them, and the check of
 * every response against the published nexo typings of `@adyen/api-library`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ObjectSerializer } from '@adyen/api-library/lib/src/typings/terminal/models.js';
import { ErrorConditionType } from '@adyen/api-library/lib/src/typings/terminal/errorConditionType.js';
import { ResultType } from '@adyen/api-library/lib/src/typings/terminal/resultType.js';
import type { SaleToPOIResponse } from '@adyen/api-library/lib/src/typings/terminal/saleToPOIResponse.js';
import { expect } from 'vitest';
import { AnomalyRecorder } from '../../src/anomaly/recorder.js';
import type { TerminalApp } from '../../src/app/compose.js';
import type { PosConfig } from '../../src/config/index.js';
import type { Locale } from '../../src/i18n/index.js';
import type { LedgerEntry } from '../../src/acquirer-sim/types.js';
import { createNexoHandler } from '../../src/nexo/handler.js';
import type { NexoHandler } from '../../src/nexo/types.js';
import { bootApp as bootAppWith } from '../app/boot.js';
import { until } from '../support/wait.js';

export const POI_ID = 'P400Plus-000158';
export const SALE_ID = 'POS-1';
export const context = { clientId: '127.0.0.1', sealed: false };

const ledgers = new WeakMap<TerminalApp, string>();

/** As test/app/boot.ts, with the host simulator's ledger in a file the test reads; `nexo` configures the endpoint. */
async function bootApp(nexo?: Partial<PosConfig['ecr']['nexo']>): Promise<TerminalApp> {
  let ledger = '';
  const app = await bootAppWith([], {
    nexo: { ...nexo, poiId: POI_ID },
    hostLedgerPath: (dataDir) => {
      ledger = join(dataDir, 'host-ledger.jsonl');
      return ledger;
    },
  });
  ledgers.set(app, ledger);
  return app;
}

/** A whole terminal with its nexo endpoint listening over HTTPS, as `ecr.nexo` configures it. */
export function bootNexoApp(nexo: Partial<PosConfig['ecr']['nexo']>): Promise<TerminalApp> {
  return bootApp(nexo);
}

/** `locale`: the language and zone of the receipts the handler returns (the terminal's configuration gives them). */
export async function bootNexo(locale?: Locale): Promise<{ app: TerminalApp; nexo: NexoHandler }> {
  const app = await bootApp();
  const nexo = createNexoHandler({
    commands: app.commands,
    journal: app.journal,
    anomalies: new AnomalyRecorder(app.journal, app.display, app.log),
    clock: { now: () => Date.now() },
    poiId: POI_ID,
    defaultCurrency: app.config.terminal.currency,
    merchantId: 'TestMerchant',
    ...(locale ? { locale } : {}),
  });
  return { app, nexo };
}

export function header(category: string, serviceId: string, saleId = SALE_ID) {
  return {
    ProtocolVersion: '3.0',
    MessageClass: category === 'Display' || category === 'Print' ? 'Device' : 'Service',
    MessageCategory: category,
    MessageType: 'Request',
    SaleID: saleId,
    ServiceID: serviceId,
    POIID: POI_ID,
  };
}

export function paymentRequest(serviceId: string, amount: number | string, currency = 'EUR', extra: object = {}) {
  return {
    SaleToPOIRequest: {
      MessageHeader: header('Payment', serviceId),
      PaymentRequest: {
        SaleData: { SaleTransactionID: { TransactionID: `order-${serviceId}`, TimeStamp: '2026-12-02T08:00:00.000Z' } },
        PaymentTransaction: { AmountsReq: { Currency: currency, RequestedAmount: amount } },
        ...extra,
      },
    },
  };
}

export function request(category: string, serviceId: string, body: object) {
  return { SaleToPOIRequest: { MessageHeader: header(category, serviceId), [`${category}Request`]: body } };
}

/** The transaction starts waiting for a card; then the cardholder presents this one. */
export async function presentWhenAsked(app: TerminalApp, card: string): Promise<void> {
  await until(() => app.terminal.status().transaction?.state === 'waitingForCard', 'waiting for a card');
  expect(app.simulator.run({ kind: 'card', name: card })).toMatchObject({ ok: true });
}

/** The requests of this MTI the host simulator received, from its ledger. */
export function authorizations(app: TerminalApp, mti = '0200'): LedgerEntry[] {
  let text = '';
  try {
    text = readFileSync(ledgers.get(app) ?? '', 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as LedgerEntry)
    .filter((e) => e.dir === 'in' && e.mti === mti);
}

const CONDITIONS = new Set<string>(Object.values(ErrorConditionType).map(String));
const RESULTS = new Set<string>(Object.values(ResultType).map(String));

/** Every Response in the tree has a published Result and ErrorCondition. */
function checkResponses(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) checkResponses(item);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  for (const [key, value] of Object.entries(node)) {
    if (key === 'Response' && typeof value === 'object' && value !== null) {
      const r = value as Record<string, unknown>;
      expect(RESULTS).toContain(r['Result']);
      if (r['ErrorCondition'] !== undefined) expect(CONDITIONS).toContain(r['ErrorCondition']);
    }
    checkResponses(value);
  }
}

/**
 * The response as the published SaleToPOIResponse: the library's serializer keeps only the fields its typings
 * declare, so a round trip that loses nothing means every field we sent is a published one, in its place.
 */
export function published(reply: { SaleToPOIResponse: Record<string, unknown> }): SaleToPOIResponse {
  const body = reply.SaleToPOIResponse;
  const typed = ObjectSerializer.deserialize(body, 'SaleToPOIResponse') as SaleToPOIResponse;
  const again = JSON.parse(JSON.stringify(ObjectSerializer.serialize(typed, 'SaleToPOIResponse')));
  expect(again).toEqual(body);
  checkResponses(body);
  expect(typed.MessageHeader.POIID).toBe(POI_ID);
  expect(String(typed.MessageHeader.MessageType)).toBe('Response');
  return typed;
}
