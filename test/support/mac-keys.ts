/**
 * The key-loading step of an installation, for tests that run a terminal against a host simulator of their own: one
 * random test master key, loaded into the terminal's key store (as `pos-terminal keys load` does) and into the
 * simulator, so both sides sign on and MAC as in the field.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tdesCheckValue, xor } from '../../hal/crypto/index.js';
import { openKeyStore } from '../../src/app/terminal-keys.js';
import type { AcquirerHostSimulator } from '../../src/acquirer-sim/simulator.js';
import type { PosConfig } from '../../src/config/index.js';
import { cliPath, repoRoot } from './cli.js';

export function loadTestMasterKey(
  config: Pick<PosConfig, 'dataDir' | 'offline'> & { terminal: { id: string } },
  sim: Pick<AcquirerHostSimulator, 'setMasterKey'>,
): string {
  const tmk = randomBytes(16);
  const store = openKeyStore(config);
  try {
    const checkValue = store.keys.loadMaster(tmk, 'test');
    sim.setMasterKey(config.terminal.id, tmk);
    return checkValue;
  } finally {
    store.close();
    tmk.fill(0);
  }
}

/**
 * For programs run as processes: a random master key as pos-host-sim reads it (`--master-keys`, a 0600 file in `dir`)
 * and as the terminal's custodians enter it (two components with their check values, for `pos-terminal keys load`).
 */
export function masterKeyFixture(dir: string, terminalId = 'SIM00001'): { keysFile: string; components: string } {
  const tmk = randomBytes(16);
  const first = randomBytes(16);
  const second = xor(tmk, first);
  const keysFile = join(dir, 'host-master-keys.txt');
  writeFileSync(keysFile, `${terminalId} ${tmk.toString('hex')}\n`, { mode: 0o600 });
  const line = (c: Buffer) => `${c.toString('hex').toUpperCase()} ${tdesCheckValue(c)}\n`;
  return { keysFile, components: line(first) + line(second) };
}

/** `pos-terminal keys load` with these components; its standard output (the check value line). */
export function loadMasterKeyWithCli(components: string, args: string[], env: NodeJS.ProcessEnv = {}): string {
  return execFileSync(process.execPath, [cliPath('pos-terminal'), 'keys', 'load', ...args], {
    input: components,
    env: { ...process.env, ...env },
    cwd: repoRoot,
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}
