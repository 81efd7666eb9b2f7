/**
 * The sale benchmark's workload through the nexo endpoint, beside the NDJSON one in the same run on the same
 * terminal: ECR `sale` in → `result` out, then nexo Payment over HTTPS on loopback, plain and sealed as an Adyen
 * client seals it (PBKDF2-derived keys, AES-256-CBC, HMAC-SHA256). The card is tapped before each sale over the
 * ECR connection, as the sale benchmark does; the HTTPS connection is kept alive, as a register keeps it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { startTerminalApp } from '../src/app/compose.js';
import { loadConfig } from '../src/config/index.js';
import { EcrClient } from '../src/ecr/client.js';
import { createLogger } from '../src/util/log.js';
import { adyenOpen, adyenSeal, TEST_KEY, TEST_KEY_CONFIG, type AdyenSealed } from '../test/nexo/adyen.js';

export interface LatencyFigures {
  sales: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  salesPerSecond: number;
}

export interface NexoSaleBenchResult {
  name: string;
  /** The same-run reference: NDJSON `sale` on the same terminal, just before the nexo runs. */
  ndjson: LatencyFigures;
  plain: LatencyFigures;
  /** As an Adyen client sees it: its sealing and opening of each message included. */
  sealed: LatencyFigures;
  /** The same sealed sales, the HTTPS exchange alone: what the terminal adds (opening, handling, sealing). */
  sealedWire: Omit<LatencyFigures, 'salesPerSecond'>;
  /** Read back from the journal afterwards: every sale, warm-up included, approved once and none left in flight. */
  journal: {
    expectedApproved: number;
    approved: number;
    approvedAmount: number;
    expectedAmount: number;
    inFlight: number;
  };
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

function figures(latencies: number[], seconds: number): LatencyFigures {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    sales: latencies.length,
    p50Ms: Number(percentile(sorted, 50).toFixed(3)),
    p99Ms: Number(percentile(sorted, 99).toFixed(3)),
    maxMs: Number((sorted.at(-1) ?? 0).toFixed(3)),
    salesPerSecond: Math.round(latencies.length / seconds),
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
  const dataDir = mkdtempSync(join(tmpdir(), 'pos-bench-nexo-'));
  const { config } = loadConfig({ env: {} });
  const app = await startTerminalApp(
    {
      ...config,
      dataDir,
      host: { ...config.host, address: '127.0.0.1:0' },
      ecr: {
        ...config.ecr,
        port: 0,
        socketPath: null,
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
      mqtt: { ...config.mqtt, url: 'mqtt://127.0.0.1:0' },
    },
    { log: createLogger(process.env['POS_LOG_LEVEL'] === 'debug' ? 'error' : 'silent') },
  );
  const nexoPort = app.nexo?.port;
  if (nexoPort === undefined) throw new Error('bench: the nexo endpoint did not start');
  const client = await EcrClient.connect({ port: app.ecr.port });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  // A new amount each time, across all three: the same card and amount again would be held as a duplicate.
  let amount = 1_000;
  let expectedAmount = 0;
  let serviceId = 0;
  const tap = () => client.call({ cmd: 'sim.card', name: 'visa' });

  const ndjsonSale = async () => {
    await tap();
    const t0 = performance.now();
    expectedAmount += amount;
    const result = await client.call({ cmd: 'sale', amount: amount++ });
    const ms = performance.now() - t0;
    if (result['outcome'] !== 'approved') throw new Error(`bench sale not approved: ${JSON.stringify(result)}`);
    return ms;
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
    const latencies: number[] = [];
    const start = performance.now();
    for (let i = 0; i < sales; i++) latencies.push(await sale());
    return figures(latencies, (performance.now() - start) / 1_000);
  };

  try {
    const ndjson = await measure(ndjsonSale);
    const plain = await measure(nexoSale(false));
    const sealed = await measure(nexoSale(true));
    const { salesPerSecond: _rate, ...sealedWire } = figures(wire, 1);
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
    await client.close();
    await app.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  benchNexoSale().then((r) => process.stdout.write(`${JSON.stringify(r)}\n`));
}
