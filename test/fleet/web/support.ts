/**
 * A small fleet for the dashboard's tests, made of the telemetry terminals publish (encoded as on the wire and fed
 * through FleetConsumer.handle) on a ManualClock, so figures, ages and screenshots are the same on every run. The
 * history reader and the alert book are small in-test implementations of the ports.
 */
import { ManualClock } from '../../../hal/clock.js';
import { AlertEngine, type Alert } from '../../../src/fleet/alerts.js';
import { FleetConsumer } from '../../../src/fleet/consumer.js';
import type { CommandResultMessage, TelemetryMessage } from '../../../src/fleet/decode.js';
import type {
  AlertBook,
  AlertListQuery,
  AlertRecord,
  FleetHistoryReader,
  TimelineEntry,
  TimelineQuery,
} from '../../../src/fleet/ports.js';
import { FleetState } from '../../../src/fleet/state.js';
import { summarize } from '../../../src/fleet/table.js';
import { CommandAudit } from '../../../src/fleet/web/command-audit.js';
import type { CommandRequest } from '../../../src/fleet/web/command-runner.js';
import { buildDashboard, type DashboardOptions } from '../../../src/fleet/web/server.js';
import { wire } from '../../../src/telemetry/wire.js';
import { encode, T0, topic } from '../support.js';

/** Every message kept, read back newest first, as a history store answers. */
export class TestHistory implements FleetHistoryReader {
  readonly entries = new Map<string, TimelineEntry[]>();

  add(msg: TelemetryMessage, receivedAt: number): void {
    const key = `${msg.fleet}/${msg.terminalId}`;
    const list = this.entries.get(key) ?? [];
    const h = 'header' in msg ? msg.header : null;
    list.push({
      receivedAt,
      sentAt: h?.sentAtMs ?? null,
      kind: msg.type === 'cmd-result' ? 'command-result' : msg.type,
      bootId: h?.bootId ?? null,
      seq: h?.seq ?? null,
      historical: false,
      summary: summarize(msg).replace(`${key} `, ''),
      data: msg,
    });
    this.entries.set(key, list);
  }

  async timeline(fleet: string, terminalId: string, q: TimelineQuery): Promise<TimelineEntry[]> {
    return (this.entries.get(`${fleet}/${terminalId}`) ?? [])
      .filter(
        (e) =>
          (q.before === undefined || e.receivedAt < q.before) && (q.since === undefined || e.receivedAt >= q.since),
      )
      .filter((e) => !q.kinds || q.kinds.includes(e.kind))
      .reverse()
      .slice(0, q.limit);
  }
}

/** Alerts as raised, acknowledged in place; ids in raise order. */
export class TestAlertBook implements AlertBook {
  readonly records: AlertRecord[] = [];
  constructor(private readonly clock: { now(): number }) {}

  async record(alert: Alert): Promise<AlertRecord> {
    const open = this.records.find(
      (r) =>
        r.rule === alert.rule && r.fleet === alert.fleet && r.terminalId === alert.terminalId && r.state !== 'cleared',
    );
    if (open && alert.state === 'cleared') Object.assign(open, { state: 'cleared', clearedAt: alert.at });
    if (open) return { ...open };
    const rec: AlertRecord = {
      id: `alert-${this.records.length + 1}`,
      rule: alert.rule,
      type: alert.type,
      fleet: alert.fleet,
      terminalId: alert.terminalId,
      state: 'open',
      raisedAt: alert.at,
      clearedAt: null,
      acknowledgedAt: null,
      acknowledgedBy: null,
      acknowledgeNote: null,
      value: alert.value,
      message: alert.message,
      evidence: null,
    };
    this.records.push(rec);
    return { ...rec };
  }

