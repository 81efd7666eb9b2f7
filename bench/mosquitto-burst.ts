/**
 * What a burst costs behind Mosquitto, with its default limits and with the ones the README recommends: 20,000
 * fleet messages published at 10,000 msg/s (QoS 1) to one fleet consumer (bench/fleet-consumer-worker.ts, the real
 * ingest) on a persistent session, once while the consumer is connected and once while it is away (reconnecting)
 * and comes back after the burst. Mosquitto keeps at most max_queued_messages (default 1,000) per session beyond
 * the in-flight window (max_inflight_messages, default 20) and silently drops the rest: that is what is counted.
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { connectAsync, type MqttClient } from 'mqtt';
import { Worker } from './fleet-broker.js';
import { type Delivery, FleetTraffic } from './fleet-traffic.js';
import { startBenchMosquitto } from './mosquitto.js';

/** The README's settings for a fleet consumer's burst (see its fleet sizing section). */
export const BURST_TUNED_CONFIG = [
  'max_queued_messages 1000000',
  'max_queued_bytes 1073741824',
  'max_inflight_messages 1000',
];

export const BURST_QUEUE_ONLY_CONFIG = ['max_queued_messages 1000000', 'max_queued_bytes 1073741824'];

/** QoS 1 publishes at `perSecond`, at most `window` unacknowledged; resolves when all are acknowledged. */
async function publishPaced(client: MqttClient, deliveries: readonly Delivery[], perSecond: number, window = 5_000) {
  const t0 = performance.now();
  let next = 0;
  let acked = 0;
  let failed: Error | null = null;
  while (next < deliveries.length) {
    const due = Math.min(deliveries.length, Math.floor(((performance.now() - t0) / 1000) * perSecond) + 1);
    while (next < due && next - acked < window) {
      const d = deliveries[next++] as Delivery;
      client.publish(d.topic, Buffer.from(d.payload), { qos: 1 }, (err) => {
        if (err) failed = err;
        acked++;
      });
    }
    if (failed) throw failed;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  const sentSeconds = (performance.now() - t0) / 1000;
  const limit = performance.now() + 30_000;
  while (acked < deliveries.length && performance.now() < limit) await new Promise((resolve) => setTimeout(resolve, 5));
  return { achievedPerSecond: Math.round(deliveries.length / sentSeconds), acknowledged: acked };
}

export interface BurstOptions {
  messages?: number;
  perSecond?: number;
  terminals?: number;
}

async function burstRun(config: readonly string[], away: boolean, opts: Required<BurstOptions>) {
  const broker = await startBenchMosquitto(config);
  const worker = new Worker({
    url: broker.url,
    clientId: 'pos-fleet-burst',
    filter: 'pos/v1/+/+/+',
    mode: 'full',
    trackSequence: true,
    terminals: opts.terminals,
  });
  try {
    await worker.waitFor('start');
    await worker.run('subscribe');
    if (!away) await worker.run('drain');
    const traffic = new FleetTraffic({ terminals: opts.terminals });
    const deliveries = traffic.steady(opts.messages);
    const publisher = await connectAsync(broker.url, { protocolVersion: 4, clean: true, reconnectPeriod: 0 });
    const published = await publishPaced(publisher, deliveries, opts.perSecond);
    await publisher.endAsync();
    if (away) await worker.run('drain');
    // Bounded wait for the tail: until nothing new has arrived for a second, or 60 s in all.
    const start = performance.now();
    let seen = -1;
    let still = performance.now();
    while (performance.now() - start < 60_000 && worker.progress < opts.messages) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      if (worker.progress !== seen) {
        seen = worker.progress;
        still = performance.now();
      } else if (performance.now() - still > 1_000) break;
    }
    const report = (await worker.run('report'))['report'] as { received: number; gaps: number };
    const delivered = report.received;
    return {
      consumer: away ? 'away during the burst, back after it' : 'connected',
      published: opts.messages,
      publishAchievedPerSecond: published.achievedPerSecond,
      acknowledgedByBroker: published.acknowledged,
      delivered,
      dropped: opts.messages - delivered,
      droppedShare: Number(((opts.messages - delivered) / opts.messages).toFixed(4)),
      gapsSeen: report.gaps,
    };
  } finally {
    await worker.exit();
    await broker.stop();
  }
}

export async function benchMosquittoBurst(options: BurstOptions = {}) {
  const opts: Required<BurstOptions> = {
    messages: options.messages ?? 20_000,
    perSecond: options.perSecond ?? 10_000,
    terminals: options.terminals ?? 1_000,
  };
  const defaults = { connected: await burstRun([], false, opts), away: await burstRun([], true, opts) };
  // The queue raised alone, the in-flight window left at 20: what each of the two settings does.
  const queueOnly = {
    connected: await burstRun(BURST_QUEUE_ONLY_CONFIG, false, opts),
    away: await burstRun(BURST_QUEUE_ONLY_CONFIG, true, opts),
  };
  const tuned = {
    connected: await burstRun(BURST_TUNED_CONFIG, false, opts),
    away: await burstRun(BURST_TUNED_CONFIG, true, opts),
  };
  return {
    name: 'mosquitto-burst (a 10k msg/s burst to one fleet consumer, default limits and tuned)',
    burst: { messages: opts.messages, perSecond: opts.perSecond, terminals: opts.terminals, qos: 1 },
    defaults: { config: 'max_queued_messages 1000, max_inflight_messages 20 (package defaults)', ...defaults },
    queueOnly: { config: BURST_QUEUE_ONLY_CONFIG.join(', '), ...queueOnly },
    tuned: { config: BURST_TUNED_CONFIG.join(', '), ...tuned },
    verdict: { tunedLosesNothing: tuned.connected.dropped === 0 && tuned.away.dropped === 0 ? 'met' : 'NOT met' },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  benchMosquittoBurst().then((r) => process.stdout.write(`${JSON.stringify(r, null, 2)}\n`));
}
