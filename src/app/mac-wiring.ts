/**
 * The MAC keys at boot: the terminal's master key from the key store, a sign-on at start and whenever the key is
 * dropped or the link comes up without one; each session key is kept sealed in the key store. With the embedded host simulator a test master key is
 * generated at first start (origin 'test', never a file in the repository) and given to both ends, so the desktop
 * default MACs with no manual step.
 */
import { resolve } from 'node:path';
import type { Clock } from '../../hal/clock.js';
import type { TcpHostLink } from '../../hal/acquirer-link/tcp.js';
import type { AcquirerClient } from '../acquirer/acquirer-client.js';
import { randomDoubleLengthKey } from '../acquirer/key-components.js';
import { KeyKeeper } from '../acquirer/key-keeper.js';
import type { MacSession } from '../acquirer/mac-session.js';
import type { AcquirerHostSimulator } from '../acquirer-sim/simulator.js';
import type { AnomalyRecorder } from '../anomaly/recorder.js';
import type { PosConfig } from '../config/index.js';
import { CardVault, VaultError } from '../durability/card-vault.js';
import type { Journal } from '../journal/index.js';
import type { Logger } from '../util/log.js';
import { TerminalKeys } from './terminal-keys.js';

/** A failed sign-on is tried again this often (a sale without a key also asks for one at once). */
const SIGN_ON_RETRY_MS = 60_000;

export interface MacWiringInput {
  config: PosConfig;
  dataDir: string;
  journal: Journal;
  /** The card vault when the terminal opened one (store-and-forward, sealed rows). */
  vault: CardVault | undefined;
  mac: MacSession;
  acquirer: AcquirerClient;
  hostLink: TcpHostLink;
  hostSim: AcquirerHostSimulator | undefined;
  anomalies: AnomalyRecorder;
  clock: Clock;
  log: Logger;
}

/** The vault the keys are sealed with: the terminal's, or opened for the keys alone (its absence is not fatal). */
function keyVault(input: MacWiringInput): CardVault | string {
  if (input.vault) return input.vault;
  // The terminal tried and its vault key is missing or wrong (it is locked): never a new key in its place.
  if (input.config.offline.enabled || input.journal.sealedCards.count() > 0)
    return 'the card vault that seals the keys is not open (see the storage fault)';
  try {
    return CardVault.open(resolve(input.dataDir, input.config.offline.keyFile), {
      createIfMissing: input.config.offline.createKeyIfMissing,
    });
  } catch (err) {
    if (err instanceof VaultError) return `the card vault that seals the keys cannot be opened: ${err.message}`;
    throw err;
  }
}

export function startMacKeys(input: MacWiringInput): { stop: () => void } {
  const { config, journal, mac, anomalies, log, hostSim } = input;
  if (!mac.required) return { stop: () => {} };
  const vault = keyVault(input);
  if (typeof vault === 'string') {
    mac.dropKeySilently(vault);
    anomalies.raise('mac-key-missing', { reason: vault }, { show: false });
    return { stop: () => {} };
  }
  const keys = new TerminalKeys(journal, vault);
  const terminalId = config.terminal.id;
  if (hostSim) {
    // The embedded simulator is this process: it gets the master key the terminal holds (a test one at first start).
    let master = keys.masterKey();
    if (!master) {
      master = randomDoubleLengthKey();
      keys.loadMaster(master, 'test');
      log.warn('a test terminal master key was generated for the embedded host simulator');
    }
    hostSim.setMasterKey(terminalId, master);
    master.fill(0);
  }
  const keeper = new KeyKeeper({
    client: input.acquirer,
    mac,
    clock: input.clock,
    terminalId,
    stan: () => journal.counters.nextStan(),
    masterKey: () => keys.masterKey(),
    timeoutMs: config.host.responseTimeoutMs,
    retryMs: SIGN_ON_RETRY_MS,
    store: (session) => keys.saveSession(session),
    onSignedOn: () => log.info('signed on: new session MAC key'),
    onFailure: (err) => {
      const reason = err.code === 'no-master-key' ? keys.whyNoMaster() || err.message : err.message;
      log.warn({ code: err.code, reason }, 'sign-on failed: no MAC key, no sale is sent');
      // A host that cannot be reached has its own anomalies; a refused or unusable key is this one.
      if (err.code !== 'host-error') anomalies.raise('mac-key-missing', { reason }, { show: false });
    },
  });
  // Every start signs on (the session key kept from the last run is not reused: the host may have moved on), and so
  // does a link that comes up without a key; requests meanwhile wait for the sign-on under way.
  input.hostLink.on('up', () => void keeper.ensure());
  if (input.hostLink.isUp()) void keeper.signOnNow();
  return { stop: () => keeper.stop() };
}
