/** Version 5: the message fields a real acquirer needs. */
import type { Migration } from './migration.js';

// What a real acquirer needs that earlier rows lacked: field 22 and the institution ids of the original, the sealed
// PAN/expiry of a reversal (kept only while it is owed) and its reason; the request MTI and time a void names.
const V5 = `
ALTER TABLE transactions ADD COLUMN request_mti TEXT CHECK (request_mti IS NULL OR (length(request_mti) = 4 AND request_mti NOT GLOB '*[^0-9]*'));
ALTER TABLE transactions ADD COLUMN transmitted_at INTEGER;
ALTER TABLE reversals ADD COLUMN pos_entry_mode TEXT CHECK (pos_entry_mode IS NULL OR (length(pos_entry_mode) = 3 AND pos_entry_mode NOT GLOB '*[^0-9]*'));
ALTER TABLE reversals ADD COLUMN acquiring_institution_id TEXT;
ALTER TABLE reversals ADD COLUMN forwarding_institution_id TEXT;
ALTER TABLE reversals ADD COLUMN card_blob BLOB;
ALTER TABLE reversals ADD COLUMN reason_code TEXT;
ALTER TABLE saf_queue ADD COLUMN pos_entry_mode TEXT CHECK (pos_entry_mode IS NULL OR (length(pos_entry_mode) = 3 AND pos_entry_mode NOT GLOB '*[^0-9]*'));
ALTER TABLE saf_queue ADD COLUMN acquiring_institution_id TEXT;
ALTER TABLE saf_queue ADD COLUMN forwarding_institution_id TEXT;
-- A reversal that settled keeps no card data (the sealed blob goes with the armed and pending states).
UPDATE reversals SET card_blob = NULL WHERE state IN ('acknowledged', 'cleared');
`;

export const V5_ACQUIRER_FIELDS: Migration = {
  version: 5,
  description: 'message fields a real acquirer needs: field 22, institution ids, sealed reversal card, void references',
  up: (db) => db.exec(V5),
};
