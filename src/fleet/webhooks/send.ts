/**
 * One HTTP attempt of one delivery: a JSON POST with the idempotency key, the configured headers and, with a
 * secret, an HMAC-SHA256 signature of the exact body. The attempt's time limit runs on the Clock, so tests decide
 * when it expires. 2xx is delivered; 408, 429, 5xx, timeouts and connection errors are worth trying again; any
 * other answer (400, 401, 404, a redirect…) will not get better by repeating the same request.
 */
import { createHmac } from 'node:crypto';
import type { Clock } from '../../../hal/clock.js';
import type { WebhookConfig } from '../config-alerts-delivery.js';

export const DEFAULT_SIGNATURE_HEADER = 'X-Pos-Fleet-Signature';
export const DEFAULT_TIMEOUT_MS = 10_000;

export type AttemptResult =
  | { outcome: 'sent'; status: number }
  /** retryAfterMs: what the receiver asked for (Retry-After on a 429 or 503). */
  | { outcome: 'retry' | 'failed'; status: number | null; error: string; retryAfterMs?: number };

export function signature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export async function postDelivery(
  hook: WebhookConfig,
  delivery: { id: string; body: string },
  clock: Clock,
): Promise<AttemptResult> {
  const headers: Record<string, string> = {
    ...hook.headers,
    'Content-Type': 'application/json',
    'Idempotency-Key': delivery.id,
    'User-Agent': 'pos-fleet',
  };
  if (hook.secret) headers[hook.signatureHeader ?? DEFAULT_SIGNATURE_HEADER] = signature(hook.secret, delivery.body);
  const abort = new AbortController();
  const timeoutMs = hook.timeoutSeconds !== undefined ? hook.timeoutSeconds * 1000 : DEFAULT_TIMEOUT_MS;
  const timer = clock.setTimeout(() => abort.abort(), timeoutMs);
  try {
    const res = await fetch(hook.url, {
      method: 'POST',
      headers,
      body: delivery.body,
      signal: abort.signal,
      redirect: 'manual',
    });
    // Read the answer to its end so the connection can be reused; its content does not matter.
    await res.arrayBuffer().catch(() => undefined);
    if (res.status >= 200 && res.status < 300) return { outcome: 'sent', status: res.status };
    const retry = res.status === 408 || res.status === 429 || res.status >= 500;
    const after = retryAfterMs(res.headers.get('retry-after'), clock.now());
    return {
      outcome: retry ? 'retry' : 'failed',
      status: res.status,
      error: `HTTP ${res.status}`,
      ...(after !== undefined ? { retryAfterMs: after } : {}),
    };
  } catch (err) {
    const error = abort.signal.aborted
      ? `no answer within ${timeoutMs / 1000} s`
      : `${(err as Error).message}${causeOf(err)}`;
    return { outcome: 'retry', status: null, error };
  } finally {
    timer.cancel();
  }
}

/** Retry-After as seconds or an HTTP date (RFC 9110 §10.2.3); undefined when absent or unreadable. */
export function retryAfterMs(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  if (/^\d{1,9}$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function causeOf(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if (!cause) return '';
  return `: ${cause.code ?? cause.message ?? 'unknown cause'}`;
}
