/**
 * Version 9: support's resolution of what the host refused for good. A reversal or an advice set aside stays owed
 * (it blocks the end of day) until someone who has settled it with the acquirer records how: the item keeps its own
 * row and state, and this table says it is no longer owed, when and why.
 */
import type { Migration } from './migration.js';

const V9 = `
CREATE TABLE set_aside_resolutions (
  id INTEGER PRIMARY KEY,
  item TEXT NOT NULL CHECK (item IN ('reversal', 'advice')),
  item_id INTEGER NOT NULL,
  txn_ref TEXT NOT NULL,
  note TEXT NOT NULL CHECK (length(note) BETWEEN 1 AND 500),
  resolved_at INTEGER NOT NULL,
  UNIQUE (item, item_id)
) STRICT;
CREATE INDEX set_aside_resolutions_txn ON set_aside_resolutions (txn_ref);
`;

export const V9_SET_ASIDE_RESOLUTIONS: Migration = {
  version: 9,
  description: 'set-aside resolutions: reversals and advices support has settled with the acquirer',
  up: (db) => db.exec(V9),
};
