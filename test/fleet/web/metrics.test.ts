/**
 * The Prometheus endpoint: the exposition is parsed line by line (text format 0.0.4) and its figures checked against
 * the fleet the test fed; per-terminal series appear only when enabled and never beyond the cap.
 */
import { describe, expect, it } from 'vitest';
import type { TelemetryMessage } from '../../../src/fleet/decode.js';
import { FLEET_SERIES, FleetMetrics } from '../../../src/fleet/metrics/fleet-metrics.js';
import { FleetIndex } from '../../../src/fleet/web/fleet-index.js';
import { demoDashboard, demoFleet } from './support.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the text exposition format; throws on a line that is neither a comment nor a sample. */
function parseExposition(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) types.set(type[1] ?? '', type[2] ?? '');
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?[0-9.e+-]+|[Nn]a[Nn]|\+Inf|-Inf)$/.exec(line);
    if (!m) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1] ?? ''] = (l[2] ?? '').replace(/\\(.)/g, '$1');
    samples.push({ name: m[1] ?? '', labels, value: Number(m[3]) });
  }
  return { samples, types };
}

function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

async function scrape(perTerminal?: { enabled: boolean; max: number }) {
  const observed: TelemetryMessage[] = [];
  const demo = await demoFleet(30, (msg) => observed.push(msg));
  const index = new FleetIndex({ state: demo.state, clock: demo.clock });
  const metrics = new FleetMetrics({
    fleet: index,
    openAlerts: () => demo.alerts.active(),
    consumer: () => ({ ...demo.consumer.stats() }),
    ...(perTerminal ? { perTerminal } : {}),
    processMetrics: false,
  });
  return { demo, index, metrics, observed };
}

