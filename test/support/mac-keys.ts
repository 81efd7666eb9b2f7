/**
 * The key-loading step of an installation, for tests that run a terminal against a host simulator of their own: one
 * random test master key, loaded into the terminal's key store (as `pos-terminal keys load` does) and into the
 * simulator, so both sides sign on and MAC as in the field.
 */
import { randomBytes } from 'node:crypto';
import { openKeyStore } from '../../src/app/terminal-keys.js';
import type { AcquirerHostSimulator } from '../../src/acquirer-sim/simulator.js';
import type { PosConfig } from '../../src/config/index.js';

export function loadTestMasterKey(
  config: Pick<PosConfig, 'dataDir' | 'offline'> & { terminal: { id: string } },
  sim: AcquirerHostSimulator,
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
