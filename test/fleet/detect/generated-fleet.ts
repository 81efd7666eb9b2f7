/**
 * A generated fleet for the detection test, the same for every run (seeded): merchants of terminals that sell
 * through the day and sleep at night, each terminal with its own volume and its own normal rates, hour-to-hour
 * wobble on top of binomial chance, reboots that reset the counters, and a few faults injected:
 *   skimmer  — read failures and fallback swipes rise on one terminal (a skimmer or shim in the slot)
 *   flaky    — timeouts, reversals and offline sales rise on one terminal (a bad network link)
 *   wave     — declines rise on every terminal of one merchant for a few hours (a host-side problem)
 * Each terminal's Health messages carry cumulative counters, as terminals send them.
 */
import type { HealthMessage } from '../../../src/fleet/messages.js';
import type { Metric } from '../../../src/fleet/detect/metrics.js';

const HOUR = 3_600_000;

/** mulberry32: a small, good-enough seeded generator. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function poisson(rand: () => number, lambda: number): number {
  // Knuth for small means, a rounded normal for large ones.
  if (lambda > 60) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * gauss(rand)));
  const limit = Math.exp(-lambda);
  let k = 0;
  let p = rand();
  while (p > limit) {
    k++;
    p *= rand();
  }
  return k;
}

function gauss(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

function binomial(rand: () => number, n: number, p: number): number {
  let k = 0;
  for (let i = 0; i < n; i++) if (rand() < p) k++;
  return k;
}

/** The fleet's normal rates per transaction; each terminal's own are these times a factor of 0.6–1.6. */
const NORMAL: Record<Metric, number> = {
  declines: 0.04,
  timeouts: 0.005,
  reversals: 0.003,
  readFailures: 0.015,
  offlineSales: 0.005,
  fallbackSwipes: 0.004,
};

/** Sales per hour by hour of day (UTC here), as a share of the terminal's busiest hour. */
const DAY_PROFILE = [
  0.02, 0.01, 0.01, 0.01, 0.02, 0.05, 0.15, 0.4, 0.7, 0.85, 1, 1, 1, 0.95, 0.9, 0.9, 0.95, 1, 1, 0.9, 0.7, 0.5, 0.3,
  0.1,
];

export type FaultKind = 'skimmer' | 'flaky' | 'wave';

export interface Fault {
  kind: FaultKind;
  /** Terminal keys (fleet/terminal) affected. */
  terminals: string[];
  fromHour: number;
  toHour: number;
  /** The metrics raised and the rate each is raised to. */
  rates: Partial<Record<Metric, number>>;
}

export interface GeneratedFleet {
  start: number;
  hours: number;
  terminals: string[];
  faults: Fault[];
  /** Health messages in the order they are sent. */
  messages: HealthMessage[];
}

export interface FleetShape {
  seed: number;
  merchants: number;
  terminalsPerMerchant: number;
  days: number;
}

