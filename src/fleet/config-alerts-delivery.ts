/**
 * `alertsDelivery` in the fleet consumer's config: where alerts are kept (the alert book) and which of them go to
 * which webhook. Off by default (`bookFile` null): pos-fleet then only prints alerts, as before.
 */
import { z } from 'zod';
import { int, positive, str } from './config-fields.js';

const seconds = (max: number) => positive(max, 'seconds');

const list = (expected: string) =>
  z
    .array(str(expected), { error: `a list of ${expected}s` })
    .max(1_000)
    .optional();

const httpUrl = z.string({ error: 'an http:// or https:// URL' }).refine(
  (v) => {
    try {
      const p = new URL(v).protocol;
      return p === 'http:' || p === 'https:';
    } catch {
      return false;
    }
  },
  { error: 'an http:// or https:// URL' },
);

/** Header names as HTTP allows them (RFC 9110 token). */
const headerName = z
  .string({ error: 'a header name' })
  .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/, { error: 'a header name' });

export const webhookSchema = z.strictObject(
  {
    name: str('a non-empty name'),
    url: httpUrl,
    /** Extra request headers (an Authorization token, a tenant id). */
    headers: z
      .record(
        headerName,
        z
          .string({ error: 'a header value' })
          .regex(/^[^\u0000-\u001f\u007f]{1,4096}$/, { error: 'a header value (one line)' }),
        { error: 'an object of header → value' },
      )
      .optional(),
    /** HMAC-SHA256 of the body with this secret goes in `signatureHeader` as `sha256=<hex>`; null = unsigned. */
    secret: str('a secret or null').nullable().optional(),
    signatureHeader: headerName.optional(),
    /** Which alert changes go here; a missing list matches everything. */
    match: z
      .strictObject(
        {
          rules: list('rule name'),
          types: list('alert type'),
          fleets: list('fleet'),
          states: z
            .array(z.enum(['raised', 'cleared', 'acknowledged'], { error: '"raised", "cleared" or "acknowledged"' }), {
              error: 'a list of "raised", "cleared" and "acknowledged"',
            })
            .optional(),
        },
        { error: 'an object' },
      )
      .optional(),
    timeoutSeconds: seconds(300).optional(),
  },
  { error: 'an object' },
);

export type WebhookConfig = z.infer<typeof webhookSchema>;

export const alertsDeliverySchema = z.strictObject(
  {
    /** SQLite file of the alert book and the delivery queue; null = alerts are neither kept nor delivered. */
    bookFile: str('a file path or null').nullable(),
    webhooks: z
      .array(webhookSchema, { error: 'a list of webhooks' })
      .max(100, { error: 'at most 100 webhooks' })
      .superRefine((hooks, ctx) => {
        const seen = new Set<string>();
        hooks.forEach((h, i) => {
          if (seen.has(h.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: 'a name used only once' });
          seen.add(h.name);
        });
      }),
    retry: z.strictObject(
      {
        firstDelaySeconds: seconds(3_600),
        maxDelaySeconds: seconds(86_400),
        /** A delivery still failing this long after the alert changed is given up, the failure recorded. */
        giveUpAfterHours: seconds(24 * 30),
      },
      { error: 'an object' },
    ),
    /** Deliveries waiting at most; beyond it a new one is recorded as failed ("queue full") instead of queued. */
    maxQueued: int(1, 10_000_000),
    /** Requests in flight per webhook at most, so one slow receiver holds only its own. */
    concurrencyPerWebhook: int(1, 64),
    /** Finished deliveries (sent or given up) are deleted after this many days. */
    keepDays: seconds(3_650),
  },
  { error: 'an object' },
);

export type AlertsDeliveryConfig = z.infer<typeof alertsDeliverySchema>;

export const ALERTS_DELIVERY_DEFAULTS = {
  bookFile: null,
  webhooks: [],
  retry: { firstDelaySeconds: 5, maxDelaySeconds: 600, giveUpAfterHours: 24 },
  maxQueued: 100_000,
  concurrencyPerWebhook: 4,
  keepDays: 30,
};
