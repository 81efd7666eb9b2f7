/**
 * A whole terminal for a benchmark, in this process: the default configuration with a fresh data directory,
 * loopback and ephemeral ports, the embedded host simulator and broker, mock devices, and a register connected
 * over ECR. The sale benchmarks (terminal, nexo, chip) measure on it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startTerminalApp, type TerminalApp } from '../src/app/compose.js';
import { loadConfig, type PosConfig } from '../src/config/index.js';
import { EcrClient } from '../src/ecr/client.js';
import { createLogger } from '../src/util/log.js';

export interface BenchTerminalOptions {
  /** Names the data directory under the system's temporary one. */
  dirPrefix: string;
  /** Changes to the benchmark configuration (a nexo endpoint, say). */
  configure?: (config: PosConfig) => PosConfig;
  /** Default: silent, or errors only when POS_LOG_LEVEL=debug. */
  logLevel?: 'silent' | 'error';
}

export interface BenchTerminal {
  app: TerminalApp;
  /** The register's connection. */
  client: EcrClient;
  /** Closes the connection, stops the terminal and removes its data directory. */
  stop(): Promise<void>;
}

export async function startBenchTerminal(options: BenchTerminalOptions): Promise<BenchTerminal> {
  const dataDir = mkdtempSync(join(tmpdir(), options.dirPrefix));
  const { config } = loadConfig({ env: {} });
  const benchConfig: PosConfig = {
    ...config,
    dataDir,
    host: { ...config.host, address: '127.0.0.1:0' },
    ecr: { ...config.ecr, port: 0, socketPath: null },
    mqtt: { ...config.mqtt, url: 'mqtt://127.0.0.1:0' },
  };
  const level = options.logLevel ?? (process.env['POS_LOG_LEVEL'] === 'debug' ? 'error' : 'silent');
  const app = await startTerminalApp(options.configure?.(benchConfig) ?? benchConfig, { log: createLogger(level) });
  const client = await EcrClient.connect({ port: app.ecr.port });
  return {
    app,
    client,
    async stop() {
      await client.close();
      await app.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * One ECR sale of `amount` with a card tapped just before it (already in the field when the sale starts), timed
 * from `sale` sent to `result` received; anything but an approval stops the benchmark. The caller gives each sale a
 * new amount: the same card and amount again would be held as a suspected duplicate.
 */
export async function tappedSale(client: EcrClient, amount: number): Promise<number> {
  await client.call({ cmd: 'sim.card', name: 'visa' });
  const t0 = performance.now();
  const result = await client.call({ cmd: 'sale', amount });
  const ms = performance.now() - t0;
  if (result['outcome'] !== 'approved') throw new Error(`bench sale not approved: ${JSON.stringify(result)}`);
  return ms;
}
