/**
 * What the fleet's commands do on this terminal. The telemetry publisher checks a command (size, decoding,
 * allow-list) and hands it here; this adapter asks the one command service, as every front end does, and the
 * answer goes back as the CommandResult.
 */
import type { CommandHandler, CommandOutcome } from '../telemetry/index.js';
import { wire, type CommandNameText } from '../telemetry/wire.js';
import type { CommandService } from './commands.js';

/** What the commands need of telemetry (the publisher has it). */
export interface FleetTelemetryControl {
  publishHealth(): void;
  rebirth(): void;
}

/** What the fleet commands use of the command service (the CommandService has it). */
export type FleetCommandService = Pick<CommandService, 'state' | 'run'>;

export interface FleetCommandDeps {
  commands: FleetCommandService;
  telemetry: FleetTelemetryControl;
}

export function createFleetCommandHandler({ commands, telemetry }: FleetCommandDeps): CommandHandler {
  return ({ name }) => runFleetCommand(commands, name, telemetry);
}

/**
 * The fleet commands (MQTT `cmd` topic) on this service, answered as the fleet's CommandResult carries them. The
 * allow-list was checked before: the fleet's word is the rights an unlock needs.
 */
export async function runFleetCommand(
  commands: FleetCommandService,
  name: CommandNameText,
  telemetry: { publishHealth(): void; rebirth(): void },
): Promise<CommandOutcome> {
  const { CommandError } = wire;
  const ok = (message: string) => ({ ok: true, error: CommandError.COMMAND_ERROR_NONE, message });
  const busy = (message: string) => ({ ok: false, error: CommandError.COMMAND_ERROR_BUSY, message });
  const state = commands.state();
  switch (name) {
    case 'send-health':
      telemetry.publishHealth();
      return ok('health sent');
    case 'rebirth':
      telemetry.rebirth();
      return ok('birth sent');
    case 'unlock': {
      if (state === 'transacting') return busy('a transaction is in progress');
      // Unlocking a terminal that is not locked leaves it as the fleet wants it.
      if (state !== 'locked') return ok(`not locked (${state})`);
      const result = await commands.run({ kind: 'unlock', rights: { fleet: true } }, { client: 'fleet' });
      return result.ok
        ? ok('unlocked; self-test running')
        : { ok: false, error: CommandError.COMMAND_ERROR_FAILED, message: result.message };
    }
    case 'settle': {
      if (state === 'transacting') return busy('a transaction is in progress');
      const result = await commands.run({ kind: 'settle' }, { client: 'fleet' });
      if (result.ok) {
        const s = result.value;
        return ok(`batch ${s.batchNumber} settled${s.afterUpload ? ` after uploading ${s.uploaded}` : ''}`);
      }
      return result.error === 'busy'
        ? busy(result.message)
        : { ok: false, error: CommandError.COMMAND_ERROR_FAILED, message: `${result.error}: ${result.message}` };
    }
    case 'check-health-external':
    case 'check-health-interactive': {
      if (state === 'transacting') return busy('a transaction is in progress');
      const level = name === 'check-health-external' ? 'external' : 'interactive';
      const result = await commands.run({ kind: 'selftest', level }, { client: 'fleet' });
      if (!result.ok)
        return result.error === 'busy'
          ? busy(result.message)
          : { ok: false, error: CommandError.COMMAND_ERROR_FAILED, message: `${level} health: ${result.message}` };
      const checks = (result.value.checks ?? []).map((c) => `${c.component} ${c.status} (${c.detail})`).join(', ');
      const message = `${level} health ${result.value.status}: ${checks}; now ${result.value.state}`;
      return result.value.status === 'fault'
        ? { ok: false, error: CommandError.COMMAND_ERROR_FAILED, message }
        : ok(message);
    }
    case 'run-self-test': {
      if (state === 'transacting') return busy('a transaction is in progress');
      try {
        const result = await commands.run({ kind: 'selftest' }, { client: 'fleet' });
        if (!result.ok)
          return result.error === 'busy'
            ? busy(result.message)
            : { ok: false, error: CommandError.COMMAND_ERROR_FAILED, message: `self-test failed: ${result.message}` };
        const report = result.value;
        const summary = report.results.map((r) => `${r.component} ${r.status}`).join(', ');
        return ok(`self-test done in ${report.durationMs} ms: ${summary}; now ${report.state}`);
      } catch (err) {
        return {
          ok: false,
          error: CommandError.COMMAND_ERROR_FAILED,
          message: `self-test failed: ${(err as Error).message}`,
        };
      }
    }
  }
}
