/**
 * Fleet commands as the transport sees them: a payload on the cmd topic is checked (size, decoding, allow-list), a
 * refusal is logged, journaled as an anomaly and answered; a command that passes is handed to the terminal's
 * handler and its answer published. What a command does is not known here (as in Sparkplug's Tahu, the transport
 * only hands commands over).
 */
import type { AnomalyRecorder } from '../anomaly/recorder.js';
import type { Logger } from '../util/log.js';
import { checkCommand } from './commands.js';
import type { pos } from './generated/telemetry.js';
import { type CommandNameText, wire } from './wire.js';

/** A command that passed the checks; its id and issuer are already made safe to journal and echo. */
export interface ReceivedCommand {
  name: CommandNameText;
  commandId: string;
  issuedBy: string;
}

/** What the terminal answers; sent back as the CommandResult. */
export interface CommandOutcome {
  ok: boolean;
  error: pos.telemetry.v1.CommandError;
  message: string;
}

export type CommandHandler = (command: ReceivedCommand) => Promise<CommandOutcome>;

export interface CommandIntakeOptions {
  /** Allow-list of fleet commands. */
  allowed: readonly string[];
  maxBytes: number;
  handler: CommandHandler;
  anomalies: AnomalyRecorder;
  log: Logger;
  /** Queues the CommandResult. */
  answer(command: { commandId: string; wireName: pos.telemetry.v1.CommandName }, outcome: CommandOutcome): void;
}

/** Takes one payload from the cmd topic; never throws, every command gets exactly one answer. */
export function receiveCommand(payload: Uint8Array, o: CommandIntakeOptions): void {
  const check = checkCommand(payload, { maxBytes: o.maxBytes, allowed: o.allowed });
  if (!check.ok) {
    o.log.warn(
      { error: check.error, commandId: check.commandId, issuedBy: check.issuedBy },
      `fleet command refused: ${check.message}`,
    );
    o.anomalies.raise(
      check.anomaly,
      {
        reason: `fleet command${check.commandId ? ` ${check.commandId}` : ''}${check.issuedBy ? ` from ${check.issuedBy}` : ''}: ${check.message}`,
      },
      { show: false },
    );
    o.answer(check, { ok: false, error: check.error, message: check.message });
    return;
  }
  const { name, commandId, issuedBy } = check;
  o.log.info({ command: name, commandId, issuedBy }, 'fleet command');
  let outcome: Promise<CommandOutcome>;
  try {
    outcome = o.handler({ name, commandId, issuedBy });
  } catch (err) {
    outcome = Promise.reject(err);
  }
  void outcome.then(
    (result) => o.answer(check, result),
    // A handler that fails outright still owes the fleet an answer.
    (err: unknown) => {
      o.log.error({ err, command: name, commandId }, 'fleet command failed');
      o.answer(check, {
        ok: false,
        error: wire.CommandError.COMMAND_ERROR_FAILED,
        message: `${name} failed: ${(err as Error)?.message ?? String(err)}`,
      });
    },
  );
}
