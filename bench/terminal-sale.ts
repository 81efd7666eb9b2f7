/**
 * The terminal's own latency per sale: ECR `sale` in → `result` out, through the transaction machine, the
 * SQLite journal (synchronous=FULL on a real file), the mock devices and the embedded host simulator answering at
 * once. The card is presented before each sale, as a tap that is already in the field.
 * Target: p99 under 10 ms (2% of the 500 ms EMV contactless budget for a whole tap).
 */
import { pathToFileURL } from 'node:url';
import { measureSales } from './stats.js';
import { startBenchTerminal, tappedSale } from './terminal.js';

export interface SaleBenchResult {
  name: string;
  sales: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  salesPerSecond: number;
  targetP99Ms: number;
}

export async function benchTerminalSale(sales = 2_000): Promise<SaleBenchResult> {
  const { client, stop } = await startBenchTerminal({ dirPrefix: 'pos-bench-' });
  try {
    let amount = 1_000;
    const sale = () => tappedSale(client, amount++);
    for (let i = 0; i < 200; i++) await sale(); // warm-up
    return {
      name: 'terminal-sale (ECR in -> result out)',
      // Sequential, including the card presentation round trip before each sale.
      ...(await measureSales(sale, sales)),
      targetP99Ms: 10,
    };
  } finally {
    await stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  benchTerminalSale().then((r) => process.stdout.write(`${JSON.stringify(r)}\n`));
}
