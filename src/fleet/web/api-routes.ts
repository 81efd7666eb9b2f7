/**
 * The dashboard's JSON API: the fleet table (filters and paging on the index), one terminal (its current view and
 * its timeline from the history reader), the alert list with acknowledge, and commands with their audit trail.
 * Every input is validated with zod; every error is typed JSON (api-error.ts).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { COMMANDS } from '../consumer.js';
import type { AlertRecordState } from '../ports.js';
import { FLEET_STATUSES, type FleetStatus } from '../state.js';
import { ApiError, parseOr400 } from './api-error.js';
import type { DashboardContext } from './context.js';
import { timelineCharts, timelineItems } from './timeline.js';

const level = z.string().regex(/^[^/+#\u0000]{1,128}$/, { error: 'a topic level (no "/", "+" or "#")' });
const intFrom = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const terminalParams = z.object({ fleet: level, terminal: level });

const ALERT_STATES: readonly AlertRecordState[] = ['open', 'acknowledged', 'cleared'];

export function registerApiRoutes(app: FastifyInstance, ctx: DashboardContext): void {
  const tableQuery = z.strictObject({
    status: z.enum(FLEET_STATUSES as [FleetStatus, ...FleetStatus[]]).optional(),
    fleet: level.optional(),
    q: z.string().max(200).optional(),
    page: intFrom(1, 1_000_000).default(1),
    pageSize: intFrom(1, 500).default(ctx.pageSize),
  });

  app.get('/api/terminals', async (req) => {
    const q = parseOr400(tableQuery, req.query, 'table query');
    const page = ctx.index.query({
      status: q.status,
      fleet: q.fleet,
      q: q.q,
      offset: (q.page - 1) * q.pageSize,
      limit: q.pageSize,
    });
    return { ...page, page: q.page, pageSize: q.pageSize, rows: page.rows.map(({ search: _, ...r }) => r) };
  });

  app.get('/api/terminals/:fleet/:terminal', async (req) => {
    const p = parseOr400(terminalParams, req.params, 'terminal');
    const view = ctx.state.terminal(p.fleet, p.terminal, ctx.clock.now());
    if (!view) throw new ApiError(404, 'not-found', `no terminal ${p.fleet}/${p.terminal} has been heard from`);
    return { at: view.at, view };
  });

  const timelineQuery = z.strictObject({
    limit: intFrom(1, 1_000).default(200),
    before: intFrom(0, Number.MAX_SAFE_INTEGER).optional(),
  });
  app.get('/api/terminals/:fleet/:terminal/timeline', async (req) => {
    const p = parseOr400(terminalParams, req.params, 'terminal');
    const q = parseOr400(timelineQuery, req.query, 'timeline query');
    if (!ctx.history) return { configured: false, items: [], charts: timelineCharts([]) };
    const entries = await ctx.history.timeline(p.fleet, p.terminal, {
      limit: q.limit,
      ...(q.before !== undefined ? { before: q.before } : {}),
    });
    return { configured: true, items: timelineItems(entries), charts: timelineCharts(entries) };
  });

  const alertQuery = z.strictObject({
    state: z.enum(ALERT_STATES as [AlertRecordState, ...AlertRecordState[]]).optional(),
    fleet: level.optional(),
    terminal: level.optional(),
    limit: intFrom(1, 1_000).default(100),
    offset: intFrom(0, 1_000_000).default(0),
  });
  app.get('/api/alerts', async (req) => {
    const q = parseOr400(alertQuery, req.query, 'alert query');
    const alerts = await ctx.alerts.list({
      limit: q.limit,
      offset: q.offset,
      ...(q.state ? { states: [q.state] } : {}),
      ...(q.fleet !== undefined ? { fleet: q.fleet } : {}),
      ...(q.terminal !== undefined ? { terminalId: q.terminal } : {}),
    });
    return { at: ctx.clock.now(), alerts };
  });

  const ackBody = z.strictObject({ note: z.string().max(500).optional() });
  app.post('/api/alerts/:id/ack', async (req) => {
    const { id } = parseOr400(z.object({ id: z.string().min(1).max(200) }), req.params, 'alert id');
    const body = parseOr400(ackBody, req.body ?? {}, 'acknowledgement');
    const rec = await ctx.alerts.acknowledge(id, operatorOf(req, ctx), body.note);
    if (!rec) throw new ApiError(404, 'not-found', 'no alert has that id');
    return { alert: rec };
  });

  const auditQuery = z.strictObject({
    fleet: level.optional(),
    terminal: level.optional(),
    limit: intFrom(1, 1_000).default(100),
  });
  app.get('/api/commands', async (req) => {
    const q = parseOr400(auditQuery, req.query, 'audit query');
    return {
      at: ctx.clock.now(),
      commands: COMMANDS,
      audit: ctx.audit.list({ fleet: q.fleet, terminalId: q.terminal, limit: q.limit }),
    };
  });

  const commandBody = z.strictObject({ fleet: level, terminalId: level, name: z.enum(COMMANDS) });
  app.post('/api/commands', async (req, reply) => {
    const c = parseOr400(commandBody, req.body, 'command');
    const entry = ctx.commands.start({ ...c, issuedBy: operatorOf(req, ctx) });
    return reply.status(202).send({ entry });
  });

  app.get('/api/status', async () => ({ at: ctx.clock.now(), consumer: ctx.consumerStatus?.() ?? null }));
}

/** The operator named by the trusted proxy header, else the configured one. */
export function operatorOf(req: FastifyRequest, ctx: Pick<DashboardContext, 'operator' | 'operatorHeader'>): string {
  if (ctx.operatorHeader !== null) {
    const v = req.headers[ctx.operatorHeader];
    const name = (Array.isArray(v) ? v[0] : v)?.trim();
    if (name && name.length <= 200) return name;
  }
  return ctx.operator;
}
