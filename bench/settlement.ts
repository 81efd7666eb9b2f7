/**
 * End of day on a full batch: 10,000 approved sales settled with the acquirer host simulator on loopback, the host
 * told to disagree once, so the settlement is a 0500 (95), the upload of every transaction (one 0320 and one durable
 * commit of its progress each) and the 0500 after upload (00). Checked against the host: every STAN uploaded once,
 * the host's own totals equal to the terminal's. Beside it, measured in the same run on the same link: the same
 * 0320s sent without a journal (what the round trips alone cost) and one fsync'd commit of the journal's disk (what
 * the progress commit costs), so the upload's rate can be read against both.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { systemClock } from '../hal/clock.js';
import { MockDisplay } from '../hal/display/mock.js';
import { TcpHostLink } from '../hal/acquirer-link/tcp.js';
import { AcquirerClient, isoCorrelator } from '../src/acquirer/acquirer-client.js';
import { AcquirerHostSimulator } from '../src/acquirer-sim/simulator.js';
import { AnomalyRecorder } from '../src/anomaly/recorder.js';
import { buildBatchUpload, buildFinancialRequest, PROCESSING_CODE } from '../src/iso8583/index.js';
import { Journal } from '../src/journal/index.js';
import { SettlementLink } from '../src/settlement/link.js';
import { SettlementService } from '../src/settlement/settle.js';
import { createLogger } from '../src/util/log.js';

export interface SettlementBenchOptions {
  /** Approved sales in the batch (default 10,000). */
  transactions?: number;
}

export interface SettlementBenchResult {
  name: 'settlement';
  transactions: number;
  settleMs: number;
  uploaded: number;
  uploadsPerSecond: number;
  settlementRequests: number;
  hostAgreed: boolean;
  doubledUploads: number;
  hostTotalsEqual: boolean;
  reference: {
    /** The same 0320s on the same link, no journal: round trips alone. */
    bareUploadsPerSecond: number;
    /** One durable commit of the batch progress on the same disk, alone. */
    commitsPerSecond: number;
  };
}

const TID = 'BENCH001';
const MID = 'MERCHANT0000001';
const round = (n: number, digits = 1) => Number(n.toFixed(digits));

function sale(stan: number, amount: number) {
  return buildFinancialRequest({
    processingCode: PROCESSING_CODE.purchase,
    amount,
    currency: '978',
    stan,
    transmittedAt: new Date(),
    terminalId: TID,
    merchantId: MID,
    pan: '4761739001010010',
    expiry: '2812',
    entryMode: '051',
  });
}

export async function benchSettlement(options: SettlementBenchOptions = {}): Promise<SettlementBenchResult> {
  const count = options.transactions ?? 10_000;
  const dir = mkdtempSync(join(tmpdir(), 'pos-bench-settlement-'));
  const sim = new AcquirerHostSimulator({ keepLedger: true });
  const { port } = await sim.start();
  const link = new TcpHostLink({ host: '127.0.0.1', port, correlator: isoCorrelator, clock: systemClock });
  link.start();
  const journal = Journal.open(join(dir, 'journal.sqlite'));
  try {
    while (!link.isUp()) await new Promise((resolve) => setTimeout(resolve, 5));
    const acquirer = new AcquirerClient(link);
    // The scene, untimed: each sale approved by the host, journaled approved in the open batch.
    for (let i = 1; i <= count; i++) {
      const ref = `bench-${i}`;
      const amount = 100 + (i % 900);
      journal.transactions.begin({ txnRef: ref, kind: 'sale', amount, currency: '978' });
      const stan = journal.counters.nextStan();
      const answer = await acquirer.send(sale(stan, amount));
      journal.recordAuthorization(ref, 'approved', {
        stan,
        outcome: 'approved',
        responseCode: answer.responseCode,
        approvalCode: answer.approvalCode ?? 'A00000',
        ...(answer.rrn ? { rrn: answer.rrn } : {}),
      });
    }
    const ledgerStart = sim.ledger.length;
    sim.setSettlementBehaviour({ disagree: 'once' });
    const hostBefore = sim.batchTotals(TID).get('978');
    const log = createLogger('silent');
    const service = new SettlementService({
      journal,
      link: new SettlementLink({
        acquirer,
        clock: systemClock,
        terminalId: TID,
        merchantId: MID,
        responseTimeoutMs: 30_000,
        attempts: 1,
        retryDelayMs: 0,
      }),
      forwarder: { drain: async () => ({}) },
      clock: systemClock,
      log,
      anomalies: new AnomalyRecorder(journal, new MockDisplay(), log),
      defaultCurrency: '978',
      owedAttempts: 1,
      retryDelayMs: 0,
      merchant: { label: 'BENCH', addressLines: [], terminalId: TID, merchantId: MID },
    });
    const started = performance.now();
    const outcome = await service.settle();
    const settleMs = performance.now() - started;
    if (!outcome.ok) throw new Error(`settlement failed: ${outcome.error}: ${outcome.message}`);

    const uploads = sim.ledger.slice(ledgerStart).filter((e) => e.dir === 'in' && e.mti === '0320' && !e.duplicate);
    const stans = new Set(uploads.map((e) => e.stan));
    const records = sim.settlements;
    const last = records.at(-1);
    const hostTotalsEqual =
      last !== undefined && JSON.stringify(last.terminalTotals) === JSON.stringify(last.hostTotals) && !!hostBefore;

    // Same run, same link: the 0320s again without a journal (answered from the host's memory as repeats).
    const bareCount = Math.min(count, 5_000);
    const bareStart = performance.now();
    for (let i = 1; i <= bareCount; i++) {
      await acquirer.send(
        buildBatchUpload({
          stan: i,
          processingCode: PROCESSING_CODE.purchase,
          amount: 100 + (i % 900),
          currency: '978',
          terminalId: TID,
          merchantId: MID,
          batchNumber: 1,
          transactedAt: new Date(),
          transmittedAt: new Date(),
          repeat: true,
        }),
      );
    }
    const bareUploadsPerSecond = bareCount / ((performance.now() - bareStart) / 1000);
    // One durable commit of the journal's disk, as each upload's progress makes.
    const commits = 500;
    const commitStart = performance.now();
    for (let i = 0; i < commits; i++) journal.batches.setState(journal.batches.current().number, 'open');
    const commitsPerSecond = commits / ((performance.now() - commitStart) / 1000);

    return {
      name: 'settlement',
      transactions: count,
      settleMs: round(settleMs),
      uploaded: outcome.value.uploaded,
      uploadsPerSecond: round(outcome.value.uploaded / (settleMs / 1000)),
      settlementRequests: records.length,
      hostAgreed: last?.responseCode === '00' && last.afterUpload,
      doubledUploads: uploads.length - stans.size,
      hostTotalsEqual,
      reference: { bareUploadsPerSecond: round(bareUploadsPerSecond), commitsPerSecond: round(commitsPerSecond) },
    };
  } finally {
    journal.close();
    await link.stop();
    await sim.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const n = Number(process.env['POS_BENCH_SETTLEMENT_TRANSACTIONS'] ?? 10_000);
  benchSettlement({ transactions: n }).then((r) => process.stdout.write(`${JSON.stringify(r)}\n`));
}
