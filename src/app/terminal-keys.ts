/**
 * The terminal's keys at rest: the master key and the session MAC key, each sealed by the card vault (the same
 * sealing and vault key as the card data) in the journal's key store. Opened only into memory, never logged.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { tdesCheckValue } from '../../hal/crypto/index.js';
import type { SessionKey } from '../acquirer/sign-on.js';
import { CardVault, VaultError } from '../durability/card-vault.js';
import { type Journal, openRecordedJournal, type TerminalKeyName, type TerminalKeyOrigin } from '../journal/index.js';

export interface KeyStatus {
  checkValue: string;
  origin: TerminalKeyOrigin;
  updatedAt: number;
}

export class TerminalKeys {
  constructor(
    private readonly journal: Journal,
    private readonly vault: CardVault,
  ) {}

  /** The master key, or undefined when none is loaded or it cannot be opened (`whyNoMaster` says which). */
  masterKey(): Buffer | undefined {
    return this.open('tmk');
  }

  whyNoMaster(): string {
    const row = this.journal.terminalKeys.get('tmk');
    if (!row) return 'no terminal master key: load one with `pos-terminal keys load`';
    return this.open('tmk')
      ? ''
      : 'the terminal master key cannot be opened with this vault key: load it again with `pos-terminal keys load`';
  }

  /** Seals and keeps a new master key; the session key of the old one goes (a sign-on gives a new one). */
  loadMaster(key: Uint8Array, origin: Exclude<TerminalKeyOrigin, 'sign-on'>): string {
    const checkValue = tdesCheckValue(key);
    this.journal.terminalKeys.put({ name: 'tmk', sealed: this.vault.sealKey(key, 'tmk'), checkValue, origin });
    this.journal.terminalKeys.remove('mac');
    return checkValue;
  }

  sessionKey(): Buffer | undefined {
    return this.open('mac');
  }

  saveSession(session: SessionKey): void {
    this.journal.terminalKeys.put({
      name: 'mac',
      sealed: this.vault.sealKey(session.key, 'mac'),
      checkValue: session.checkValue,
      origin: 'sign-on',
    });
  }

  /** Check values and origins only: what an operator may see. */
  status(): Partial<Record<TerminalKeyName, KeyStatus>> {
    const out: Partial<Record<TerminalKeyName, KeyStatus>> = {};
    for (const name of ['tmk', 'mac'] as const) {
      const row = this.journal.terminalKeys.get(name);
      if (row) out[name] = { checkValue: row.checkValue, origin: row.origin, updatedAt: row.updatedAt };
    }
    return out;
  }

  private open(name: TerminalKeyName): Buffer | undefined {
    const row = this.journal.terminalKeys.get(name);
    if (!row) return undefined;
    try {
      return this.vault.openKey(row.sealed, name);
    } catch (err) {
      if (err instanceof VaultError) return undefined;
      throw err;
    }
  }
}

/**
 * The key store of a terminal that is not running (the key-loading command): its journal with the outside record
 * kept, and its card vault (created only where the configuration allows). The caller closes the journal.
 */
export function openKeyStore(config: { dataDir: string; offline: { keyFile: string; createKeyIfMissing: boolean } }): {
  keys: TerminalKeys;
  close: () => void;
} {
  const dataDir = resolve(config.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const recorded = openRecordedJournal(dataDir);
  try {
    if (recorded.fault)
      throw new VaultError('refused-data', `the journal is under question (${recorded.fault.message}): no key loaded`);
    const vault = CardVault.open(resolve(dataDir, config.offline.keyFile), {
      createIfMissing: config.offline.createKeyIfMissing,
    });
    return { keys: new TerminalKeys(recorded.journal, vault), close: () => recorded.journal.close() };
  } catch (err) {
    recorded.journal.close();
    throw err;
  }
}
