/**
 * `pos-fleet serve` put together: the consumer feeding the fleet state, the alert engine and the metrics, as
 * `pos-fleet watch` runs them, and the dashboard on top. The history reader and the alert book are ports: by
 * default (`fromConfig`) they are the configured history store, which serve also writes every message to, and the
 * alert book of `alertsDelivery` with its webhooks and anomaly detection. Without a book the alert engine's raises
 * and clears are kept in memory; without a history reader the terminal page says so.
 */
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { systemClock, type Clock, type TimerHandle } from '../../../hal/clock.js';
import { AlertEngine } from '../alerts.js';
import type { FleetConfig } from '../config.js';
import { brokerOptionsFromConfig, defaultOperator, FleetConsumer, sendCommand } from '../consumer.js';
import { type FleetHistory, startHistory } from '../history/open.js';
import { FleetMetrics } from '../metrics/fleet-metrics.js';
import type { AlertBook, FleetHistoryReader } from '../ports.js';
import { FleetState, fleetStateOptions } from '../state.js';
import { type FleetAlerting, startFleetAlerting } from '../webhooks/fleet-alerting.js';
import { CommandAudit } from './command-audit.js';
import type { CommandSender } from './command-runner.js';
import { FleetIndex } from './fleet-index.js';
import { MemoryAlertBook } from './memory-alert-book.js';
import { buildDashboard, type Dashboard } from './server.js';

export interface FleetServiceOptions {
  config: FleetConfig;
  clock?: Clock;
  history?: FleetHistoryReader;
  alertBook?: AlertBook;
  /** Default: consumer.ts's sendCommand on the configured broker. */
  send?: CommandSender;
  /** Told about connection trouble and alert book failures; the service keeps going. */
  onNote?: (line: string) => void;
  /**
   * Open what the config names for the ports not handed in: the history store (written with every message unless
   * `recordHistory` is false, e.g. when `pos-fleet ingest` processes already fill it) and the alert book, webhooks
   * and detection of `alertsDelivery` and `detect`. Off by default, for tests that hand in their own.
   */
  fromConfig?: boolean;
  recordHistory?: boolean;
}

export interface FleetService {
  dashboard: Dashboard;
  consumer: FleetConsumer;
  state: FleetState;
  /** http://host:port of the dashboard (and of the metrics listener, when it has its own port). */
  url: string;
  metricsUrl: string | null;
  stop(): Promise<void>;
}

