/** A whole terminal app on mocks, in a fresh data directory, stopped and removed after each test of the file. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { startTerminalApp, type TerminalApp } from '../../src/app/compose.js';
import { loadConfig, type PosConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/util/log.js';

const apps: TerminalApp[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const a of apps.splice(0)) await a.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

export interface BootOptions {
  /** The nexo endpoint's settings over the defaults. */
  nexo?: Partial<PosConfig['ecr']['nexo']>;
  /** The chip's settings over the defaults. */
  emv?: Partial<PosConfig['emv']>;
  /** Where the host simulator writes its ledger (`null`: it keeps none). */
  hostLedgerPath?: (dataDir: string) => string;
}

/** Embedded host simulator and broker on free ports, no ECR socket; `tokens` are the ECR API's. */
export async function bootApp(tokens: string[] = [], options: BootOptions = {}): Promise<TerminalApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'pos-app-'));
  dirs.push(dataDir);
  const { config } = loadConfig({ env: {} });
  const app = await startTerminalApp(
    {
      ...config,
      dataDir,
      host: { ...config.host, address: '127.0.0.1:0' },
      ecr: { ...config.ecr, port: 0, socketPath: null, tokens, nexo: { ...config.ecr.nexo, ...options.nexo } },
      mqtt: { ...config.mqtt, url: 'mqtt://127.0.0.1:0', embeddedBroker: true },
      emv: { ...config.emv, ...options.emv },
    },
    {
      log: createLogger('silent'),
      ...(options.hostLedgerPath ? { hostLedgerPath: options.hostLedgerPath(dataDir) } : {}),
    },
  );
  apps.push(app);
  return app;
}
