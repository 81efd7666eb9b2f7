/** Fleet commands on the command service, without MQTT: what the fleet adapter calls for each command name. */
import { describe, expect, it } from 'vitest';
import { runFleetCommand } from '../../src/app/fleet-commands.js';
import { wire } from '../../src/telemetry/wire.js';
import { until } from '../support/wait.js';
import { bootApp as boot } from './boot.js';

const { CommandError } = wire;
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
