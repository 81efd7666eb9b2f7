/** End of day (`settlement`): when the terminal settles by itself, and how long it waits for a host that is away. */
import { z } from 'zod';
import { int, ms, obj } from './schema-parts.js';

export const settlement = obj({
  /** Settle by itself every day at this local time of the process ("HH:MM", 24 h); null: only when asked. */
  autoAt: z
    .string({ error: 'a local time "HH:MM" (24 h) or null' })
    .regex(/^([01]\d|2[0-3]):[0-5]\d$/, { error: 'a local time "HH:MM" (24 h) or null' })
    .nullable(),
  /** Tries of each settlement message, and drains of what is owed, before a settlement gives up for now. */
  attempts: int(1, 100),
  /** The pause between two tries. */
  retryDelayMs: ms(0),
});

/** The journal's retention (`journal`): settled batches older than this many days are purged to their totals. */
export const journal = obj({
  retentionDays: int(1, 36_500),
});
