/**
 * Fleet commands as the transport sees them: a payload on the cmd topic is checked (size, decoding, retained copy,
 * signature and addressee, age, allow-list, an id already run), a refusal is logged, journaled as an anomaly and
 * answered (never counted towards the terminal's lockout); a command that passes is handed to the terminal's
 * handler, its id remembered, and its answer published. A repeated id is answered DUPLICATE with the first result.
 * What a command does is not known here (as in Sparkplug's Tahu, the transport only hands commands over).
 */
import type { AnomalyRecorder } from '../anomaly/recorder.js';
import type { Logger } from '../util/log.js';
import type { CommandMemory } from './command-memory.js';
import { checkCommand, type CommandLimits } from './commands.js';
import type { pos } from './generated/telemetry.js';
import { type CommandNameText, wire } from './wire.js';

/** Set in the detail of the anomaly of a refused fleet command, so no lockout rule counts it. */
export const FLEET_COMMAND_REFUSED = 'fleetCommandRefused';

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

export interface CommandIntakeOptions extends CommandLimits {
  /** The ids already run; absent: ids are not deduplicated (unit use). */
  memory?: CommandMemory;
  handler: CommandHandler;
  anomalies: AnomalyRecorder;
  log: Logger;
  /** Queues the CommandResult. */
  answer(command: { commandId: string; wireName: pos.telemetry.v1.CommandName }, outcome: CommandOutcome): void;
}

/** Takes one payload from the cmd topic; never throws, every command gets exactly one answer. */
export function receiveCommand(payload: Uint8Array, o: CommandIntakeOptions): void {
  let check = checkCommand(payload, o);
  if (check.ok && o.memory && check.commandId !== '') {
    const recall = o.memory.recall(check.commandId);
    if (recall.seen) {
      const first = recall.outcome;
      check = {
        ok: false,
        error: wire.CommandError.COMMAND_ERROR_DUPLICATE,
        anomaly: 'invalid-input',
        message: first
          ? `command ${check.commandId} was already run, not run again; its result was: ${first.ok ? 'ok' : 'refused'}: ${first.message}`
          : `command ${check.commandId} is already running, not run again`,
        commandId: check.commandId,
        wireName: check.wireName,
        issuedBy: check.issuedBy,
      };
    }
  }
  if (!check.ok) {
    o.log.warn(
      { error: check.error, commandId: check.commandId, issuedBy: check.issuedBy },
      `fleet command refused: ${check.message}`,
    );
    o.anomalies.raise(
      check.anomaly,
      {
        reason: `fleet command${check.commandId ? ` ${check.commandId}` : ''}${check.issuedBy ? ` from ${check.issuedBy}` : ''}: ${check.message}`,
        // Journaled and reported, never punished: the lockout policy skips these (see FLEET_COMMAND_REFUSED).
        detail: { [FLEET_COMMAND_REFUSED]: true, commandError: check.error },
      },
      { show: false },
    );
    o.answer(check, { ok: false, error: check.error, message: check.message });
    return;
  }
  const { name, commandId, issuedBy } = check;
  const accepted = check;
  o.log.info({ command: name, commandId, issuedBy }, 'fleet command');
  const memory = commandId !== '' ? o.memory : undefined;
  memory?.begin(commandId);
  const answer = (result: CommandOutcome): void => {
    memory?.finish(commandId, result);
    o.answer(accepted, result);
  };
  let outcome: Promise<CommandOutcome>;
  try {
    outcome = o.handler({ name, commandId, issuedBy });
  } catch (err) {
    outcome = Promise.reject(err);
  }
  void outcome.then(
    (result) => answer(result),
    // A handler that fails outright still owes the fleet an answer.
    (err: unknown) => {
      o.log.error({ err, command: name, commandId }, 'fleet command failed');
      answer({
        ok: false,
        error: wire.CommandError.COMMAND_ERROR_FAILED,
        message: `${name} failed: ${(err as Error)?.message ?? String(err)}`,
      });
    },
  );
}