  async list(q: AlertListQuery): Promise<AlertRecord[]> {
    return this.records
      .filter((r) => (!q.states || q.states.includes(r.state)) && (q.fleet === undefined || r.fleet === q.fleet))
      .filter((r) => q.terminalId === undefined || r.terminalId === q.terminalId)
      .slice()
      .reverse()
      .slice(q.offset ?? 0, (q.offset ?? 0) + q.limit)
      .map((r) => ({ ...r }));
  }

  async acknowledge(id: string, by: string, note?: string): Promise<AlertRecord | undefined> {
    const r = this.records.find((x) => x.id === id);
    if (!r) return undefined;
    if (r.acknowledgedAt === null)
      Object.assign(r, { acknowledgedAt: this.clock.now(), acknowledgedBy: by, acknowledgeNote: note ?? null });
    if (r.state === 'open') r.state = 'acknowledged';
    return { ...r };
  }
}

export const FLEETS = ['shop-lyon-02', 'shop-paris-01'];

/** What terminal number i of a fleet does in the demo: mostly healthy, one in ten of each trouble. */
export function roleOf(i: number): 'healthy' | 'degraded' | 'locked' | 'anomalous' | 'offline' | 'silent' {
  switch (i % 10) {
    case 6:
      return 'degraded';
    case 7:
      return 'locked';
    case 8:
      return 'anomalous';
    case 9:
      return i % 20 === 9 ? 'offline' : 'silent';
    default:
      return 'healthy';
  }
}

export interface DemoFleet {
  clock: ManualClock;
  state: FleetState;
  consumer: FleetConsumer;
  alerts: AlertEngine;
  history: TestHistory;
  book: TestAlertBook;
  /** Terminal keys fed, in feeding order. */
  keys: string[];
  feed(type: string, payload: Uint8Array, terminalId: string, fleet: string): void;
}

/**
 * `perFleet` terminals in each of FLEETS, ten minutes of Birth and Health once a minute, the troubles of roleOf,
 * and a gap in one terminal's sequence in seven. The clock ends at T0 + 10 min.
 */
export async function demoFleet(perFleet = 30, onMessage?: (msg: TelemetryMessage) => void): Promise<DemoFleet> {
  const clock = new ManualClock(T0);
  const state = new FleetState({
    clock,
    healthIntervalMs: 60_000,
    missedHealthFactor: 3,
    anomalyWindowMs: 30 * 60_000,
  });
  const history = new TestHistory();
  const book = new TestAlertBook(clock);
  const alerts = new AlertEngine({
    rules: [
      { type: 'event-burst', name: 'host timeouts', code: 'E101', moreThan: 1, withinMinutes: 10 },
      { type: 'unreachable', longerThanMinutes: 2 },
    ],
    state,
    clock,
    onAlert: (a) => void book.record(a),
  });
  const consumer = new FleetConsumer({
    url: 'mqtt://127.0.0.1:1',
    state,
    alerts,
    clock,
    onMessage: (msg, info) => {
      history.add(msg, info.receivedAt);
      onMessage?.(msg);
    },
  });
  const keys: string[] = [];
  const feed = (type: string, payload: Uint8Array, terminalId: string, fleet: string) =>
    consumer.handle(topic(type, terminalId, fleet), payload);
  const seq = new Map<string, number>();
  const next = (key: string) => {
    const n = (seq.get(key) ?? 0) + 1;
    seq.set(key, n);
    return n;
  };
  const terminals = FLEETS.flatMap((fleet) =>
    Array.from({ length: perFleet }, (_, i) => ({ fleet, i, id: `TERM${String(i + 1).padStart(4, '0')}` })),
  );
  for (const t of terminals) {
    const key = `${t.fleet}/${t.id}`;
    keys.push(key);
    const h = { terminalId: t.id, fleet: t.fleet, bootId: `boot-${t.i}` };
    feed('state', encode.state({ ...h, seq: next(key), sentAtMs: clock.now() }, true), t.id, t.fleet);
    feed(
      'birth',
      encode.birth({ ...h, seq: next(key), sentAtMs: clock.now() }, { firmwareVersion: `1.4.${t.i % 3}` }),
      t.id,
      t.fleet,
    );
  }
  for (let minute = 1; minute <= 10; minute++) {
    await clock.advance(60_000);
    for (const t of terminals) {
      const key = `${t.fleet}/${t.id}`;
      const role = roleOf(t.i);
      const h = { terminalId: t.id, fleet: t.fleet, bootId: `boot-${t.i}`, sentAtMs: clock.now() };
      if (role === 'offline' && minute === 4) {
        feed('state', encode.state({ ...h, seq: next(key) }, false, 'connection lost'), t.id, t.fleet);
        continue;
      }
      if ((role === 'offline' && minute > 4) || (role === 'silent' && minute > 5)) continue;
      if (t.i % 7 === 3 && minute === 6) next(key); // one message lost on the way
      const wave = (minute + t.i) % 5;
      feed(
        'health',
        encode.health(
          { ...h, seq: next(key) },
          {
            state:
              role === 'locked'
                ? wire.OperationState.OPERATION_STATE_LOCKED
                : role === 'degraded'
                  ? wire.OperationState.OPERATION_STATE_DEGRADED
                  : wire.OperationState.OPERATION_STATE_READY,
            lockReasons: role === 'locked' ? ['tamper switch open'] : [],
            limitations: role === 'degraded' ? ['paper near end'] : [],
            pendingReversals: wave === 4 ? 1 : 0,
            storeAndForward: { depth: role === 'degraded' ? minute : wave, totalMinor: wave * 1250, oldestAgeMs: 0 },
            outboxDepth: wave * 2,
            link: { hostUp: true, networkUp: true, interface: 'eth0', hostRttMs: 40 + ((minute * 7 + t.i) % 30) },
          },
        ),
        t.id,
        t.fleet,
      );
      if (role === 'anomalous' && minute >= 8) feed('event', encode.event({ ...h, seq: next(key) }), t.id, t.fleet);
    }
  }
  alerts.evaluate();
  return { clock, state, consumer, alerts, history, book, keys, feed };
}

