/**
 * One fleet consumer in its own process, for the broker benchmark (bench/fleet-broker.ts forks it): it subscribes
 * on a persistent MQTT 5 session (a stable client id, session expiry), optionally as a member of a shared
 * subscription, and feeds each delivery to FleetConsumer.handle, the consumer's own ingest (decode + sequence +
 * state + alerts). In `null` mode it only counts deliveries: the broker and MQTT client alone, the reference.
 *
 * Driven over the fork IPC channel: `subscribe` (connect, subscribe, disconnect: the broker now queues for it),
 * `drain` (reconnect and take what was queued), `report` (counts, times, CPU, state), `exit`.
 */
import { performance } from 'node:perf_hooks';
import { connect, type IPublishPacket, type MqttClient } from 'mqtt';
import { systemClock } from '../hal/clock.js';
import { AlertEngine } from '../src/fleet/alerts.js';
import { FleetConsumer } from '../src/fleet/consumer.js';
import { FleetState } from '../src/fleet/state.js';
import { BENCH_RULES } from './fleet-ingest.js';

export interface WorkerSetup {
  url: string;
  clientId: string;
  filter: string;
  mode: 'full' | 'null';
  /** Gap accounting (off in a shared subscription, where each consumer sees only part of a terminal's seqs). */
  trackSequence: boolean;
  terminals: number;
}

export type WorkerCommand = { cmd: 'subscribe' } | { cmd: 'drain' } | { cmd: 'report' } | { cmd: 'exit' };

export interface WorkerReport {
  received: number;
  firstAt: number;
  lastAt: number;
  cpuMs: number;
  handlerErrors: number;
  rejected: number;
  /** Per terminal index: deliveries, and the sum of their seqs (both 0 in null mode for the seq). */
  counts: number[];
  seqSums: number[];
  /** Full mode with sequence tracking: each terminal's last seq in the consumer's state (-1: unknown). */
  lastSeqs: number[];
  gaps: number;
  duplicates: number;
  terminalsInState: number;
}

const now = () => performance.timeOrigin + performance.now();

function terminalIndex(topic: string): number {
  const end = topic.lastIndexOf('/');
  const start = topic.lastIndexOf('/', end - 1);
  return Number(topic.slice(start + 2, end));
}

function main(setup: WorkerSetup): void {
  const send = (m: object) => process.send?.(m);
  const counts = new Float64Array(setup.terminals);
  const seqSums = new Float64Array(setup.terminals);
  const state = new FleetState({ clock: systemClock, trackSequence: setup.trackSequence });
  const alerts = new AlertEngine({ rules: BENCH_RULES, state, clock: systemClock, onAlert: () => undefined });
  const consumer = new FleetConsumer({
    url: setup.url,
    state,
    alerts,
    onMessage: (msg) => {
      if (!('header' in msg)) return;
      const i = terminalIndex(msg.topic);
      counts[i] = (counts[i] ?? 0) + 1;
      seqSums[i] = (seqSums[i] ?? 0) + msg.header.seq;
    },
  });
  let received = 0;
  let firstAt = 0;
  let lastAt = 0;
  let cpuAtDrain = process.cpuUsage();
  let client: MqttClient | null = null;
  const onMessage = (topic: string, payload: Buffer, packet: IPublishPacket): void => {
    if (received === 0) firstAt = now();
    received++;
    lastAt = now();
    if (setup.mode === 'full') consumer.handle(topic, payload, packet);
    else {
      const i = terminalIndex(topic);
      counts[i] = (counts[i] ?? 0) + 1;
    }
  };
  const open = (): Promise<MqttClient> =>
    new Promise((resolve, reject) => {
      const c = connect(setup.url, {
        clientId: setup.clientId,
        protocolVersion: 5,
        clean: false,
        properties: { sessionExpiryInterval: 3600 },
        reconnectPeriod: 0,
      });
      c.on('message', onMessage);
      c.once('connect', () => resolve(c));
      c.once('error', reject);
    });
  let progress: NodeJS.Timeout | null = null;
  process.on('message', (m: WorkerCommand) => {
    void (async () => {
      try {
        if (m.cmd === 'subscribe') {
          const c = await open();
          await c.subscribeAsync(setup.filter, { qos: 1 });
          await c.endAsync();
          send({ done: 'subscribe' });
        } else if (m.cmd === 'drain') {
          cpuAtDrain = process.cpuUsage();
          client = await open();
          alerts.start();
          progress = setInterval(() => send({ progress: received }), 100);
          send({ done: 'drain' });
        } else if (m.cmd === 'report') {
          if (progress) clearInterval(progress);
          alerts.stop();
          const cpu = process.cpuUsage(cpuAtDrain);
          let gaps = 0;
          let duplicates = 0;
          const lastSeqs: number[] = [];
          if (setup.mode === 'full' && setup.trackSequence) {
            for (const v of state.terminals()) {
              gaps += v.sequence.gaps;
              duplicates += v.sequence.duplicates;
              lastSeqs[terminalIndex(`${v.key}/x`)] = v.sequence.lastSeq ?? -1;
            }
          }
          const stats = consumer.stats();
          const report: WorkerReport = {
            received,
            firstAt,
            lastAt,
            cpuMs: (cpu.user + cpu.system) / 1000,
            handlerErrors: stats.handlerErrors,
            rejected: stats.rejected,
            counts: Array.from(counts),
            seqSums: Array.from(seqSums),
            lastSeqs: Array.from({ length: setup.terminals }, (_, i) => lastSeqs[i] ?? -1),
            gaps,
            duplicates,
            terminalsInState: state.size,
          };
          send({ done: 'report', report });
        } else if (m.cmd === 'exit') {
          await client?.endAsync(true);
          process.exit(0);
        }
      } catch (err) {
        send({ error: err instanceof Error ? err.message : String(err) });
      }
    })();
  });
  send({ done: 'start' });
}

const setupArg = process.argv[2];
if (setupArg !== undefined && process.send) main(JSON.parse(setupArg) as WorkerSetup);
