/**
 * The ECR Unix socket follows the data directory: the default (and any relative) ecr.socketPath is taken inside
 * dataDir, so POS_DATA_DIR moves it with the journal; an absolute path stays where it says.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTerminalApp, type TerminalApp } from '../../src/app/compose.js';
import { loadConfig, type PosConfig } from '../../src/config/index.js';
import { EcrClient } from '../../src/ecr/client.js';
import { createLogger } from '../../src/util/log.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pos-sock-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** What the environment and files gave, with only the ports made free for a test. */
function freePorts(config: PosConfig): PosConfig {
  return {
    ...config,
    host: { ...config.host, address: '127.0.0.1:0' },
    ecr: { ...config.ecr, port: 0 },
    mqtt: { ...config.mqtt, url: 'mqtt://127.0.0.1:0' },
  };
}

async function boot(config: PosConfig): Promise<TerminalApp> {
  const app = await startTerminalApp(config, { log: createLogger('silent') });
  cleanups.push(() => app.stop());
  return app;
}

describe('ecr.socketPath', () => {
  it('is a relative path in default.json, so it lives in the data directory', () => {
    expect(loadConfig({ env: {} }).config.ecr.socketPath).toBe('ecr.sock');
  });

  it('moves with POS_DATA_DIR', async () => {
    const dataDir = tempDir();
    const app = await boot(freePorts(loadConfig({ env: { POS_DATA_DIR: dataDir } }).config));
    expect(app.ecr.socketPath).toBe(join(dataDir, 'ecr.sock'));
    expect(statSync(join(dataDir, 'ecr.sock')).isSocket()).toBe(true);
    const client = await EcrClient.connect({ path: app.ecr.socketPath! });
    cleanups.push(() => client.close());
    expect(await client.call({ cmd: 'status' })).toMatchObject({ type: 'status' });
  });

  it('a relative path below the data directory is taken inside it', async () => {
    const dataDir = tempDir();
    const { config } = loadConfig({ env: { POS_DATA_DIR: dataDir } });
    const app = await boot(freePorts({ ...config, ecr: { ...config.ecr, socketPath: 'run/../ecr-api.sock' } }));
    expect(app.ecr.socketPath).toBe(join(dataDir, 'ecr-api.sock'));
  });

  it('an absolute path stays where it says', async () => {
    const dataDir = tempDir();
    const elsewhere = join(tempDir(), 'register.sock');
    const { config } = loadConfig({ env: { POS_DATA_DIR: dataDir } });
    const app = await boot(freePorts({ ...config, ecr: { ...config.ecr, socketPath: elsewhere } }));
    expect(app.ecr.socketPath).toBe(elsewhere);
    expect(existsSync(join(dataDir, 'ecr.sock'))).toBe(false);
  });

  it('null keeps the ECR on TCP only', async () => {
    const dataDir = tempDir();
    const { config } = loadConfig({ env: { POS_DATA_DIR: dataDir } });
    const app = await boot(freePorts({ ...config, ecr: { ...config.ecr, socketPath: null } }));
    expect(app.ecr.socketPath).toBeNull();
  });
});
