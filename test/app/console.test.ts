/** The simulator's console: lines typed as a cash register would send them, answered by the command service. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { startTerminalApp, type TerminalApp } from '../../src/app/compose.js';
import { runConsole } from '../../src/app/console.js';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/util/log.js';
import { until } from '../support/wait.js';

const apps: TerminalApp[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const a of apps.splice(0)) await a.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function boot(tokens: string[] = []): Promise<TerminalApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'pos-commands-'));
  dirs.push(dataDir);
  const { config } = loadConfig({ env: {} });
  const app = await startTerminalApp(
    {
      ...config,
      dataDir,
      host: { ...config.host, address: '127.0.0.1:0' },
      ecr: { ...config.ecr, port: 0, socketPath: null, tokens },
      mqtt: { ...config.mqtt, url: 'mqtt://127.0.0.1:0', embeddedBroker: true },
    },
    { log: createLogger('silent') },
  );
  apps.push(app);
  return app;
}

describe('the console', () => {
  it('sells with a test card and prints the answer as the ECR API sends it, even when the API wants tokens', async () => {
    const app = await boot(['a-register-token']);
    const input = new PassThrough();
    const output = new PassThrough();
    let printed = '';
    output.on('data', (chunk) => {
      printed += String(chunk);
    });
    const done = runConsole(app, input, output);
    input.write('12.50\n');
    await until(() => printed.includes('result: '), 'sale result printed');
    input.write('0\n');
    await until(() => printed.includes('amount: expected'), 'refusal printed');
    input.write('quit\n');
    await done;
    expect(printed).toMatch(/result: \{"outcome":"approved",.*"amount":1250,/);
    expect(printed).toContain(
      'error: {"code":"invalid-request","message":"amount: expected an integer from 1 to 99999999, found 0","field":"amount"}',
    );
  });
});
