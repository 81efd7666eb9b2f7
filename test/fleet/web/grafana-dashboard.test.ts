/**
 * config/grafana-fleet-dashboard.json draws only what pos-fleet exports: every series named in a panel's PromQL
 * (and in the template variables) is one of FLEET_SERIES (a histogram's _bucket/_sum/_count included) or one of
 * Node's process series that the endpoint also serves.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FLEET_SERIES, FleetMetrics } from '../../../src/fleet/metrics/fleet-metrics.js';
import { repoRoot } from '../../support/cli.js';

interface Target {
  expr: string;
}
interface Panel {
  title: string;
  targets?: Target[];
}

const dashboard = JSON.parse(readFileSync(join(repoRoot, 'config', 'grafana-fleet-dashboard.json'), 'utf8')) as {
  panels: Panel[];
  templating: { list: { query?: unknown }[] };
};

/** PromQL words that are not series: functions, aggregations, keywords. */
const NOT_SERIES = new Set([
  'sum',
  'min',
  'max',
  'avg',
  'count',
  'topk',
  'bottomk',
  'rate',
  'increase',
  'irate',
  'histogram_quantile',
  'time',
  'vector',
  'by',
  'without',
  'or',
  'and',
  'unless',
  'on',
  'ignoring',
  'label_values',
  'le',
  'job',
  'status',
  'type',
  'code',
  'rule',
  'fleet',
  'terminal',
  'bool',
  'offset',
]);

/** Identifiers in a PromQL expression outside label matchers, strings and ranges. */
function seriesIn(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '');
  return [...bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)].map((m) => m[0]).filter((w) => !NOT_SERIES.has(w));
}

async function exported(): Promise<Set<string>> {
  const metrics = new FleetMetrics({
    fleet: {
      counts: () => ({ healthy: 0, degraded: 0, locked: 0, anomalous: 0, silent: 0, offline: 0 }),
      all: () => [],
    },
    openAlerts: () => [],
  });
  const names = new Set<string>();
  for (const m of await metrics.registry.getMetricsAsJSON()) names.add(m.name);
  for (const s of FLEET_SERIES) names.add(s);
  for (const n of [...names]) for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${n}${suffix}`);
  return names;
}

describe('the Grafana dashboard', () => {
  it('queries only series that pos-fleet exports', async () => {
    const known = await exported();
    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
    expect(exprs.length).toBeGreaterThan(10);
    const used = new Set<string>();
    for (const { panel, expr } of exprs) {
      const names = seriesIn(expr);
      expect(names.length, `${panel}: ${expr}`).toBeGreaterThan(0);
      for (const name of names) {
        expect(known.has(name), `${panel}: ${name} in ${expr}`).toBe(true);
        used.add(name.replace(/_(bucket|sum|count)$/, ''));
      }
    }
    for (const v of dashboard.templating.list)
      if (typeof v.query === 'string' && v.query.includes('('))
        for (const name of seriesIn(v.query)) expect(known.has(name), `template: ${name}`).toBe(true);
    // And it draws every fleet-level series (the per-terminal ones are opt-in, drawn too).
    expect([...FLEET_SERIES].filter((s) => !used.has(s))).toEqual([]);
  });

  it('finds a series name that is not exported (the check can fail)', async () => {
    const known = await exported();
    expect(seriesIn('sum by (status) (rate(pos_fleet_terminalz{job="x"}[5m]))').every((n) => known.has(n))).toBe(false);
  });
});
