/**
 * The dashboard's pages and assets: HTML shells (page-shell.ts), the browser script (assets/dashboard.js) and the
 * module it imports (assets/common.js), the stylesheet, and uPlot's script and stylesheet from its installed package.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { parseOr400 } from './api-error.js';
import type { DashboardContext } from './context.js';
import { CONTENT_SECURITY_POLICY, type PageOptions, renderPage } from './page-shell.js';
import { DASHBOARD_CSS } from './styles.js';

const level = z.string().regex(/^[^/+#\u0000]{1,128}$/, { error: 'a topic level (no "/", "+" or "#")' });

/** Read once at start: a missing asset fails `pos-fleet serve` at once instead of a page later. */
function loadAssets(): Record<string, { type: string; body: string }> {
  const uplotDir = join(dirname(createRequire(import.meta.url).resolve('uplot')));
  return {
    '/assets/dashboard.js': {
      type: 'text/javascript; charset=utf-8',
      body: readFileSync(new URL('./assets/dashboard.js', import.meta.url), 'utf8'),
    },
    '/assets/common.js': {
      type: 'text/javascript; charset=utf-8',
      body: readFileSync(new URL('./assets/common.js', import.meta.url), 'utf8'),
    },
    '/assets/dashboard.css': { type: 'text/css; charset=utf-8', body: DASHBOARD_CSS },
    '/assets/uplot.js': {
      type: 'text/javascript; charset=utf-8',
      body: readFileSync(join(uplotDir, 'uPlot.iife.min.js'), 'utf8'),
    },
    '/assets/uplot.css': {
      type: 'text/css; charset=utf-8',
      body: readFileSync(join(uplotDir, 'uPlot.min.css'), 'utf8'),
    },
  };
}

export function registerPageRoutes(app: FastifyInstance, ctx: DashboardContext): void {
  const assets = loadAssets();
  for (const [path, asset] of Object.entries(assets))
    app.get(path, async (_req, reply) => reply.type(asset.type).header('cache-control', 'no-cache').send(asset.body));

  const page = (o: Omit<PageOptions, 'heading' | 'refreshSeconds'>) =>
    renderPage({ ...o, title: `${o.title} · ${ctx.title}`, heading: ctx.title, refreshSeconds: ctx.refreshSeconds });
  const html = (reply: FastifyReply, body: string) =>
    reply.type('text/html; charset=utf-8').header('content-security-policy', CONTENT_SECURITY_POLICY).send(body);

  app.get('/', async (_req, reply) => html(reply, page({ page: 'table', title: 'Fleet' })));
  app.get('/alerts', async (_req, reply) => html(reply, page({ page: 'alerts', title: 'Alerts' })));
  app.get('/commands', async (_req, reply) => html(reply, page({ page: 'commands', title: 'Commands' })));
  app.get('/terminals/:fleet/:terminal', async (req, reply) => {
    const p = parseOr400(z.object({ fleet: level, terminal: level }), req.params, 'terminal');
    return html(
      reply,
      page({
        page: 'terminal',
        title: `${p.fleet}/${p.terminal}`,
        data: { fleet: p.fleet, terminal: p.terminal },
        styles: ['/assets/uplot.css'],
        scripts: ['/assets/uplot.js'],
      }),
    );
  });
}
