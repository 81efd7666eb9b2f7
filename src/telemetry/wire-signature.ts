/**
 * How a fleet command is signed, shared by pos-fleet (which signs) and the terminal (which checks): HMAC-SHA256
 * with the fleet's command key over the command's canonical bytes, the Command encoded with its signature empty
 * (field-number order, default values left out). Part of the wire contract, so both programs import it.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { pos } from './generated/telemetry.js';
import { wire } from './wire.js';

/** Shortest key accepted: 32 characters (a 128-bit key written in hex). */
export const MIN_COMMAND_KEY_CHARS = 32;

export class CommandKeyError extends Error {
  override readonly name = 'CommandKeyError';
}

/** The bytes the signature covers. */
export function canonicalCommandBytes(command: pos.telemetry.v1.Command.$Properties): Uint8Array {
  return wire.Command.encode(wire.Command.create({ ...command, signature: new Uint8Array(0) })).finish();
}

export function commandSignature(key: Uint8Array, command: pos.telemetry.v1.Command.$Properties): Buffer {
  return createHmac('sha256', key).update(canonicalCommandBytes(command)).digest();
}

/** A signed Command ready for the cmd topic. */
export function signCommand(key: Uint8Array, command: pos.telemetry.v1.Command.$Properties): Uint8Array {
  const signature = commandSignature(key, command);
  return wire.Command.encode(wire.Command.create({ ...command, signature })).finish();
}

/** Constant-time check of a decoded command's signature. */
export function commandSignatureValid(key: Uint8Array, command: pos.telemetry.v1.Command): boolean {
  const given = Buffer.from(command.signature ?? new Uint8Array(0));
  const expected = commandSignature(key, command);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The key as written (one line of at least 32 characters; its UTF-8 bytes are the key), or a CommandKeyError. */
export function parseCommandKey(text: string, source: string): Buffer {
  const line = text.trim();
  if (line.length < MIN_COMMAND_KEY_CHARS || /[\r\n]/.test(line))
    throw new CommandKeyError(
      `the fleet command key from ${source} must be one line of at least ${MIN_COMMAND_KEY_CHARS} characters`,
    );
  return Buffer.from(line, 'utf8');
}

/** The key from an environment variable (first, when set and not empty) or a file; undefined when neither is set. */
export function loadCommandKey(o: {
  file: string | null;
  envName: string;
  env?: NodeJS.ProcessEnv;
}): Buffer | undefined {
  const fromEnv = (o.env ?? process.env)[o.envName];
  if (fromEnv !== undefined && fromEnv !== '') return parseCommandKey(fromEnv, o.envName);
  if (o.file === null) return undefined;
  let text: string;
  try {
    text = readFileSync(o.file, 'utf8');
  } catch (err) {
    throw new CommandKeyError(
      `cannot read the fleet command key ${o.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  return parseCommandKey(text, o.file);
}
