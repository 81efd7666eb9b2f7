/** Version 6: the terminal's keys (master key, session MAC key), each sealed by the card vault, never in clear. */
import type { Migration } from './migration.js';

// The blob is the vault's sealing (AES-256-GCM under the vault key, bound to the key's name); the check value is the
// key's public fingerprint (3 bytes of a block of zeros encrypted under it), safe to show and to compare.
const V6 = `
CREATE TABLE terminal_keys (
  name TEXT PRIMARY KEY CHECK (name IN ('tmk', 'mac')),
  sealed BLOB NOT NULL,
  check_value TEXT NOT NULL CHECK (length(check_value) = 6 AND check_value NOT GLOB '*[^0-9A-F]*'),
  origin TEXT NOT NULL CHECK (origin IN ('loaded', 'test', 'sign-on')),
  updated_at INTEGER NOT NULL
) STRICT;
`;

export const V6_TERMINAL_KEYS: Migration = {
  version: 6,
  description: 'terminal keys: the master key and the session MAC key, sealed by the card vault',
  up: (db) => db.exec(V6),
};
