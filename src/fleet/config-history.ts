/**
 * The `history` block of the fleet consumer's config: which store keeps every received message (SQLite on this
 * machine by default, PostgreSQL when consumers on several machines share one), how long, and how it is written.
 */
import { z } from 'zod';
import { int, positive } from './config-fields.js';

const postgresUrl = z
  .string({ error: 'a postgres:// or postgresql:// URL, or null' })
  .regex(/^postgres(ql)?:\/\/\S+$/, { error: 'a postgres:// or postgresql:// URL, or null' })
  .nullable();

export const historyConfigSchema = z
  .strictObject(
    {
      /** "sqlite" (the default: one file on this machine) or "postgres". */
      backend: z.enum(['sqlite', 'postgres'], { error: '"sqlite" or "postgres"' }),
      sqlite: z.strictObject(
        { path: z.string({ error: 'a file path' }).min(1, { error: 'a file path' }) },
        { error: 'an object' },
      ),
      postgres: z.strictObject({ url: postgresUrl, poolSize: int(1, 100) }, { error: 'an object' }),
      retentionDays: positive(3_650, 'days'),
      purge: z.strictObject(
        { intervalMinutes: positive(24 * 60, 'minutes'), batchSize: int(100, 100_000) },
        { error: 'an object' },
      ),
      write: z.strictObject(
        {
          batchSize: int(1, 5_000),
          flushIntervalMs: int(10, 60_000),
          maxQueued: int(1_000, 10_000_000),
        },
        { error: 'an object' },
      ),
    },
    { error: 'an object' },
  )
  .superRefine((v, ctx) => {
    if (v.backend === 'postgres' && v.postgres.url === null)
      ctx.addIssue({
        code: 'custom',
        path: ['postgres', 'url'],
        message: 'a postgres:// URL, since backend is "postgres"',
      });
  });

export type HistoryConfig = z.infer<typeof historyConfigSchema>;

export const HISTORY_DEFAULTS = {
  backend: 'sqlite',
  sqlite: { path: 'pos-fleet-history.sqlite' },
  postgres: { url: null, poolSize: 4 },
  retentionDays: 30,
  purge: { intervalMinutes: 10, batchSize: 5_000 },
  write: { batchSize: 500, flushIntervalMs: 250, maxQueued: 100_000 },
};
