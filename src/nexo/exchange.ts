/**
 * One nexo exchange once the body is read: parse, open when sealed (or refuse plain when plain is not allowed),
 * hand the clear request to the message handler, seal its answer with the request's key. Every way the input can be
 * wrong ends in a nexo Failure and one bad-input report; a handler that throws ends in a Failure without details.
 */
import { nexoFailure } from './failure.js';
import { looksSealed, type NexoKey, type NexoKeyRing, NexoSecurityError, open, seal } from './security.js';
import type { NexoHandler } from './types.js';

/** Why input was refused before the message handler; for one journaled anomaly per client and interval. */
export type NexoBadInput =
  | 'not-json'
  | 'not-a-request'
  | 'too-large'
  | 'wrong-path'
  | 'wrong-method'
  | 'plain-not-allowed'
  | 'malformed-http'
  | NexoSecurityError['reason'];

export interface ExchangeDeps {
  keys: NexoKeyRing;
  allowPlain: boolean;
  handler: NexoHandler;
  onBadInput(clientId: string, reason: NexoBadInput): void;
  onHandlerError(clientId: string, error: unknown): void;
}

type Reply = { SaleToPOIResponse: Record<string, unknown> };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export async function exchange(body: Buffer, clientId: string, deps: ExchangeDeps): Promise<unknown> {
  const refuse = (
    request: unknown,
    reason: NexoBadInput,
    condition: 'MessageFormat' | 'NotAllowed',
    message: string,
  ) => {
    deps.onBadInput(clientId, reason);
    return nexoFailure(request, condition, { reason, message });
  };

  let parsed: unknown;
  try {
    parsed = JSON.parse(utf8.decode(body));
  } catch {
    return refuse(undefined, 'not-json', 'MessageFormat', 'the body is not UTF-8 JSON');
  }
  if (!isRecord(parsed) || Object.keys(parsed).length !== 1 || !isRecord(parsed['SaleToPOIRequest'])) {
    return refuse(parsed, 'not-a-request', 'MessageFormat', 'the body is not one SaleToPOIRequest');
  }

  let request: { SaleToPOIRequest: Record<string, unknown> };
  let key: NexoKey | undefined;
  if (looksSealed(parsed['SaleToPOIRequest'])) {
    try {
      const opened = open(parsed, deps.keys);
      request = opened.message as typeof request;
      key = opened.key;
    } catch (err) {
      if (!(err instanceof NexoSecurityError)) throw err;
      const condition = err.reason === 'unknown-key' ? 'NotAllowed' : 'MessageFormat';
      // Padding and Hmac failures read alike, so the answer is no padding oracle.
      const said =
        err.reason === 'bad-padding' || err.reason === 'bad-hmac'
          ? 'the message fails its security check'
          : err.message;
      deps.onBadInput(clientId, err.reason);
      return nexoFailure(parsed, condition, {
        reason: condition === 'NotAllowed' ? 'unknown-key' : 'security',
        message: said,
      });
    }
  } else if (!deps.allowPlain) {
    return refuse(parsed, 'plain-not-allowed', 'NotAllowed', 'this terminal accepts sealed messages only');
  } else {
    request = parsed as typeof request;
  }

  let reply: Reply;
  try {
    reply = await deps.handler(request, { clientId, sealed: key !== undefined });
    if (!isRecord(reply) || !isRecord(reply.SaleToPOIResponse))
      throw new TypeError('the handler answered no SaleToPOIResponse');
  } catch (err) {
    deps.onHandlerError(clientId, err);
    reply = nexoFailure(request, 'UnavailableService', {
      reason: 'internal',
      message: 'the terminal could not answer',
    });
  }
  return key === undefined ? reply : seal(reply, key);
}
