/**
 * Host-link round trips per second against the acquirer host simulator on loopback: pack, frame, send, match
 * by STAN, unpack. Sequential (one sale at a time, as a terminal does) and with 8 in flight (link headroom).
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { TcpHostLink } from '../hal/acquirer-link/tcp.js';
import { AcquirerClient, isoCorrelator } from '../src/acquirer/acquirer-client.js';
import { AcquirerHostSimulator } from '../src/acquirer-sim/simulator.js';
import { buildFinancialRequest, PROCESSING_CODE } from '../src/iso8583/index.js';
import { ms3, percentile } from './stats.js';

export interface HostLinkBenchResult {
  name: string;
  sequentialRoundTripsPerSecond: number;
  sequentialP50Ms: number;
  sequentialP99Ms: number;
  pipelined8RoundTripsPerSecond: number;
  roundTrips: number;
}

export async function benchHostLink(durationMs = 1_000): Promise<HostLinkBenchResult> {
  const sim = new AcquirerHostSimulator({ keepLedger: false });
  const { port } = await sim.start();
  const link = new TcpHostLink({ host: '127.0.0.1', port, correlator: isoCorrelator });
  link.start();
  const client = new AcquirerClient(link);
  let stan = 0;
  const nextStan = (): number => {
    stan = (stan % 999_999) + 1;
    return stan;
  };
  const request = () =>
    buildFinancialRequest({
      processingCode: PROCESSING_CODE.purchase,
      amount: 1250,
      currency: '978',
      stan: nextStan(),
      transmittedAt: new Date(),
      terminalId: 'BENCH001',
      merchantId: 'MERCHANT0000001',
      pan: '4761739001010010',
      expiry: '2812',
      entryMode: '071',
    });
  try {
    // warm-up also waits for the connection
    for (let i = 0; i < 200; i++) await client.send(request());

    const latencies: number[] = [];
    const start = performance.now();
    while (performance.now() - start < durationMs) {
      const t0 = performance.now();
      await client.send(request());
      latencies.push(performance.now() - t0);
    }
    const sequentialSeconds = (performance.now() - start) / 1_000;
    latencies.sort((a, b) => a - b);

    let pipelined = 0;
    const pStart = performance.now();
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (performance.now() - pStart < durationMs) {
          await client.send(request());
          pipelined += 1;
        }
      }),
    );
    const pipelinedSeconds = (performance.now() - pStart) / 1_000;
    return {
      name: 'host-link-roundtrip',
      sequentialRoundTripsPerSecond: Math.round(latencies.length / sequentialSeconds),
      sequentialP50Ms: ms3(percentile(latencies, 50)),
      sequentialP99Ms: ms3(percentile(latencies, 99)),
      pipelined8RoundTripsPerSecond: Math.round(pipelined / pipelinedSeconds),
      roundTrips: latencies.length + pipelined,
    };
  } finally {
    await link.stop();
    await sim.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  benchHostLink().then((r) => process.stdout.write(`${JSON.stringify(r)}\n`));
}
