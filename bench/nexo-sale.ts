/**
 * The sale benchmark's workload through the nexo endpoint, beside the NDJSON one in the same run on the same
 * terminal: ECR `sale` in → `result` out, then nexo Payment over HTTPS on loopback, plain and sealed as an Adyen
 * client seals it (PBKDF2-derived keys, AES-256-CBC, HMAC-SHA256). The card is tapped before each sale over the
 * ECR connection, as the sale benchmark does; the HTTPS connection is kept alive, as a register keeps it.
 */
import { Agent, request as httpsRequest } from 'node:https';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { adyenOpen, adyenSeal, TEST_KEY, TEST_KEY_CONFIG, type AdyenSealed } from '../test/nexo/adyen.js';
import { type LatencyFigures, measureSales, type SaleFigures, saleFigures } from './stats.js';
import { startBenchTerminal, tappedSale } from './terminal.js';

export type { LatencyFigures } from './stats.js';

export interface NexoSaleBenchResult {
  name: string;
  /** The same-run reference: NDJSON `sale` on the same terminal, just before the nexo runs. */
  ndjson: LatencyFigures;
  plain: LatencyFigures;
  /** As an Adyen client sees it: its sealing and opening of each message included. */
  sealed: LatencyFigures;
  /** The same sealed sales, the HTTPS exchange alone: what the terminal adds (opening, handling, sealing). */
  sealedWire: SaleFigures;
  /** Read back from the journal afterwards: every sale, warm-up included, approved once and none left in flight. */
  journal: {
    expectedApproved: number;
    approved: number;
    approvedAmount: number;
    expectedAmount: number;
    inFlight: number;
  };
}

function post(agent: Agent, port: number, body: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      // The terminal's certificate is self-signed; a register pins it by fingerprint (see the e2e test).
      { host: '127.0.0.1', port, path: '/nexo/', method: 'POST', rejectUnauthorized: false, agent },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => {
          try {
            resolve(JSON.parse(text));
          } catch (err) {
            reject(err);
          }
        });
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

function paymentRequest(serviceId: string, minor: number) {
  return {
    SaleToPOIRequest: {
      MessageHeader: {
        ProtocolVersion: '3.0',
        MessageClass: 'Service',
        MessageCategory: 'Payment',
        MessageType: 'Request',
        SaleID: 'BENCH-POS',
        ServiceID: serviceId,
        POIID: 'BENCH-POI',
      },
      PaymentRequest: {
        SaleData: { SaleTransactionID: { TransactionID: `order-${serviceId}`, TimeStamp: new Date().toISOString() } },
        PaymentTransaction: { AmountsReq: { Currency: 'EUR', RequestedAmount: minor / 100 } },
      },
    },
  };
}

export async function benchNexoSale(sales = 1_000, warmup = 100): Promise<NexoSaleBenchResult> {
  const { app, client, stop } = await startBenchTerminal({
    dirPrefix: 'pos-bench-nexo-',
    configure: (config) => ({
      ...config,
      ecr: {
        ...config.ecr,
        nexo: {
          ...config.ecr.nexo,
          enabled: true,
          host: '127.0.0.1',
          port: 0,
          poiId: 'BENCH-POI',
          allowPlain: true,
          securityKeys: [TEST_KEY_CONFIG],
        },
      },
    }),
  });
  const nexoPort = app.nexo?.port;
  if (nexoPort === undefined) {
    await stop();
    throw new Error('bench: the nexo endpoint did not start');
  }
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  // A new amount each time, across all three: the same card and amount again would be held as a duplicate.
  let amount = 1_000;
  let expectedAmount = 0;
  let serviceId = 0;
  const tap = () => client.call({ cmd: 'sim.card', name: 'visa' });

  const ndjsonSale = () => {
    expectedAmount += amount;
    return tappedSale(client, amount++);
  };
  // The sealed round trip as a register sees it, the Adyen library's sealing and opening included; `wire` only
  // the HTTPS exchange, the terminal's share (the library derives its key with PBKDF2 on every call).
  const wire: number[] = [];
  const nexoSale = (sealed: boolean) => async () => {
    await tap();
    expectedAmount += amount;
    const body = paymentRequest(String(++serviceId), amount++);
    const t0 = performance.now();
    const sent = sealed ? adyenSeal(body, TEST_KEY) : body;
    const w0 = performance.now();
    const raw = await post(agent, nexoPort, sent);
    const wireMs = performance.now() - w0;
    const answer = (sealed ? adyenOpen(raw as { SaleToPOIResponse: AdyenSealed }, TEST_KEY) : raw) as {
      SaleToPOIResponse?: { PaymentResponse?: { Response?: { Result?: string } } };
    };
    const ms = performance.now() - t0;
    const result = answer.SaleToPOIResponse?.PaymentResponse?.Response?.Result;
    if (result !== 'Success') throw new Error(`bench nexo payment not approved: ${JSON.stringify(answer)}`);
    wire.push(wireMs);
    return ms;
  };
  const measure = async (sale: () => Promise<number>) => {
    for (let i = 0; i < warmup; i++) await sale();
    wire.length = 0;
    return measureSales(sale, sales);
  };

  try {
    const ndjson = await measure(ndjsonSale);
    const plain = await measure(nexoSale(false));
    const sealed = await measure(nexoSale(true));
    const sealedWire = saleFigures(wire);
    const approved = app.journal.transactions.list({ outcome: 'approved' });
    return {
      name: 'nexo-sale (nexo Payment over HTTPS beside ECR sale)',
      ndjson,
      plain,
      sealed,
      sealedWire,
      journal: {
        expectedApproved: 3 * (warmup + sales),
        approved: approved.length,
        approvedAmount: approved.reduce((sum, t) => sum + t.amount, 0),
        expectedAmount,
        inFlight: app.journal.transactions.inFlight().length,
      },
    };
  } finally {
    agent.destroy();
    await stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  benchNexoSale().then((r) => process.stdout.write(`${JSON.stringify(r)}\n`));
}