export function generateFleet(shape: FleetShape): GeneratedFleet {
  const rand = seeded(shape.seed);
  const start = Date.UTC(2026, 2, 2, 0, 0, 0);
  const hours = shape.days * 24;
  const terminals: { key: string; fleet: string; id: string; busiest: number; rates: Record<Metric, number> }[] = [];
  for (let m = 0; m < shape.merchants; m++) {
    const fleet = `merchant-${String(m).padStart(2, '0')}`;
    for (let t = 0; t < shape.terminalsPerMerchant; t++) {
      const id = `T${String(t).padStart(3, '0')}`;
      // One terminal in eight is a quiet one (a back office, a small kiosk) that rarely reaches the minimum volume.
      const busiest = rand() < 0.125 ? 5 + rand() * 15 : 30 + rand() * 70;
      const rates = {} as Record<Metric, number>;
      for (const metric of Object.keys(NORMAL) as Metric[]) rates[metric] = NORMAL[metric] * (0.6 + rand());
      terminals.push({ key: `${fleet}/${id}`, fleet, id, busiest, rates });
    }
  }
  // Faults on the fifth day and after, when every terminal has days of history; the single-terminal ones on
  // terminals busy enough to be judged hour by hour (the wave takes a whole merchant, quiet terminals included).
  const busy = terminals.filter((t) => t.busiest >= 30);
  const pick = (i: number) => busy[(i * 37 + 11) % busy.length]!.key;
  const waveMerchant = `merchant-${String(Math.min(7, shape.merchants - 1)).padStart(2, '0')}`;
  const faults: Fault[] = [
    ...[0, 1, 2].map((i) => ({
      kind: 'skimmer' as const,
      terminals: [pick(i)],
      fromHour: 4 * 24 + 9,
      toHour: hours,
      rates: { readFailures: 0.12, fallbackSwipes: 0.06 },
    })),
    ...[3, 4, 5].map((i) => ({
      kind: 'flaky' as const,
      terminals: [pick(i)],
      fromHour: 4 * 24 + 12 + i,
      toHour: 4 * 24 + 20 + i,
      rates: { timeouts: 0.08, reversals: 0.05, offlineSales: 0.1 },
    })),
    {
      kind: 'wave',
      terminals: terminals.filter((t) => t.fleet === waveMerchant).map((t) => t.key),
      fromHour: 4 * 24 + 14,
      toHour: 4 * 24 + 18,
      rates: { declines: 0.35 },
    },
  ];

  const messages: HealthMessage[] = [];
  for (const t of terminals) {
    let boot = 0;
    let seq = 0;
    const outcomes = new Map<string, number>();
    const anomalies = new Map<string, number>();
    const health = (at: number): void => {
      messages.push(healthMessage(t.fleet, t.id, `boot-${boot}`, ++seq, at, outcomes, anomalies));
    };
    health(start);
    for (let h = 0; h < hours; h++) {
      const hourStart = start + h * HOUR;
      if (rand() < 0.01) {
        // A reboot: the counters start again from zero.
        boot++;
        seq = 0;
        outcomes.clear();
        anomalies.clear();
        health(hourStart + 60_000);
      }
      const wobble = Math.exp(0.15 * gauss(rand));
      const n = poisson(rand, t.busiest * DAY_PROFILE[h % 24]!);
      const rate = (metric: Metric): number => {
        const fault = faults.find((f) => f.terminals.includes(t.key) && h >= f.fromHour && h < f.toHour);
        return fault?.rates[metric] ?? Math.min(1, t.rates[metric] * wobble);
      };
      // Three Health messages in the hour, each with the counters so far.
      for (const part of [0, 1, 2]) {
        const sales = Math.floor(n / 3) + (part < n % 3 ? 1 : 0);
        const declined = binomial(rand, sales, rate('declines'));
        const offline = binomial(rand, sales - declined, rate('offlineSales'));
        add(outcomes, 'declined', declined);
        add(outcomes, 'offline-approved', offline);
        add(outcomes, 'approved', sales - declined - offline);
        add(anomalies, 'E101', binomial(rand, sales, rate('timeouts')));
        add(anomalies, 'E104', binomial(rand, sales, rate('reversals')));
        add(anomalies, 'E311', binomial(rand, sales, rate('readFailures')));
        add(anomalies, 'E522', binomial(rand, sales, rate('fallbackSwipes')));
        health(hourStart + (part + 1) * 19 * 60_000);
      }
    }
  }
  messages.sort((a, b) => a.header.sentAtMs - b.header.sentAtMs);
  return { start, hours, terminals: terminals.map((t) => t.key), faults, messages };
}

function add(counters: Map<string, number>, key: string, n: number): void {
  if (n > 0) counters.set(key, (counters.get(key) ?? 0) + n);
}

function healthMessage(
  fleet: string,
  terminalId: string,
  bootId: string,
  seq: number,
  at: number,
  outcomes: Map<string, number>,
  anomalies: Map<string, number>,
): HealthMessage {
  return {
    type: 'health',
    historical: false,
    fleetConsumersOnline: 0,
    topic: `pos/v1/${fleet}/${terminalId}/health`,
    fleet,
    terminalId,
    header: { terminalId, fleet, bootId, seq, sentAtMs: at },
    state: 'ready',
    limitations: [],
    lockReasons: [],
    components: [],
    pendingReversals: 0,
    storeAndForward: { depth: 0, totalMinor: 0, oldestAgeMs: 0 },
    outcomes: [...outcomes].map(([key, count]) => ({ key, count })),
    anomalies: [...anomalies].map(([key, count]) => ({ key, count })),
    link: null,
    resources: null,
    telemetryDropped: 0,
    eventsDropped: 0,
    outboxDepth: 0,
  };
}