describe('/metrics', () => {
  it('exports the fleet by status, messages by type, gaps, restarts, rejections and open alerts', async () => {
    const demo = await demoFleet(30);
    const index = new FleetIndex({ state: demo.state, clock: demo.clock });
    const metrics = new FleetMetrics({
      fleet: index,
      openAlerts: () => demo.alerts.active(),
      consumer: () => demo.consumer.stats(),
    });
    const d = await demoDashboard(demo, { metrics });
    // Two deliveries the decoder refuses: a payload that is not protobuf, a topic that is not telemetry.
    demo.consumer.handle('pos/v1/shop-paris-01/TERM0001/health', new Uint8Array([0xff, 0xff, 0xff]));
    demo.consumer.handle('not/a/telemetry/topic', new Uint8Array([1]));

    const r = await d.app.inject({ url: '/metrics' });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toContain('text/plain');
    const { samples, types } = parseExposition(r.body);
    const views = demo.state.terminals();
    for (const status of ['healthy', 'degraded', 'locked', 'anomalous', 'silent', 'offline'])
      expect(value(samples, 'pos_fleet_terminals', { status }), status).toBe(
        views.filter((v) => v.status === status).length,
      );
    expect(value(samples, 'pos_fleet_decode_rejections_total', { code: 'bad-payload' })).toBe(1);
    expect(value(samples, 'pos_fleet_decode_rejections_total', { code: 'bad-topic' })).toBe(1);
    expect(value(samples, 'pos_fleet_deliveries_total')).toBe(demo.consumer.stats().received);
    expect(value(samples, 'pos_fleet_consumer_connected')).toBe(0);
    const open = demo.alerts.active();
    expect(open.length).toBeGreaterThan(0);
    expect(value(samples, 'pos_fleet_alerts_open', { rule: 'host timeouts' })).toBe(
      open.filter((a) => a.rule === 'host timeouts').length,
    );
    const pending = views.reduce((n, v) => n + (v.health?.pendingReversals ?? 0), 0);
    expect(value(samples, 'pos_fleet_pending_reversals')).toBe(pending);
    expect(types.get('pos_fleet_messages_total')).toBe('counter');
    expect(types.get('pos_fleet_terminals')).toBe('gauge');
    expect(samples.some((s) => s.name.startsWith('process_') || s.name.startsWith('nodejs_'))).toBe(true);
    // Off by default: no series per terminal.
    expect(samples.some((s) => s.name.startsWith('pos_fleet_terminal_'))).toBe(false);
  });

  it('counts each message by type, gaps with what they lost, and restarts, as they are observed', async () => {
    const { demo, metrics, observed } = await scrape();
    const { encode } = await import('../support.js');
    // Replay what the demo fed through observe(), as fleet-service's onMessage does, then a restart and a gap.
    const results: Parameters<FleetMetrics['observe']>[] = [];
    demo.consumer['opts'].onMessage = (msg: TelemetryMessage, info: Parameters<FleetMetrics['observe']>[1]) =>
      results.push([msg, info]);
    const h = { terminalId: 'TERM0002', fleet: 'shop-paris-01' };
    demo.feed('birth', encode.birth({ ...h, bootId: 'boot-b', seq: 1 }), 'TERM0002', 'shop-paris-01');
    demo.feed('health', encode.health({ ...h, bootId: 'boot-b', seq: 5 }), 'TERM0002', 'shop-paris-01');
    demo.feed('health', encode.health({ ...h, bootId: 'boot-b', seq: 5 }), 'TERM0002', 'shop-paris-01');
    for (const [msg, info] of results) metrics.observe(msg, info);
    const { samples } = parseExposition(await metrics.exposition());
    expect(value(samples, 'pos_fleet_restarts_total')).toBe(1);
    expect(value(samples, 'pos_fleet_sequence_gaps_total')).toBe(1);
    expect(value(samples, 'pos_fleet_messages_missing_total')).toBe(3);
    expect(value(samples, 'pos_fleet_duplicates_total')).toBe(1);
    expect(value(samples, 'pos_fleet_messages_total', { type: 'health' })).toBe(2);
    expect(value(samples, 'pos_fleet_messages_total', { type: 'birth' })).toBe(1);
    expect(value(samples, 'pos_fleet_messages_total', { type: 'cmd' })).toBe(0);
    expect(value(samples, 'pos_fleet_message_lag_seconds_count')).toBe(3);
    expect(observed.length).toBeGreaterThan(0);
  });

  it('exports per-terminal series only when enabled, for at most `max` terminals, and says how many it left out', async () => {
    const { metrics, index } = await scrape({ enabled: true, max: 7 });
    const { samples } = parseExposition(await metrics.exposition());
    const up = samples.filter((s) => s.name === 'pos_fleet_terminal_up');
    expect(up).toHaveLength(7);
    expect(up.map((s) => `${s.labels['fleet']}/${s.labels['terminal']}`)).toEqual(
      index
        .all()
        .slice(0, 7)
        .map((r) => r.key),
    );
    expect(value(samples, 'pos_fleet_terminal_series_omitted')).toBe(index.size - 7);
    const locked = index.all().find((r) => r.status === 'locked');
    const offline = index.all().find((r) => r.status === 'offline');
    expect(locked && offline).toBeTruthy();
    expect(value(samples, 'pos_fleet_terminal_up', { terminal: 'TERM0001', fleet: 'shop-lyon-02' })).toBe(1);
    const all = await scrape({ enabled: true, max: 1000 });
    const full = parseExposition(await all.metrics.exposition()).samples;
    expect(
      value(full, 'pos_fleet_terminal_up', { fleet: offline?.fleet ?? '', terminal: offline?.terminalId ?? '' }),
    ).toBe(0);
    expect(value(full, 'pos_fleet_terminal_series_omitted')).toBe(0);
  });

  it('names every series it exports in FLEET_SERIES (what the Grafana dashboard test checks against)', async () => {
    const { metrics } = await scrape({ enabled: true, max: 5 });
    const names = new Set(
      parseExposition(await metrics.exposition()).samples.map((s) => s.name.replace(/_(bucket|sum|count)$/, '')),
    );
    expect([...names].filter((n) => n.startsWith('pos_fleet_')).sort()).toEqual([...FLEET_SERIES].sort());
  });
});
