/**
 * Errors as the dashboard's API answers them: `{ "error": { "code", "message", "issues"? } }` with the HTTP status,
 * never a stack trace. Anything that is not an ApiError is logged and answered as a plain internal error.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import type { z } from 'zod';

export type ApiErrorCode =
  | 'bad-request'
  | 'not-found'
  | 'unsupported-media-type'
  | 'payload-too-large'
  | 'history-not-configured'
  | 'internal';

export interface ApiIssue {
  path: string;
  message: string;
}

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    message: string,
    readonly issues: ApiIssue[] = [],
  ) {
    super(message);
  }
}

/** Parses with a zod schema, or throws a 400 ApiError naming each bad field. */
export function parseOr400<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw new ApiError(
    400,
    'bad-request',
    `invalid ${what}`,
    r.error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(root)', message: i.message })),
  );
}

export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | ApiError, request, reply) => {
    if (err instanceof ApiError) {
      return reply.status(err.status).send({
        error: { code: err.code, message: err.message, ...(err.issues.length ? { issues: err.issues } : {}) },
      });
    }
    // Fastify's own client errors (bad JSON body, wrong content type, body too large) keep their 4xx status.
    const status = typeof err.statusCode === 'number' ? err.statusCode : 500;
    if (status >= 400 && status < 500) {
      const code: ApiErrorCode =
        status === 415 ? 'unsupported-media-type' : status === 413 ? 'payload-too-large' : 'bad-request';
      return reply.status(status).send({ error: { code, message: err.message } });
    }
    request.log.error({ err }, 'request failed');
    return reply.status(500).send({ error: { code: 'internal', message: 'internal error' } });
  });
  app.setNotFoundHandler((request, reply) =>
    reply
      .status(404)
      .send({ error: { code: 'not-found', message: `no route ${request.method} ${request.url.slice(0, 200)}` } }),
  );
}
