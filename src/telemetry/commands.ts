/**
 * Checking a fleet command before anything runs: size first (a large payload is never decoded), then protobuf
 * decoding, then where it came from (a retained copy is never run), its signature with the fleet's key and its
 * addressee, its age, and the allow-list. Every refusal is typed with the CommandError the fleet receives; none of
 * them counts towards the terminal's lockout (a client that can publish on the broker must not be able to lock it).
 */
import type { pos } from './generated/telemetry.js';
import { scrubCardData } from './messages.js';
import { COMMAND_NAMES, wire, type CommandNameText } from './wire.js';
import { commandSignatureValid } from './wire-signature.js';

const { CommandError } = wire;
type WireCommandName = pos.telemetry.v1.CommandName;

/** Longest command_id / issued_by kept; longer ones are refused as malformed. */
export const MAX_COMMAND_TEXT = 200;

export type CommandCheck =
  | { ok: true; commandId: string; name: CommandNameText; wireName: WireCommandName; issuedBy: string }
  | {
      ok: false;
      error: pos.telemetry.v1.CommandError;
      /** Whether it is journaled as invalid input or as an unauthorized operation. */
      anomaly: 'invalid-input' | 'unauthorized-operation';
      message: string;
      commandId: string;
      wireName: WireCommandName;
      issuedBy: string;
    };

const NAME_BY_WIRE = new Map<number, CommandNameText>(
  Object.entries(COMMAND_NAMES).map(([text, value]) => [value, text as CommandNameText]),
);

/**
 * Scrubs until nothing changes: masking one card number can join its last digits with the following groups into
 * another. Each pass that changes anything removes digits, so this ends.
 */
function scrubAll(text: string): string {
  for (;;) {
    const next = scrubCardData(text);
    if (next === text) return text;
    text = next;
  }
}

/** Text from the fleet, made safe to journal and echo: bounded, printable, no card data. */
function clean(text: string): string {
  // Cutting a long digit run can leave a card-number-sized run at the end, so the cut text is scrubbed again.
  return scrubAll(scrubAll(text.replace(/[^\x20-\x7e]/g, '?')).slice(0, MAX_COMMAND_TEXT));
}

export interface CommandLimits {
  maxBytes: number;
  allowed: readonly string[];
  /** The fleet's command key; without one every command is refused as unauthenticated. */
  key?: Uint8Array | undefined;
  /** This terminal, which a command must name. Absent: the addressee is not checked (unit use). */
  terminalId?: string;
  fleet?: string;
  /** Now, and how far issued_at_ms may be from it either way. Absent: the age is not checked. */
  now?: number;
  maxAgeMs?: number;
  /** Delivered from the broker's retained store. */
  retained?: boolean;
}

export function checkCommand(payload: Uint8Array, limits: CommandLimits): CommandCheck {
  const unknown = { commandId: '', wireName: wire.CommandName.COMMAND_NAME_UNSPECIFIED, issuedBy: '' };
  if (payload.byteLength > limits.maxBytes) {
    return {
      ok: false,
      error: CommandError.COMMAND_ERROR_TOO_LARGE,
      anomaly: 'invalid-input',
      message: `command of ${payload.byteLength} bytes is over the limit of ${limits.maxBytes}`,
      ...unknown,
    };
  }
  let command: pos.telemetry.v1.Command;
  try {
    command = wire.Command.decode(payload);
  } catch (err) {
    return {
      ok: false,
      error: CommandError.COMMAND_ERROR_MALFORMED,
      anomaly: 'invalid-input',
      message: `command does not decode: ${clean((err as Error).message)}`,
      ...unknown,
    };
  }
  const commandId = clean(command.commandId);
  const issuedBy = clean(command.issuedBy);
  const wireName = command.name;
  const known = { commandId, wireName, issuedBy };
  if (command.commandId.length > MAX_COMMAND_TEXT || command.issuedBy.length > MAX_COMMAND_TEXT) {
    return {
      ok: false,
      error: CommandError.COMMAND_ERROR_MALFORMED,
      anomaly: 'invalid-input',
      message: `command_id and issued_by must be at most ${MAX_COMMAND_TEXT} characters`,
      ...known,
    };
  }
  const refuse = (
    error: pos.telemetry.v1.CommandError,
    anomaly: 'invalid-input' | 'unauthorized-operation',
    message: string,
  ): CommandCheck => ({ ok: false, error, anomaly, message, ...known });
  if (limits.retained)
    return refuse(
      CommandError.COMMAND_ERROR_RETAINED,
      'invalid-input',
      'command delivered from the broker retained store: commands are never retained, it is not run',
    );
  if (!limits.key)
    return refuse(
      CommandError.COMMAND_ERROR_UNAUTHENTICATED,
      'unauthorized-operation',
      'no fleet command key is configured on this terminal (mqtt.commandAuth): commands are not run',
    );
  if (!commandSignatureValid(limits.key, command))
    return refuse(
      CommandError.COMMAND_ERROR_UNAUTHENTICATED,
      'unauthorized-operation',
      (command.signature?.length ?? 0) === 0 ? 'command is not signed' : 'command signature is not valid',
    );
  if (
    (limits.terminalId !== undefined && command.terminalId !== limits.terminalId) ||
    (limits.fleet !== undefined && command.fleet !== limits.fleet)
  )
    return refuse(
      CommandError.COMMAND_ERROR_UNAUTHENTICATED,
      'unauthorized-operation',
      `command is addressed to ${clean(command.fleet)}/${clean(command.terminalId)}, not this terminal`,
    );
  if (limits.now !== undefined && limits.maxAgeMs !== undefined) {
    // int64: a number, or a Long where the long package is installed.
    const issuedAt = Number(String(command.issuedAtMs));
    const age = limits.now - issuedAt;
    if (!Number.isFinite(issuedAt) || issuedAt <= 0 || Math.abs(age) > limits.maxAgeMs)
      return refuse(
        CommandError.COMMAND_ERROR_STALE,
        'invalid-input',
        issuedAt <= 0
          ? 'command has no issued_at_ms'
          : `command issued ${Math.round(age / 1000)} s ${age >= 0 ? 'ago' : 'ahead of this clock'}, beyond the ${Math.round(limits.maxAgeMs / 1000)} s allowed`,
      );
  }
  if (wireName === wire.CommandName.COMMAND_NAME_UNSPECIFIED) {
    return {
      ok: false,
      error: CommandError.COMMAND_ERROR_MALFORMED,
      anomaly: 'invalid-input',
      message: 'command has no name',
      ...known,
    };
  }
  const name = NAME_BY_WIRE.get(wireName);
  if (name === undefined || !limits.allowed.includes(name)) {
    return {
      ok: false,
      error: CommandError.COMMAND_ERROR_NOT_ALLOWED,
      anomaly: 'unauthorized-operation',
      message: `command ${name ?? `#${wireName}`} is not allowed on this terminal`,
      ...known,
    };
  }
  return { ok: true, commandId, name, wireName, issuedBy };
}
