/** Version 1: every received message, indexed for a terminal's timeline and for purging by age. */
import type { HistoryMigration } from './migration.js';

export const messages: HistoryMigration = {
  name: '0001-messages',
  sqlite: [
    `CREATE TABLE fleet_messages (
       id INTEGER PRIMARY KEY AUTOINCREMENT,
       fleet TEXT NOT NULL,
       terminal_id TEXT NOT NULL,
       kind TEXT NOT NULL,
       boot_id TEXT,
       seq INTEGER,
       sent_at INTEGER,
       received_at INTEGER NOT NULL,
       historical INTEGER NOT NULL DEFAULT 0,
       retained INTEGER NOT NULL DEFAULT 0,
       summary TEXT NOT NULL,
       data TEXT NOT NULL
     )`,
    'CREATE INDEX fleet_messages_timeline ON fleet_messages (fleet, terminal_id, received_at)',
    'CREATE INDEX fleet_messages_age ON fleet_messages (received_at)',
  ],
  postgres: [
    // data is TEXT holding JSON, not JSONB: JSONB refuses \u0000, which a terminal's free text may carry.
    `CREATE TABLE fleet_messages (
       id BIGSERIAL PRIMARY KEY,
       fleet TEXT NOT NULL,
       terminal_id TEXT NOT NULL,
       kind TEXT NOT NULL,
       boot_id TEXT,
       seq BIGINT,
       sent_at BIGINT,
       received_at BIGINT NOT NULL,
       historical BOOLEAN NOT NULL DEFAULT FALSE,
       retained BOOLEAN NOT NULL DEFAULT FALSE,
       summary TEXT NOT NULL,
       data TEXT NOT NULL
     )`,
    'CREATE INDEX fleet_messages_timeline ON fleet_messages (fleet, terminal_id, received_at)',
    'CREATE INDEX fleet_messages_age ON fleet_messages (received_at)',
  ],
};
