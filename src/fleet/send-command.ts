/**
 * Sending a fleet command: addressed to one terminal, signed with the fleet's command key, published at QoS 1 on a
 * one-off clean session, and the terminal's CommandResult for that command id awaited.
 */
import { randomUUID } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import { systemClock, type Clock } from '../../hal/clock.js';
import { wire } from '../telemetry/wire.js';
import { signCommand } from '../telemetry/wire-signature.js';
import { FLEET_COMMANDS, type FleetCommandName } from '../vocabulary/fleet-commands.js';
import { BrokerRefusedError, type BrokerOptions, connectClient } from './broker-connection.js';
import { commandNames, TelemetryDecoder, topicFor, type CommandResultMessage } from './decode.js';

// ---- commands --------------------------------------------------------------------------------------------------

/** The commands a fleet operator can send (each must be on the terminal's allow-list to run). */
export const COMMANDS = FLEET_COMMANDS;
export type FleetCommand = FleetCommandName;

export class CommandTimeoutError extends Error {
  override readonly name = 'CommandTimeoutError';
}

export interface SendCommandOptions extends BrokerOptions {
  fleet: string;
  terminalId: string;
  name: FleetCommand;
  /** Who issued it, for the terminal's journal; default user@host. */
  issuedBy?: string;
  /** How long to wait for the CommandResult; default 30 s. */
  timeoutMs?: number;
  clock?: Clock;
  commandId?: string;
}

export function defaultOperator(): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry (containers): keep "unknown".
  }
  return `${user}@${hostname()}`;
}

/** Encodes a fleet command as it goes on the wire, addressed and (with the fleet's key) signed. */
export function encodeCommand(c: {
  commandId: string;
  name: FleetCommand;
  issuedAtMs: number;
  issuedBy: string;
  fleet?: string;
  terminalId?: string;
  key?: Uint8Array | undefined;
}): Uint8Array {
  const name = commandNames.value(c.name);
  if (name === undefined) throw new Error(`the telemetry contract has no command ${JSON.stringify(c.name)}`);
  const command = {
    commandId: c.commandId,
    name,
    issuedAtMs: c.issuedAtMs,
    issuedBy: c.issuedBy,
    fleet: c.fleet ?? '',
    terminalId: c.terminalId ?? '',
  };
  return c.key ? signCommand(c.key, command) : wire.Command.encode(wire.Command.create(command)).finish();
}

/**
 * Publishes a Command to pos/v1/<fleet>/<terminal>/cmd (QoS 1) and resolves with the terminal's CommandResult for
 * that command id, or rejects with CommandTimeoutError. Results for other commands and undecodable payloads on the
 * result topic are skipped.
 */
export async function sendCommand(opts: SendCommandOptions): Promise<CommandResultMessage> {
  const clock = opts.clock ?? systemClock;
  const client = await connectClient(opts, clock);
  const commandId = opts.commandId ?? randomUUID();
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const decoder = new TelemetryDecoder();
  try {
    const resultTopic = topicFor(opts.fleet, opts.terminalId, 'cmd-result');
    const result = new Promise<CommandResultMessage>((resolve, reject) => {
      const timer = clock.setTimeout(() => {
        reject(
          new CommandTimeoutError(
            `no result from ${opts.fleet}/${opts.terminalId} for ${opts.name} (command ${commandId}) within ${timeoutMs / 1000} s`,
          ),
        );
      }, timeoutMs);
      client.on('message', (topic: string, payload: Buffer) => {
        if (topic !== resultTopic) return;
        const decoded = decoder.decode(topic, payload);
        if (decoded.ok && decoded.message.type === 'cmd-result' && decoded.message.commandId === commandId) {
          timer.cancel();
          resolve(decoded.message);
        }
      });
    });
    result.catch(() => undefined); // rejection is handled by the await below
    const granted = await client.subscribeAsync(resultTopic, { qos: 1 });
    if (granted.some((g) => g.qos === 128))
      throw new BrokerRefusedError(`the broker refused the subscription ${resultTopic}`);
    await client.publishAsync(
      topicFor(opts.fleet, opts.terminalId, 'cmd'),
      Buffer.from(
        encodeCommand({
          commandId,
          name: opts.name,
          issuedAtMs: clock.now(),
          issuedBy: opts.issuedBy ?? defaultOperator(),
          fleet: opts.fleet,
          terminalId: opts.terminalId,
          key: opts.commandKey,
        }),
      ),
      { qos: 1, retain: false },
    );
    return await result;
  } finally {
    await client.endAsync(true).catch(() => undefined);
  }
}
