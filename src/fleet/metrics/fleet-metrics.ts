/**
 * The fleet service's Prometheus series (prom-client), in its own registry. Fleet-level series are always there and
 * their label values are bounded (statuses, message types, rejection codes, rule names). Series per terminal are
 * opt-in and capped: each terminal costs five series, so 100,000 terminals would swamp a Prometheus; past the cap
 * the first `max` terminals (in terminal order) are exported and pos_fleet_terminal_series_omitted says how many
 * were left out.
 *
 * Counters follow the messages (observe, called by the consumer's onMessage); gauges are read from the fleet index
 * and the consumer when scraped.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { DECODE_ERROR_CODES, type DecodeCounts, MESSAGE_TYPES, type TelemetryMessage } from '../decode.js';
import type { ReceivedInfo } from '../consumer.js';
import { FLEET_STATUSES, type FleetStatus } from '../state.js';
import type { TableRow } from '../web/table-row.js';

export interface FleetPicture {
  counts(): Record<FleetStatus, number>;
  all(): readonly TableRow[];
}

export interface ConsumerFigures extends DecodeCounts {
  connected: boolean;
  handlerErrors: number;
}

export interface FleetMetricsOptions {
  fleet: FleetPicture;
  /** Alerts raised now (AlertEngine.active()). */
  openAlerts: () => readonly { rule: string }[];
  consumer?: () => ConsumerFigures;
  perTerminal?: { enabled: boolean; max: number };
  /** Node's process series (CPU, memory, event loop lag); default on. */
  processMetrics?: boolean;
}

/** Every series name this module exports (histograms add _bucket, _sum and _count). */
export const FLEET_SERIES = [
  'pos_fleet_terminals',
  'pos_fleet_messages_total',
  'pos_fleet_deliveries_total',
  'pos_fleet_decode_rejections_total',
  'pos_fleet_sequence_gaps_total',
  'pos_fleet_messages_missing_total',
  'pos_fleet_duplicates_total',
  'pos_fleet_restarts_total',
  'pos_fleet_alerts_open',
  'pos_fleet_consumer_connected',
  'pos_fleet_consumer_handler_errors_total',
  'pos_fleet_message_lag_seconds',
  'pos_fleet_pending_reversals',
  'pos_fleet_store_and_forward_depth',
  'pos_fleet_outbox_depth',
  'pos_fleet_terminal_up',
  'pos_fleet_terminal_pending_reversals',
  'pos_fleet_terminal_store_and_forward_depth',
  'pos_fleet_terminal_outbox_depth',
  'pos_fleet_terminal_last_seen_timestamp_seconds',
  'pos_fleet_terminal_series_omitted',
] as const;

const REACHABLE: ReadonlySet<FleetStatus> = new Set(['healthy', 'degraded', 'locked', 'anomalous']);

export class FleetMetrics {
  readonly registry = new Registry();
  private readonly messages: Counter<'type'>;
  private readonly gaps: Counter;
  private readonly missing: Counter;
  private readonly duplicates: Counter;
  private readonly restarts: Counter;
  private readonly lag: Histogram;

