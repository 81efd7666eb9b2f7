/**
 * The retention benchmark at a small size: every day settles in agreement with the host, batches older than the
 * retention period are purged, and the journal then holds only the retained days (its rows stop growing).
 */
import { describe, expect, it } from 'vitest';
import { benchJournalRetention } from '../../bench/journal-retention.js';

describe('journal size under retention', () => {
  it('purges what is older than the retention period, so the journal holds only the retained days', async () => {
    const r = await benchJournalRetention({ salesPerDay: 30, retentionDays: 1, days: 5 });
    expect(r.settlementsAgreed).toBe(5);
    // A batch closed more than a day ago is purged: at the end of day 5, days 1 to 4.
    expect(r.batchesPurged).toBe(4);
    // At the end of each day the journal holds that day's transactions only (the older ones were purged).
    expect(r.rowsByDay).toEqual([30, 30, 30, 30, 30]);
    // The file stops growing once purging began: SQLite reuses the freed pages.
    expect(r.bytesByDay[4]).toBeLessThanOrEqual(r.bytesByDay[2]! * 1.05);
  }, 120_000);
});
