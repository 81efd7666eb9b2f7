/**
 * `pos-terminal keys`: the terminal master key, loaded at installation by its key custodians, and what the terminal
 * holds (check values only).
 *   pos-terminal keys load [--components 3]   reads "<32 hex> <6 hex check value>" per component from standard input
 *   pos-terminal keys status                  the check values and origins of the keys held
 * A component is confirmed by its check value before it is used; the key is sealed by the card vault in the journal.
 * Nothing of a component or the key is printed, logged or written in clear.
 */
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { type Command, InvalidArgumentError } from 'commander';
import { combineComponents, type KeyComponent, KeyLoadError } from '../acquirer/key-components.js';
import { openKeyStore } from '../app/terminal-keys.js';
import type { PosConfig } from '../config/index.js';
import { VaultError } from '../durability/card-vault.js';
import { JournalError } from '../journal/index.js';
import { FilePermissionError, secureDataDir } from '../security/file-permissions.js';

const EX_DATAERR = 65;
const EX_SOFTWARE = 70;

function componentCount(value: string): number {
  if (value !== '2' && value !== '3') throw new InvalidArgumentError('2 or 3');
  return Number(value);
}

async function readComponents(count: number, prompt: (text: string) => void): Promise<KeyComponent[]> {
  const rl = createInterface({ input: process.stdin, terminal: false });
  const lines = rl[Symbol.asyncIterator]();
  const components: KeyComponent[] = [];
  try {
    for (let n = 1; n <= count; n++) {
      prompt(`component ${n} of ${count} (32 hex digits, a space, its 6-digit check value): `);
      const next = await lines.next();
      if (next.done) throw new KeyLoadError('component-count', `input ended after ${n - 1} of ${count} components`);
      const [hex = '', checkValue = ''] = String(next.value).trim().split(/\s+/);
      components.push({ hex, checkValue });
    }
  } finally {
    rl.close();
  }
  return components;
}

export function registerKeysCommand(program: Command, configOf: (opts: { config?: string }) => PosConfig): void {
  const keys = program
    .command('keys')
    .description('the terminal master key (loaded at installation) and the keys the terminal holds');
  const CONFIG = ['--config <file>', 'configuration overlay (its dataDir and offline.keyFile)'] as const;
  const fail = (cmd: Command, message: string, code: number): never => {
    cmd.error(`pos-terminal keys: ${message}`, { exitCode: code });
    throw new Error(message);
  };
  const open = (cmd: Command, opts: { config?: string }) => {
    try {
      const config = configOf(opts);
      // The data directory and journal private to this account, as the terminal's start makes them.
      secureDataDir(config.dataDir, join(config.dataDir, 'journal.sqlite'));
      return openKeyStore(config);
    } catch (err) {
      if (err instanceof VaultError || err instanceof JournalError || err instanceof FilePermissionError)
        return fail(cmd, err.message, EX_SOFTWARE);
      throw err;
    }
  };

  keys
    .command('load')
    .description('load the terminal master key from 2 or 3 clear components, each with its check value (stdin)')
    .option('--components <n>', 'how many components (2 or 3)', componentCount, 2)
    .option(...CONFIG)
    .action(async (opts: { components: number }, cmd: Command) => {
      let combined: ReturnType<typeof combineComponents>;
      try {
        combined = combineComponents(await readComponents(opts.components, (t) => process.stderr.write(t)));
      } catch (err) {
        if (err instanceof KeyLoadError) return fail(cmd, err.message, EX_DATAERR);
        throw err;
      }
      const store = open(cmd, cmd.optsWithGlobals<{ config?: string }>());
      try {
        const checkValue = store.keys.loadMaster(combined.key, 'loaded');
        process.stdout.write(
          `terminal master key loaded, check value ${checkValue}: compare it with the acquirer's; the terminal signs on at its next start\n`,
        );
      } finally {
        combined.key.fill(0);
        store.close();
      }
    });

  keys
    .command('status')
    .description('the check values and origins of the keys held (never the keys)')
    .option(...CONFIG)
    .action((_opts: unknown, cmd: Command) => {
      const store = open(cmd, cmd.optsWithGlobals<{ config?: string }>());
      try {
        const status = store.keys.status();
        const line = (name: string, s: (typeof status)['tmk']) =>
          s
            ? `${name}: check value ${s.checkValue} (${s.origin}, ${new Date(s.updatedAt).toISOString()})`
            : `${name}: none`;
        process.stdout.write(`${line('master key', status.tmk)}\n${line('session MAC key', status.mac)}\n`);
      } finally {
        store.close();
      }
    });
}