  constructor(private readonly o: FleetMetricsOptions) {
    const registers = [this.registry];
    if (o.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    this.messages = new Counter({
      name: 'pos_fleet_messages_total',
      help: 'Telemetry messages decoded, by message type',
      labelNames: ['type'],
      registers,
    });
    for (const t of MESSAGE_TYPES) this.messages.inc({ type: t }, 0);
    this.gaps = new Counter({ name: 'pos_fleet_sequence_gaps_total', help: 'Sequence gaps seen', registers });
    this.missing = new Counter({
      name: 'pos_fleet_messages_missing_total',
      help: 'Messages missing in the gaps seen',
      registers,
    });
    this.duplicates = new Counter({
      name: 'pos_fleet_duplicates_total',
      help: 'Duplicate deliveries ignored',
      registers,
    });
    this.restarts = new Counter({
      name: 'pos_fleet_restarts_total',
      help: 'Terminal restarts (new boot id)',
      registers,
    });
    this.lag = new Histogram({
      name: 'pos_fleet_message_lag_seconds',
      help: "Arrival time minus the terminal's sent time (transit, backlog and the terminal's clock offset)",
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600],
      registers,
    });
    this.fleetGauges(registers);
    this.consumerSeries(registers);
    this.perTerminalGauges(registers);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Counts one delivered message (the consumer's onMessage). */
  observe(msg: TelemetryMessage, info: ReceivedInfo): void {
    this.messages.inc({ type: msg.type });
    const r = info.result;
    if (r?.disposition === 'gap') {
      this.gaps.inc();
      this.missing.inc(r.gap ?? 0);
    } else if (r?.disposition === 'duplicate') this.duplicates.inc();
    else if (r?.disposition === 'restart') this.restarts.inc();
    if ('header' in msg && msg.header.sentAtMs > 0 && !info.retained)
      this.lag.observe(Math.max(0, info.receivedAt - msg.header.sentAtMs) / 1000);
  }

  async exposition(): Promise<string> {
    return this.registry.metrics();
  }

  private fleetGauges(registers: Registry[]): void {
    const fleet = this.o.fleet;
    new Gauge({
      name: 'pos_fleet_terminals',
      help: 'Terminals by fleet status',
      labelNames: ['status'],
      registers,
      collect() {
        const counts = fleet.counts();
        for (const s of FLEET_STATUSES) this.set({ status: s }, counts[s]);
      },
    });
    const sums: [string, string, (r: TableRow) => number | null][] = [
      ['pos_fleet_pending_reversals', 'Pending reversals across the fleet', (r) => r.pendingReversals],
      ['pos_fleet_store_and_forward_depth', 'Store-and-forward sales queued across the fleet', (r) => r.safDepth],
      ['pos_fleet_outbox_depth', "Messages waiting in the terminals' outboxes", (r) => r.outboxDepth],
    ];
    for (const [name, help, read] of sums)
      new Gauge({
        name,
        help,
        registers,
        collect() {
          let total = 0;
          for (const r of fleet.all()) total += read(r) ?? 0;
          this.set(total);
        },
      });
    const openAlerts = this.o.openAlerts;
    new Gauge({
      name: 'pos_fleet_alerts_open',
      help: 'Alerts raised now, by rule',
      labelNames: ['rule'],
      registers,
      collect() {
        this.reset();
        const byRule = new Map<string, number>();
        for (const a of openAlerts()) byRule.set(a.rule, (byRule.get(a.rule) ?? 0) + 1);
        for (const [rule, n] of byRule) this.set({ rule }, n);
      },
    });
  }

  private consumerSeries(registers: Registry[]): void {
    const consumer = this.o.consumer;
    if (!consumer) return;
    // Counters mirrored from the consumer's own totals: each scrape adds what was counted since the last.
    const mirror = (name: string, help: string, read: (f: ConsumerFigures) => number): void => {
      let last = 0;
      new Counter({
        name,
        help,
        registers,
        collect() {
          const now = read(consumer());
          this.inc(Math.max(0, now - last));
          last = now;
        },
      });
    };
    mirror('pos_fleet_deliveries_total', 'Deliveries from the broker, decodable or not', (f) => f.received);
    mirror(
      'pos_fleet_consumer_handler_errors_total',
      'Messages whose handling threw (counted, never fatal)',
      (f) => f.handlerErrors,
    );
    const lastByCode = new Map<string, number>();
    new Counter({
      name: 'pos_fleet_decode_rejections_total',
      help: 'Deliveries refused by the decoder, by reason',
      labelNames: ['code'],
      registers,
      collect() {
        const now = consumer();
        for (const code of DECODE_ERROR_CODES) {
          const n = now.byError[code] ?? 0;
          this.inc({ code }, Math.max(0, n - (lastByCode.get(code) ?? 0)));
          lastByCode.set(code, n);
        }
      },
    });
    new Gauge({
      name: 'pos_fleet_consumer_connected',
      help: '1 while the consumer is connected to the broker',
      registers,
      collect() {
        this.set(consumer().connected ? 1 : 0);
      },
    });
  }

  private perTerminalGauges(registers: Registry[]): void {
    const cap = this.o.perTerminal;
    if (!cap?.enabled) return;
    const fleet = this.o.fleet;
    const labelNames = ['fleet', 'terminal'] as const;
    const series: Gauge<'fleet' | 'terminal'>[] = [];
    new Gauge({
      name: 'pos_fleet_terminal_series_omitted',
      help: 'Terminals left out of the per-terminal series by the cap',
      registers,
      // Registered before the series it fills: a scrape collects in registration order.
      collect() {
        const rows = fleet.all();
        for (const g of series) g.reset();
        const [up, rev, saf, outbox, seen] = series;
        if (!up || !rev || !saf || !outbox || !seen) return;
        const n = Math.min(rows.length, cap.max);
        for (let i = 0; i < n; i++) {
          const r = rows[i];
          if (!r) continue;
          const l = { fleet: r.fleet, terminal: r.terminalId };
          up.set(l, REACHABLE.has(r.status) ? 1 : 0);
          rev.set(l, r.pendingReversals ?? 0);
          saf.set(l, r.safDepth ?? 0);
          outbox.set(l, r.outboxDepth ?? 0);
          seen.set(l, r.lastSeenAt / 1000);
        }
        this.set(rows.length - n);
      },
    });
    const up = new Gauge({ name: 'pos_fleet_terminal_up', help: '1 when reachable', labelNames, registers });
    const rev = new Gauge({
      name: 'pos_fleet_terminal_pending_reversals',
      help: 'Pending reversals',
      labelNames,
      registers,
    });
    const saf = new Gauge({
      name: 'pos_fleet_terminal_store_and_forward_depth',
      help: 'Store-and-forward sales queued',
      labelNames,
      registers,
    });
    const outbox = new Gauge({ name: 'pos_fleet_terminal_outbox_depth', help: 'Outbox depth', labelNames, registers });
    const seen = new Gauge({
      name: 'pos_fleet_terminal_last_seen_timestamp_seconds',
      help: 'When the terminal was last heard from',
      labelNames,
      registers,
    });
    series.push(up, rev, saf, outbox, seen);
  }
}
