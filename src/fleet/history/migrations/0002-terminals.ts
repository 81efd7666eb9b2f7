/**
 * Version 2: one row per terminal whose version moves with every batch that brings it a message, so a reader of
 * the fleet picture refolds only the terminals that changed.
 */
import type { HistoryMigration } from './migration.js';

const table = `CREATE TABLE fleet_terminals (
  fleet TEXT NOT NULL,
  terminal_id TEXT NOT NULL,
  version BIGINT NOT NULL,
  last_received_at BIGINT NOT NULL,
  PRIMARY KEY (fleet, terminal_id)
)`;

export const terminals: HistoryMigration = {
  name: '0002-terminals',
  sqlite: [
    table,
    `INSERT INTO fleet_terminals (fleet, terminal_id, version, last_received_at)
       SELECT fleet, terminal_id, COUNT(*), MAX(received_at) FROM fleet_messages GROUP BY fleet, terminal_id`,
  ],
  postgres: [
    table,
    `INSERT INTO fleet_terminals (fleet, terminal_id, version, last_received_at)
       SELECT fleet, terminal_id, COUNT(*), MAX(received_at) FROM fleet_messages GROUP BY fleet, terminal_id`,
  ],
};
