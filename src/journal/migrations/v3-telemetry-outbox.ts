/** Version 3: the telemetry outbox. */
import type { Migration } from './migration.js';

// Telemetry waiting for the MQTT broker, sent in id order and deleted once the broker acknowledged it. Payloads are
// encoded protobuf (header, seq and all), so what is sent after an outage is exactly what was made at the time.
const V3 = `
CREATE TABLE telemetry_outbox (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  kind       TEXT NOT NULL CHECK (kind IN ('birth', 'state', 'health', 'event', 'cmd-result')),
  topic      TEXT NOT NULL,
  payload    BLOB NOT NULL,
  retain     INTEGER NOT NULL DEFAULT 0 CHECK (retain IN (0, 1)),
  boot_id    TEXT NOT NULL,
  seq        INTEGER NOT NULL CHECK (seq >= 0),
  created_at INTEGER NOT NULL
) STRICT;
-- The bound drops old health first: finding it must not scan the events.
CREATE INDEX telemetry_outbox_health ON telemetry_outbox (id) WHERE kind = 'health';
`;

export const V3_TELEMETRY_OUTBOX: Migration = { version: 3, description: 'telemetry outbox', up: (db) => db.exec(V3) };
