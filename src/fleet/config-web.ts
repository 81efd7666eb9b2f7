/**
 * The `web` key of the fleet configuration: where `pos-fleet serve` listens, who the operator is, where the command
 * audit is kept, and what the Prometheus endpoint exports. Loopback by default: the dashboard has no login of its
 * own, so it is put behind an authenticating reverse proxy (which can name the operator in a header) to be reached
 * from elsewhere.
 */
import { z } from 'zod';
import { int, str } from './config-fields.js';

const expectedHost = 'a host name or IP address to listen on';
const expectedPort = 'a TCP port from 1 to 65535';
const port = z
  .number({ error: expectedPort })
  .int({ error: expectedPort })
  .min(1, { error: expectedPort })
  .max(65_535, {
    error: expectedPort,
  });

const headerName = z
  .string({ error: 'an HTTP header name or null' })
  .regex(/^[A-Za-z0-9-]{1,64}$/, { error: 'an HTTP header name or null' })
  .transform((v) => v.toLowerCase());

export const webConfigSchema = z.strictObject(
  {
    host: str(expectedHost),
    port,
    /** Who acknowledges and commands when no header names anyone; null = the top-level operator, else user@host. */
    operator: str('a non-empty string or null').nullable(),
    /** A header set by the reverse proxy in front (e.g. "X-Forwarded-User"); null = no header is trusted. */
    operatorHeader: headerName.nullable(),
    /** SQLite file of the command audit trail (who, when, what, result). */
    auditFile: str('a file path'),
    pageSize: int(1, 500),
    /** How often the pages poll for fresh figures. */
    refreshSeconds: z
      .number({ error: 'a number of seconds from 0.5 to 3600' })
      .min(0.5, { error: 'a number of seconds from 0.5 to 3600' })
      .max(3_600, { error: 'a number of seconds from 0.5 to 3600' }),
    metrics: z.strictObject(
      {
        enabled: z.boolean({ error: 'true or false' }),
        /** A second listener that serves only /metrics (for a scraper on another interface); null = none. */
        port: port.nullable(),
        /** Series per terminal: off by default, and at most `max` terminals (each costs a few series). */
        perTerminal: z.strictObject(
          { enabled: z.boolean({ error: 'true or false' }), max: int(1, 100_000) },
          { error: 'an object' },
        ),
      },
      { error: 'an object' },
    ),
  },
  { error: 'an object' },
);

export type WebConfig = z.infer<typeof webConfigSchema>;

export const WEB_DEFAULTS = {
  host: '127.0.0.1',
  port: 8080,
  operator: null,
  operatorHeader: null,
  auditFile: 'pos-fleet-audit.sqlite',
  pageSize: 50,
  refreshSeconds: 2,
  metrics: { enabled: true, port: null, perTerminal: { enabled: false, max: 1_000 } },
};
