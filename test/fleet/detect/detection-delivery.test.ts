/**
 * Detection's alerts go where the engine's go: into the alert book with their evidence, and to the webhooks that
 * ask for `anomaly-detection`, through the same wiring pos-fleet uses (startFleetAlerting).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { flushIo, ManualClock } from '../../../hal/clock.js';
import { ALERTS_DELIVERY_DEFAULTS } from '../../../src/fleet/config-alerts-delivery.js';
import { DETECT_DEFAULTS, type DetectConfig } from '../../../src/fleet/config-detect.js';
import { startFleetAlerting } from '../../../src/fleet/webhooks/fleet-alerting.js';
import { Receiver } from '../webhooks/receiver.js';
import { generateFleet } from './generated-fleet.js';

const HOUR = 3_600_000;
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

it('books and delivers an anomaly with its evidence, and books the engine alerts beside it', async () => {
  const fleet = generateFleet({ seed: 5, merchants: 4, terminalsPerMerchant: 10, days: 5 });
  const clock = new ManualClock(fleet.start);
  const receiver = await new Receiver(clock).start();
  cleanup.push(() => receiver.close());
  const lines: string[] = [];
  const alerting = startFleetAlerting({
    delivery: {
      ...structuredClone(ALERTS_DELIVERY_DEFAULTS),
      bookFile: join(mkdtempSync(join(tmpdir(), 'detect-delivery-')), 'alerts.db'),
      webhooks: [{ name: 'fraud', url: receiver.url, match: { types: ['anomaly-detection'], states: ['raised'] } }],
    },
    detect: { ...(DETECT_DEFAULTS as DetectConfig), enabled: true },
    clock,
    note: (line) => lines.push(line),
  });
  cleanup.push(() => alerting.stop());
  for (const msg of fleet.messages) {
    if (msg.header.sentAtMs > clock.now()) await clock.advance(msg.header.sentAtMs - clock.now());
    alerting.onMessage(msg, msg.header.sentAtMs);
  }
  alerting.onAlert({
    at: clock.now(),
    state: 'raised',
    rule: 'unreachable',
    type: 'unreachable',
    key: 'merchant-00/T000',
    fleet: 'merchant-00',
    terminalId: 'T000',
    value: 12,
    message: 'offline for 12 min (limit 10 min)',
  });
  await clock.advance(2 * HOUR);
  for (let i = 0; i < 2_000 && receiver.accepted.size === 0; i++) await flushIo();

  const book = alerting.book!;
  const anomalies = await book.list({ limit: 100, states: ['open', 'cleared'] });
  const skim = anomalies.find(
    (r) => r.rule === 'anomaly read failures' && fleet.faults[0]!.terminals.includes(`${r.fleet}/${r.terminalId}`),
  );
  expect(skim).toBeDefined();
  expect(skim!.type).toBe('anomaly-detection');
  expect(skim!.evidence).toMatchObject({ metric: 'readFailures', window: { from: expect.any(String) } });
  expect((skim!.evidence as { peers: { median: number } }).peers.median).toBeLessThan(skim!.value);
  expect(anomalies.some((r) => r.type === 'unreachable' && r.terminalId === 'T000')).toBe(true);

  for (
    let i = 0;
    i < 20_000 && receiver.accepted.size < anomalies.filter((r) => r.type === 'anomaly-detection').length;
    i++
  )
    await flushIo();
  const bodies = receiver.requests.map((q) => JSON.parse(q.body));
  expect(bodies.every((b) => b.change.type === 'anomaly-detection' && b.change.state === 'raised')).toBe(true);
  expect(bodies.map((b) => b.alert.id)).toContain(skim!.id);
  expect(bodies.find((b) => b.alert.id === skim!.id).alert.evidence.metric).toBe('readFailures');
  expect(lines).toEqual([]);
});
