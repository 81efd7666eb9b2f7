/**
 * What the fleet's commands do on this terminal. The telemetry publisher checks a command (size, decoding,
 * allow-list) and hands it here; the answer goes back as the CommandResult.
 */
import type { SelfTestReport } from '../selftest/selftest.js';
import type { CommandHandler, CommandOutcome } from '../telemetry/index.js';
import { wire } from '../telemetry/wire.js';
import { TerminalError, type TerminalStatus } from '../terminal/terminal.js';

/** What the commands need of the terminal (the Terminal class has it). */
export interface FleetCommandTarget {
  status(): TerminalStatus;
  selfTest(): Promise<SelfTestReport>;
  unlock(): void;
}

/** What the commands need of telemetry (the publisher has it). */
export interface FleetTelemetryControl {
  publishHealth(): void;
  rebirth(): void;
}

export interface FleetCommandDeps {
  terminal: FleetCommandTarget;
  telemetry: FleetTelemetryControl;
}

const { CommandError } = wire;

const done = (message: string): CommandOutcome => ({ ok: true, error: CommandError.COMMAND_ERROR_NONE, message });
const busy = (message: string): CommandOutcome => ({ ok: false, error: CommandError.COMMAND_ERROR_BUSY, message });

export function createFleetCommandHandler({ terminal, telemetry }: FleetCommandDeps): CommandHandler {
  return async ({ name }) => {
    const state = terminal.status().state;
    switch (name) {
      case 'send-health':
        telemetry.publishHealth();
        return done('health sent');
      case 'rebirth':
        telemetry.rebirth();
        return done('birth sent');
      case 'unlock':
        if (state === 'transacting') return busy('a transaction is in progress');
        if (state !== 'locked') return done(`not locked (${state})`);
        terminal.unlock();
        return done('unlocked; self-test running');
      case 'run-self-test': {
        if (state === 'transacting') return busy('a transaction is in progress');
        try {
          const report = await terminal.selfTest();
          const summary = report.results.map((r) => `${r.component} ${r.status}`).join(', ');
          return done(`self-test done in ${report.durationMs} ms: ${summary}; now ${terminal.status().state}`);
        } catch (err) {
          if (err instanceof TerminalError && err.code === 'busy') return busy(err.message);
          return {
            ok: false,
            error: CommandError.COMMAND_ERROR_FAILED,
            message: `self-test failed: ${(err as Error).message}`,
          };
        }
      }
    }
  };
}
