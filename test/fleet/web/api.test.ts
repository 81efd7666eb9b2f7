/**
 * The dashboard's JSON API and pages through fastify's inject (no socket): the fleet table's filters and paging
 * against the state itself, typed errors for bad input, acknowledge with the operator from the trusted header,
 * commands and their audit trail persisted in SQLite, hostile terminal ids escaped in the HTML.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandAudit } from '../../../src/fleet/web/command-audit.js';
import { CommandTimeoutError } from '../../../src/fleet/consumer.js';
import { encode } from '../support.js';
import { demoDashboard, demoFleet, type DemoFleet } from './support.js';

let demo: DemoFleet;
let dir: string;

beforeAll(async () => {
  demo = await demoFleet(30);
  dir = mkdtempSync(join(tmpdir(), 'pos-fleet-web-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the fleet table API', () => {
  it('pages through every terminal in terminal order, with counts by status from the state', async () => {
    const { app } = await demoDashboard(demo);
    const views = demo.state.terminals();
    const seen: string[] = [];
    for (let page = 1; ; page++) {
      const r = await app.inject({ url: `/api/terminals?page=${page}&pageSize=25` });
      expect(r.statusCode).toBe(200);
      const body = r.json();
      expect(body.total).toBe(views.length);
      seen.push(...body.rows.map((row: { key: string }) => row.key));
      if (body.rows.length < 25) break;
    }
    expect(seen).toEqual(views.map((v) => v.key));
    const body = (await app.inject({ url: '/api/terminals' })).json();
    for (const status of ['healthy', 'degraded', 'locked', 'anomalous', 'silent', 'offline'])
      expect(body.counts[status], status).toBe(views.filter((v) => v.status === status).length);
    expect(body.counts.locked).toBeGreaterThan(0);
    expect(body.counts.silent).toBeGreaterThan(0);
    expect(body.rows[0]).not.toHaveProperty('search');
  });

  it('filters by status, fleet and text, alone and together, as the state says', async () => {
    const { app } = await demoDashboard(demo);
    const views = demo.state.terminals();
    const cases: [string, (v: (typeof views)[number]) => boolean][] = [
      ['status=locked', (v) => v.status === 'locked'],
      ['fleet=shop-paris-01', (v) => v.fleet === 'shop-paris-01'],
      ['fleet=shop-paris-01&status=anomalous', (v) => v.fleet === 'shop-paris-01' && v.status === 'anomalous'],
      ['q=TERM001', (v) => v.key.toLowerCase().includes('term001')],
      ['q=paper', (v) => v.reasons.some((r) => r.includes('paper'))],
      ['q=1.4.2&status=healthy', (v) => v.birth?.firmwareVersion === '1.4.2' && v.status === 'healthy'],
    ];
    for (const [query, want] of cases) {
      const body = (await app.inject({ url: `/api/terminals?${query}&pageSize=500` })).json();
      const expected = views.filter(want).map((v) => v.key);
      expect(expected.length, query).toBeGreaterThan(0);
      expect(
        body.rows.map((r: { key: string }) => r.key),
        query,
      ).toEqual(expected);
      expect(body.total, query).toBe(expected.length);
    }
  });

  it('answers bad input with a typed 400 naming the field, and never a stack trace', async () => {
    const { app } = await demoDashboard(demo);
    for (const url of [
      '/api/terminals?status=sleepy',
      '/api/terminals?page=0',
      '/api/terminals?pageSize=100000',
      '/api/terminals?bogus=1',
      `/api/terminals?q=${'x'.repeat(300)}`,
      '/api/alerts?state=closed',
    ]) {
      const r = await app.inject({ url });
      expect(r.statusCode, url).toBe(400);
      const body = r.json();
      expect(body.error.code, url).toBe('bad-request');
      expect(body.error.issues.length, url).toBeGreaterThan(0);
      expect(r.body, url).not.toMatch(/at .*\.(ts|js):\d+/);
    }
    const missing = await app.inject({ url: '/api/terminals/shop-paris-01/NOPE' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('not-found');
    expect((await app.inject({ url: '/nowhere' })).json().error.code).toBe('not-found');
  });

  it('refuses a state change that is not JSON (a form on another site cannot send one)', async () => {
    const { app } = await demoDashboard(demo);
    const r = await app.inject({
      method: 'POST',
      url: '/api/commands',
      headers: { 'content-type': 'text/plain' },
      payload: '{"fleet":"shop-paris-01","terminalId":"TERM0001","name":"unlock"}',
    });
    expect(r.statusCode).toBe(415);
    expect(r.json().error.code).toBe('unsupported-media-type');
    const bad = await app.inject({
      method: 'POST',
      url: '/api/commands',
      headers: { 'content-type': 'application/json' },
      payload: '{"fleet": ',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('bad-request');
  });
});

describe('a terminal', () => {
  it('shows its current view and its timeline with chart series from its Health', async () => {
    const { app } = await demoDashboard(demo);
    const view = (await app.inject({ url: '/api/terminals/shop-paris-01/TERM0009' })).json();
    expect(view.view.status).toBe('anomalous');
    const t = (await app.inject({ url: '/api/terminals/shop-paris-01/TERM0009/timeline' })).json();
    expect(t.configured).toBe(true);
    expect(t.charts.x).toHaveLength(10);
    expect(t.charts.x).toEqual([...t.charts.x].sort((a: number, b: number) => a - b));
    expect(t.charts.safDepth.every((v: unknown) => typeof v === 'number')).toBe(true);
    const anomalies = t.items.filter((i: { anomaly: boolean }) => i.anomaly);
    expect(anomalies).toHaveLength(3);
    expect(anomalies[0].summary).toContain('E101');
    expect(t.items[0].receivedAt).toBeGreaterThanOrEqual(t.items.at(-1).receivedAt);
  });

  it('says history is not configured when no reader is given', async () => {
    const { app } = await demoDashboard(demo, { history: false });
    const t = (await app.inject({ url: '/api/terminals/shop-paris-01/TERM0001/timeline' })).json();
    expect(t).toMatchObject({ configured: false, items: [] });
  });

  it('escapes a hostile terminal id in the page (ids come from the wire)', async () => {
    const hostile = `<img src=x onerror="alert(1)">'&`;
    demo.feed('birth', encode.birth({ terminalId: hostile, fleet: 'shop-paris-01', seq: 1 }), hostile, 'shop-paris-01');
    const { app } = await demoDashboard(demo);
    const r = await app.inject({ url: `/terminals/shop-paris-01/${encodeURIComponent(hostile)}` });
    expect(r.statusCode).toBe(200);
    expect(r.body).not.toContain('<img');
    expect(r.body).toContain('&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&#39;&amp;');
    expect(r.headers['content-security-policy']).toContain("script-src 'self'");
    demo.state.forget('shop-paris-01', hostile);
  });
});

describe('alerts', () => {
  it('lists the alert book and acknowledges as the operator the proxy names, once', async () => {
    const { app } = await demoDashboard(demo);
    const list = (await app.inject({ url: '/api/alerts?state=open' })).json();
    expect(list.alerts.length).toBeGreaterThan(0);
    const id = list.alerts[0].id;
    const ack = await app.inject({
      method: 'POST',
      url: `/api/alerts/${id}/ack`,
      headers: { 'content-type': 'application/json', 'x-forwarded-user': 'alice' },
      payload: { note: 'on it' },
    });
    expect(ack.statusCode).toBe(200);
    expect(ack.json().alert).toMatchObject({
      id,
      state: 'acknowledged',
      acknowledgedBy: 'alice',
      acknowledgeNote: 'on it',
    });
    const again = await app.inject({
      method: 'POST',
      url: `/api/alerts/${id}/ack`,
      headers: { 'content-type': 'application/json' },
      payload: {},
    });
    expect(again.json().alert.acknowledgedBy).toBe('alice');
    const none = await app.inject({
      method: 'POST',
      url: '/api/alerts/no-such/ack',
      headers: { 'content-type': 'application/json' },
      payload: {},
    });
    expect(none.statusCode).toBe(404);
  });
});

describe('commands', () => {
  it('sends only allow-listed commands, and keeps who, when, what and the result in the SQLite audit', async () => {
    const file = join(dir, 'audit.sqlite');
    let answer = 0;
    const d = await demoDashboard(demo, {
      auditFile: file,
      answer: async (c) => {
        answer++;
        if (answer === 2) throw new CommandTimeoutError(`no result from ${c.fleet}/${c.terminalId}`);
        return {
          type: 'cmd-result',
          topic: '',
          fleet: c.fleet,
          terminalId: c.terminalId,
          header: { terminalId: c.terminalId, fleet: c.fleet, bootId: 'b', seq: 1, sentAtMs: 0 },
          commandId: c.commandId,
          name: c.name,
          ok: false,
          error: 'not-allowed',
          message: 'unlock is not on the allow-list',
        };
      },
    });
    const post = (payload: object, user?: string) =>
      d.app.inject({
        method: 'POST',
        url: '/api/commands',
        headers: { 'content-type': 'application/json', ...(user ? { 'x-forwarded-user': user } : {}) },
        payload,
      });
    const refused = await post({ fleet: 'shop-paris-01', terminalId: 'TERM0001', name: 'format-disk' });
    expect(refused.statusCode).toBe(400);
    expect(refused.json().error.issues[0].path).toBe('name');
    expect(d.sent).toHaveLength(0);

    const first = await post({ fleet: 'shop-paris-01', terminalId: 'TERM0001', name: 'unlock' }, 'bob');
    expect(first.statusCode).toBe(202);
    expect(first.json().entry).toMatchObject({ by: 'bob', name: 'unlock', outcome: 'sent', at: demo.clock.now() });
    await post({ fleet: 'shop-paris-01', terminalId: 'TERM0002', name: 'send-health' });
    await d.commands.settle();
    expect(d.sent.map((s) => s.issuedBy)).toEqual(['bob', 'ops@fleet']);
    await d.app.close();
    d.audit.close();

    // Reopened from the file: the trail survived.
    const reopened = new CommandAudit(file);
    const trail = reopened.list({ limit: 10 });
    reopened.close();
    expect(trail.map((e) => [e.by, e.terminalId, e.name, e.outcome])).toEqual([
      ['ops@fleet', 'TERM0002', 'send-health', 'timeout'],
      ['bob', 'TERM0001', 'unlock', 'failed'],
    ]);
    expect(trail[1]?.detail).toBe('not-allowed: unlock is not on the allow-list');
    const d2 = await demoDashboard(demo, { auditFile: file });
    const listed = (await d2.app.inject({ url: '/api/commands?fleet=shop-paris-01&terminal=TERM0001' })).json();
    expect(listed.audit).toHaveLength(1);
    expect(listed.commands).toContain('run-self-test');
    d2.audit.close();
  });
});
