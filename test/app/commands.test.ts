/** Fleet commands on the command service, without MQTT: what the fleet adapter calls for each command name. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runFleetCommand } from '../../src/app/fleet-commands.js';
import { startTerminalApp, type TerminalApp } from '../../src/app/compose.js';
import { loadConfig } from '../../src/config/index.js';
import { wire } from '../../src/telemetry/wire.js';
import { createLogger } from '../../src/util/log.js';
import { until } from '../support/wait.js';

const { CommandError } = wire;
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

describe('fleet commands on the command service', () => {
  it('answers send-health and rebirth through the telemetry it is given', async () => {
    const app = await boot();
    const calls: string[] = [];
    const telemetry = { publishHealth: () => calls.push('health'), rebirth: () => calls.push('birth') };
    expect(await runFleetCommand(app.commands, 'send-health', telemetry)).toEqual({
      ok: true,
      error: CommandError.COMMAND_ERROR_NONE,
      message: 'health sent',
    });
    expect(await runFleetCommand(app.commands, 'rebirth', telemetry)).toMatchObject({
      ok: true,
      message: 'birth sent',
    });
    expect(calls).toEqual(['health', 'birth']);
  });

  it('unlocks without a PIN (the allow-list decided), and a terminal that is not locked stays as it is', async () => {
    const app = await boot();
    const telemetry = { publishHealth: () => {}, rebirth: () => {} };
    expect(await runFleetCommand(app.commands, 'unlock', telemetry)).toMatchObject({
      ok: true,
      message: 'not locked (ready)',
    });
    app.terminal.lock('test lock');
    await until(() => app.terminal.isLocked(), 'locked');
    expect(await runFleetCommand(app.commands, 'unlock', telemetry)).toMatchObject({
      ok: true,
      message: 'unlocked; self-test running',
    });
    await app.terminal.settled();
    expect(app.terminal.status().state).toBe('ready');
  });

  it('runs the self-test and reports each component and the state it leaves', async () => {
    const app = await boot();
    const result = await runFleetCommand(app.commands, 'run-self-test', { publishHealth: () => {}, rebirth: () => {} });
    expect(result.ok).toBe(true);
    expect(result.message).toMatch(/^self-test done in [\d.]+ ms: card-reader ok, printer ok, .*; now ready$/);
  });
});
