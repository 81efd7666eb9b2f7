/**
 * Telemetry of a simulated fleet, encoded as terminals publish it (the generated protobuf classes, the real topics),
 * for the fleet benchmarks and the scale tests: each terminal says State online and Birth, then a steady mix of
 * Health reports and anomaly Events, each with its own boot and a seq that rises by one per message.
 */
import { wire } from '../src/telemetry/wire.js';

export interface Delivery {
  topic: string;
  payload: Uint8Array;
}

export interface FleetTrafficOptions {
  terminals: number;
  fleets?: number;
  /** One message in this many of the steady stream is an Event (the rest Health); default 5. */
  eventEvery?: number;
  /** Epoch ms stamped as sent_at in headers. */
  at?: number;
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** A fleet's worth of terminals and a generator of their messages in a round-robin order, fully deterministic. */
export class FleetTraffic {
  readonly terminals: number;
  private readonly fleets: number;
  private readonly eventEvery: number;
  private readonly seqs: Uint32Array;
  private readonly ids: string[];
  private readonly fleetNames: string[];
  private readonly at: number;
  private cursor = 0;
  private sent = 0;

  constructor(opts: FleetTrafficOptions) {
    this.terminals = opts.terminals;
    this.fleets = Math.max(1, opts.fleets ?? Math.ceil(opts.terminals / 1_000));
    this.eventEvery = opts.eventEvery ?? 5;
    this.at = opts.at ?? Date.UTC(2026, 0, 1, 12);
    this.seqs = new Uint32Array(opts.terminals);
    const width = String(opts.terminals).length;
    this.ids = Array.from({ length: opts.terminals }, (_, i) => `T${pad(i, width)}`);
    this.fleetNames = Array.from({ length: this.fleets }, (_, i) => `fleet-${pad(i, 3)}`);
  }

  fleetOf(i: number): string {
    return this.fleetNames[i % this.fleets] ?? 'fleet-000';
  }

  idOf(i: number): string {
    return this.ids[i] ?? `T${i}`;
  }

  /** Messages sent so far to terminal i (its last seq). */
  seqOf(i: number): number {
    return this.seqs[i] ?? 0;
  }

  private header(i: number) {
    const seq = (this.seqs[i] ?? 0) + 1;
    this.seqs[i] = seq;
    return { terminalId: this.idOf(i), fleet: this.fleetOf(i), bootId: `boot-${i}`, seq, sentAtMs: this.at };
  }

  private topic(i: number, type: string): string {
    return `pos/v1/${this.fleetOf(i)}/${this.idOf(i)}/${type}`;
  }

  /** State online then Birth, for terminal i. */
  hello(i: number): Delivery[] {
    return [
      {
        topic: this.topic(i, 'state'),
        payload: wire.State.encode(
          wire.State.create({ header: this.header(i), online: true, reason: 'connected', session: 1 }),
        ).finish(),
      },
      {
        topic: this.topic(i, 'birth'),
        payload: wire.Birth.encode(
          wire.Birth.create({
            header: this.header(i),
            firmwareVersion: '1.4.2',
            configVersion: 'cfg-7',
            capabilities: ['chip', 'contactless', 'printer'],
            bootReason: wire.BootReason.BOOT_REASON_CLEAN,
            bootedAtMs: this.at,
            model: 'PX-900',
            session: 1,
            healthIntervalMs: 60_000,
          }),
        ).finish(),
      },
    ];
  }

  health(i: number): Delivery {
    const n = this.seqs[i] ?? 0;
    return {
      topic: this.topic(i, 'health'),
      payload: wire.Health.encode(
        wire.Health.create({
          header: this.header(i),
          state: wire.OperationState.OPERATION_STATE_READY,
          components: [
            { component: 'card-reader', status: wire.CheckStatus.CHECK_STATUS_OK, durationMs: 4 },
            { component: 'printer', status: wire.CheckStatus.CHECK_STATUS_OK, durationMs: 9 },
            { component: 'host', status: wire.CheckStatus.CHECK_STATUS_OK, durationMs: 38 },
          ],
          pendingReversals: n % 7 === 0 ? 1 : 0,
          storeAndForward: { depth: n % 3, totalMinor: (n % 3) * 1_250, oldestAgeMs: (n % 3) * 60_000 },
          outcomes: [
            { key: 'approved', count: 200 + n },
            { key: 'declined', count: 9 },
          ],
          anomalies: [{ key: 'E101', count: 2 }],
          link: { hostUp: true, networkUp: true, interface: 'eth0', hostRttMs: 38 },
          resources: {
            rssBytes: 96_468_992,
            heapUsedBytes: 31_457_280,
            cpuPercent: 1.7,
            diskFreeBytes: 13_314_398_208,
            uptimeS: 15_120,
          },
        }),
      ).finish(),
    };
  }

  event(i: number): Delivery {
    return {
      topic: this.topic(i, 'event'),
      payload: wire.Event.encode(
        wire.Event.create({
          header: this.header(i),
          kind: 'anomaly',
          code: 'E101',
          name: 'host-timeout',
          severity: wire.Severity.SEVERITY_ERROR,
          atMs: this.at,
          stan: 12,
          amountMinor: 1250,
          currency: '978',
          maskedPan: '400000******0002',
          message: 'No answer from the acquirer',
          txnRef: 'T-1',
        }),
      ).finish(),
    };
  }

  /** Every terminal's hello, in terminal order. */
  hellos(): Delivery[] {
    const out: Delivery[] = [];
    for (let i = 0; i < this.terminals; i++) for (const d of this.hello(i)) out.push(d);
    return out;
  }

  /** The next `count` messages of the steady stream: terminals in turn, an Event every eventEvery messages. */
  steady(count: number): Delivery[] {
    const out: Delivery[] = [];
    for (let k = 0; k < count; k++) {
      const i = this.cursor;
      this.cursor = (this.cursor + 1) % this.terminals;
      this.sent++;
      out.push(this.sent % this.eventEvery === 0 ? this.event(i) : this.health(i));
    }
    return out;
  }
}
