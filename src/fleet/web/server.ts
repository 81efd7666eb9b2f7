/**
 * `pos-fleet serve`'s HTTP side on fastify: the pages, the JSON API and (when given) the Prometheus endpoint. The
 * fleet picture, the history reader and the alert book are handed in (ports.ts), so the same server runs on the
 * live consumer, on SQLite or PostgreSQL stores, and in tests on what a test builds.
 *
 * State-changing requests must be JSON (`content-type: application/json`): a page on another site cannot send that
 * without the browser asking first, which this server never allows, so a visited page cannot acknowledge or command.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { Clock } from '../../../hal/clock.js';

import type { AlertBook, FleetHistoryReader } from '../ports.js';
import type { FleetState } from '../state.js';
import { ApiError, installErrorHandlers } from './api-error.js';
import { registerApiRoutes } from './api-routes.js';
import type { CommandAudit } from './command-audit.js';
import { CommandRunner, type CommandSender } from './command-runner.js';
import type { ConsumerStatus, DashboardContext } from './context.js';
import { FleetIndex } from './fleet-index.js';
import { registerPageRoutes } from './page-routes.js';

export interface DashboardOptions {
  clock: Clock;
  state: FleetState;
  /** Built from the state when not given; whoever feeds the state must touch() it for each message. */
  index?: FleetIndex;
  alerts: AlertBook;
  history?: FleetHistoryReader;
  audit: CommandAudit;
  send: CommandSender;
  operator: string;
  operatorHeader?: string | null;
  pageSize?: number;
  refreshSeconds?: number;
  title?: string;
  /** Serves /metrics when given (metrics/fleet-metrics.ts). */
  metrics?: { contentType: string; exposition(): Promise<string> };
  consumerStatus?: () => ConsumerStatus;
  /** fastify's logger (pino) options; default off. */
  logger?: boolean | object;
}

export interface Dashboard {
  app: FastifyInstance;
  index: FleetIndex;
  commands: CommandRunner;
}

export async function buildDashboard(o: DashboardOptions): Promise<Dashboard> {
  const index = o.index ?? new FleetIndex({ state: o.state, clock: o.clock });
  const commands = new CommandRunner(o.audit, o.send, o.clock);
  const ctx: DashboardContext = {
    clock: o.clock,
    state: o.state,
    index,
    alerts: o.alerts,
    history: o.history,
    audit: o.audit,
    commands,
    operator: o.operator,
    operatorHeader: o.operatorHeader ?? null,
    pageSize: o.pageSize ?? 50,
    refreshSeconds: o.refreshSeconds ?? 2,
    title: o.title ?? 'pos-fleet',
    ...(o.consumerStatus ? { consumerStatus: o.consumerStatus } : {}),
  };
  const app = Fastify({ logger: o.logger ?? false, bodyLimit: 16 * 1024 });
  installErrorHandlers(app);
  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      const type = String(req.headers['content-type'] ?? '')
        .split(';')[0]
        ?.trim();
      if (type !== 'application/json')
        throw new ApiError(415, 'unsupported-media-type', 'send JSON (content-type: application/json)');
    }
  });
  registerPageRoutes(app, ctx);
  registerApiRoutes(app, ctx);
  if (o.metrics) {
    const metrics = o.metrics;
    app.get('/metrics', async (_req, reply) =>
      reply
        .type(metrics.contentType)
        .header('cache-control', 'no-store')
        .send(await metrics.exposition()),
    );
  }
  await app.ready();
  return { app, index, commands };
}