export async function startFleetService(o: FleetServiceOptions): Promise<FleetService> {
  const { config } = o;
  const clock = o.clock ?? systemClock;
  const note = o.onNote ?? (() => undefined);
  const state = new FleetState({ clock, ...fleetStateOptions(config) });
  const index = new FleetIndex({
    state,
    clock,
    missedHealthFactor: config.missedHealthFactor,
    anomalyWindowMs: config.anomalyWindowMinutes * 60_000,
  });
  const fromConfig = o.fromConfig === true;
  const storedHistory: FleetHistory | null =
    fromConfig && o.history === undefined
      ? await startHistory(config.history, { clock, onError: (e) => note(`history: ${e.message}`) })
      : null;
  const history = o.history ?? storedHistory?.store;
  const recordTo = o.recordHistory === false ? null : storedHistory;
  const keepInMemory = (a: Parameters<MemoryAlertBook['record']>[0]): void =>
    void memoryBook?.record(a).catch((err: Error) => note(`alert book: ${err.message}`));
  // With a configured book, the alerting records each change itself (and delivers it); otherwise memory keeps it.
  const alerting: FleetAlerting | null =
    fromConfig && o.alertBook === undefined
      ? startFleetAlerting({
          delivery: config.alertsDelivery,
          detect: config.detect,
          clock,
          note,
          onDetection: (a) => keepInMemory(a as unknown as Parameters<typeof keepInMemory>[0]),
        })
      : null;
  const memoryBook = o.alertBook || alerting?.book ? null : new MemoryAlertBook(clock);
  const book: AlertBook = o.alertBook ?? alerting?.book ?? (memoryBook as AlertBook);
  const alerts = new AlertEngine({
    rules: config.alerts.rules,
    state,
    clock,
    checkIntervalMs: config.alerts.checkIntervalSeconds * 1000,
    clearAfterMs: config.alerts.clearAfterSeconds * 1000,
    onAlert: (a) => {
      if (alerting?.book) alerting.onAlert(a);
      else if (memoryBook) keepInMemory(a);
      else void book.record(a).catch((err: Error) => note(`alert book: ${err.message}`));
    },
  });
  const broker = brokerOptionsFromConfig(config);
  const consumer: FleetConsumer = new FleetConsumer({
    ...broker,
    ...(config.fleet !== null ? { fleet: config.fleet } : {}),
    ...(config.share !== null ? { share: config.share } : {}),
    state,
    alerts,
    clock,
    onMessage: (msg, info) => {
      if (info.result) index.touch(info.result.fleet, info.result.terminalId);
      metrics?.observe(msg, info);
      recordTo?.recorder.record(msg, info);
      if (msg.type !== 'cmd') alerting?.onMessage(msg, info.receivedAt);
    },
    onError: (e) => note(e.message),
    onConnectionChange: (up) => note(up ? `connected to ${config.mqtt.url}` : `lost ${config.mqtt.url}; reconnecting`),
  });
  const metrics = config.web.metrics.enabled
    ? new FleetMetrics({
        fleet: index,
        openAlerts: () => alerts.active(),
        consumer: () => consumer.stats(),
        perTerminal: config.web.metrics.perTerminal,
      })
    : undefined;
  const audit = new CommandAudit(config.web.auditFile);
  const timeoutMs = config.commandTimeoutSeconds * 1000;
  const send: CommandSender =
    o.send ??
    ((c) =>
      sendCommand({
        ...broker,
        ...c,
        timeoutMs,
        clock, // Its own client id: one shared with the consumer would end the consumer's session.
        clientId: undefined,
      }));
  const dashboard = await buildDashboard({
    clock,
    state,
    index,
    alerts: book,
    ...(history ? { history } : {}),
    audit,
    send,
    operator: config.web.operator ?? config.operator ?? defaultOperator(),
    operatorHeader: config.web.operatorHeader,
    pageSize: config.web.pageSize,
    refreshSeconds: config.web.refreshSeconds,
    ...(metrics ? { metrics } : {}),
    consumerStatus: () => {
      const s = consumer.stats();
      return {
        connected: s.connected,
        received: s.received,
        decoded: s.decoded,
        rejected: s.rejected,
        filter: consumer.filter,
      };
    },
  });
  // Rows are brought up to date between requests too, so a page seldom pays for the reports of the last second.
  let refreshTimer: TimerHandle | null = null;
  const refreshTick = (): void => {
    index.refresh();
    refreshTimer = clock.setTimeout(refreshTick, 1_000);
  };
  let metricsApp: FastifyInstance | null = null;
  try {
    await consumer.start();
    alerts.start();
    await dashboard.app.listen({ host: config.web.host, port: config.web.port });
    refreshTimer = clock.setTimeout(refreshTick, 1_000);
    if (metrics && config.web.metrics.port !== null) {
      metricsApp = Fastify({ logger: false });
      metricsApp.get('/metrics', async (_req, reply) =>
        reply.type(metrics.contentType).send(await metrics.exposition()),
      );
      await metricsApp.listen({ host: config.web.host, port: config.web.metrics.port });
    }
  } catch (err) {
    refreshTimer?.cancel();
    alerts.stop();
    await Promise.allSettled([consumer.stop(), dashboard.app.close(), metricsApp?.close()]);
    audit.close();
    alerting?.stop();
    await storedHistory?.close().catch(() => undefined);
    throw err;
  }
  const urlOf = (app: FastifyInstance) => {
    const a = app.server.address() as AddressInfo;
    return `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
  };
  return {
    dashboard,
    consumer,
    state,
    url: urlOf(dashboard.app),
    metricsUrl: metricsApp ? urlOf(metricsApp) : null,
    stop: async () => {
      refreshTimer?.cancel();
      alerts.stop();
      await Promise.allSettled([consumer.stop(), dashboard.app.close(), metricsApp?.close()]);
      await dashboard.commands.settle();
      audit.close();
      alerting?.stop();
      await storedHistory?.close().catch((err: Error) => note(`history: ${err.message}`));
    },
  };
}