// ---- the dashboard on the demo fleet ----------------------------------------------------------------------------

export interface SentCommand {
  fleet: string;
  terminalId: string;
  name: string;
  issuedBy: string;
}

/** Builds the dashboard on a demo fleet; commands are answered by `answer` (default: ok, "done"). */
export async function demoDashboard(
  demo: DemoFleet,
  o: {
    auditFile?: string;
    history?: boolean;
    answer?: (c: CommandRequest) => Promise<CommandResultMessage>;
    operatorHeader?: string | null;
    pageSize?: number;
    metrics?: DashboardOptions['metrics'];
  } = {},
) {
  const sent: SentCommand[] = [];
  const audit = new CommandAudit(o.auditFile ?? ':memory:');
  const dashboard = await buildDashboard({
    clock: demo.clock,
    state: demo.state,
    alerts: demo.book,
    ...(o.history === false ? {} : { history: demo.history }),
    audit,
    send: async (c) => {
      sent.push({ fleet: c.fleet, terminalId: c.terminalId, name: c.name, issuedBy: c.issuedBy });
      if (o.answer) return o.answer(c);
      return {
        type: 'cmd-result',
        topic: topic('cmd-result', c.terminalId, c.fleet),
        fleet: c.fleet,
        terminalId: c.terminalId,
        header: { terminalId: c.terminalId, fleet: c.fleet, bootId: 'boot-x', seq: 99, sentAtMs: demo.clock.now() },
        commandId: c.commandId,
        name: c.name,
        ok: true,
        error: 'none',
        message: 'done',
      };
    },
    operator: 'ops@fleet',
    operatorHeader: o.operatorHeader ?? 'x-forwarded-user',
    pageSize: o.pageSize ?? 25,
    refreshSeconds: 1,
    title: 'pos-fleet · demo',
    ...(o.metrics ? { metrics: o.metrics } : {}),
  });
  return { ...dashboard, audit, sent };
}
