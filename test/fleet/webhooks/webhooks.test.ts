/**
 * Webhook delivery against a real loopback HTTP server: retries with backoff on the simulated clock, the same
 * Idempotency-Key on every attempt, 4xx/5xx/timeouts, giving up with the failure recorded, a dead endpoint that
 * blocks nobody else, a bounded queue, and a restart in the middle of the retries.
 */
import { createHmac } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { flushIo, ManualClock } from '../../../hal/clock.js';
import type { BookAlert } from '../../../src/fleet/alert-book/sqlite-alert-book.js';
import {
  ALERTS_DELIVERY_DEFAULTS,
  type AlertsDeliveryConfig,
  type WebhookConfig,
} from '../../../src/fleet/config-alerts-delivery.js';
import { AlertDelivery } from '../../../src/fleet/webhooks/alert-delivery.js';
import { type Answer, Receiver } from './receiver.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const open: { close(): unknown }[] = [];

afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close();
});

function alert(i: number, over: Partial<BookAlert> = {}): BookAlert {
  return {
    at: T0 + i,
    state: i % 2 === 0 ? 'raised' : 'cleared',
    rule: 'unreachable',
    type: 'unreachable',
    key: `shop-1/T${Math.floor(i / 2)}`,
    fleet: 'shop-1',
    terminalId: `T${Math.floor(i / 2)}`,
    value: 11,
    message: 'offline for 11 min (limit 10 min)',
    ...over,
  };
}

function config(webhooks: WebhookConfig[], over: Partial<AlertsDeliveryConfig> = {}, file?: string) {
  return {
    ...structuredClone(ALERTS_DELIVERY_DEFAULTS),
    retry: { firstDelaySeconds: 5, maxDelaySeconds: 60, giveUpAfterHours: 1 },
    webhooks,
    ...over,
    bookFile: file ?? join(mkdtempSync(join(tmpdir(), 'webhooks-')), 'alerts.db'),
  };
}

async function receiver(clock: ManualClock, script?: (n: number) => Answer): Promise<Receiver> {
  const r = await new Receiver(clock, script).start();
  open.push(r);
  return r;
}

function delivery(clock: ManualClock, cfg: ReturnType<typeof config>): AlertDelivery {
  const d = new AlertDelivery({ config: cfg, clock, random: () => 0.5 });
  open.push(d);
  return d;
}

/** Lets every request in flight reach its receiver's answer (or be held there) before time moves on. */
async function settle(d: AlertDelivery, receivers: Receiver[]): Promise<void> {
  await d.settled();
  for (let i = 0; i < 200_000; i++) {
    const held = receivers.reduce((n, r) => n + r.held, 0);
    const arrived = receivers.reduce((n, r) => n + r.requests.length, 0);
    if (arrived >= d.dispatcher.attemptsStarted && d.dispatcher.busy() <= held) return;
    await flushIo();
  }
  throw new Error('requests did not finish');
}

async function run(clock: ManualClock, d: AlertDelivery, receivers: Receiver[], ms: number): Promise<void> {
  await settle(d, receivers);
  await clock.advance(ms, () => settle(d, receivers));
  await settle(d, receivers);
}

describe('webhook delivery', () => {
  it('retries a failing receiver with exponential backoff, the same Idempotency-Key each time, and delivers once', async () => {
    const clock = new ManualClock(T0);
    const failures = 3;
    const r = await receiver(clock, (n) => (n < failures ? 503 : 200));
    const d = delivery(clock, config([{ name: 'ops', url: r.url }]));
    const record = await d.handle(alert(0));
    await run(clock, d, [r], 10 * 60_000);

    expect(r.requests.length).toBe(failures + 1);
    expect(new Set(r.keys()).size).toBe(1);
    const [row] = d.queue.all();
    expect(row).toMatchObject({ state: 'sent', attempts: failures + 1, lastStatus: 200, id: r.requests[0]!.key });
    // 5 s, 10 s, 20 s, each with jitter 0.5 (three quarters of the step).
    const gaps = r.requests.slice(1).map((q, i) => q.at - r.requests[i]!.at);
    expect(gaps).toEqual([3_750, 7_500, 15_000]);
    const body = JSON.parse(r.requests[3]!.body);
    expect(body).toMatchObject({
      deliveryId: row!.id,
      webhook: 'ops',
      change: { state: 'raised', rule: 'unreachable', terminalId: 'T0' },
      alert: { id: record!.id, state: 'open' },
    });
    expect(r.requests[0]!.headers['content-type']).toBe('application/json');
  });

  it('delivers every alert change exactly once to a deduplicating receiver through a run of errors and timeouts', async () => {
    const clock = new ManualClock(T0);
    // A receiver that fails in a pattern: 500, a held request (timeout), 429, then success, over and over.
    const pattern: Answer[] = [500, 'hang', 429, 200, 502, 200, 'hang', 200];
    const r = await receiver(clock, (n) => pattern[n % pattern.length]!);
    const d = delivery(clock, config([{ name: 'ops', url: r.url, timeoutSeconds: 2 }], { concurrencyPerWebhook: 2 }));
    const changes = 12;
    for (let i = 0; i < changes; i++) await d.handle(alert(i));
    await run(clock, d, [r], 30 * 60_000);

    expect(d.queue.all().map((q) => q.state)).toEqual(Array(changes).fill('sent'));
    expect(r.accepted.size).toBe(changes);
    expect(r.duplicates).toBe(0);
    expect(r.requests.length).toBeGreaterThan(changes);
    const bodies = [...r.accepted].map((k) => JSON.parse(r.requests.find((q) => q.key === k)!.body).change.at);
    expect(new Set(bodies).size).toBe(changes);
  });

  it('waits as long as a receiver asks with Retry-After, up to the longest delay', async () => {
    const clock = new ManualClock(T0);
    const answers: Answer[] = [
      { status: 503, retryAfter: '30' },
      { status: 429, retryAfter: new Date(T0 + 10 * 60_000).toUTCString() },
      200,
    ];
    const r = await receiver(clock, (n) => answers[n] ?? 200);
    const d = delivery(clock, config([{ name: 'ops', url: r.url }]));
    await d.handle(alert(0));
    await run(clock, d, [r], 10 * 60_000);
    const at = r.requests.map((q) => q.at - T0);
    // 30 s asked (backoff would be 3.75 s); then a date 10 min out, capped at the longest delay (60 s).
    expect(at).toEqual([0, 30_000, 90_000]);
    expect(r.accepted.size).toBe(1);
  });

  it('gives up on a 4xx at once, and on a receiver that keeps failing after the configured age, recording why', async () => {
    const clock = new ManualClock(T0);
    const bad = await receiver(clock, () => 400);
    const down = await receiver(clock, () => 503);
    const d = delivery(
      clock,
      config([
        { name: 'bad', url: bad.url },
        { name: 'down', url: down.url },
      ]),
    );
    await d.handle(alert(0));
    await run(clock, d, [bad, down], 2 * 3_600_000);

    expect(bad.requests.length).toBe(1);
    const rows = d.queue.all();
    expect(rows.find((q) => q.webhook === 'bad')).toMatchObject({
      state: 'failed',
      attempts: 1,
      lastError: 'HTTP 400',
    });
    const gaveUp = rows.find((q) => q.webhook === 'down')!;
    expect(gaveUp.state).toBe('failed');
    expect(gaveUp.lastError).toMatch(/^gave up after \d+ attempts and 1 h; last: HTTP 503$/);
    expect(gaveUp.attempts).toBe(down.requests.length);
    // Backoff capped at 60 s: 3 quick ones, then about one a minute (45 s with the jitter) for the hour.
    expect(down.requests.length).toBeGreaterThan(60);
    expect(down.requests.length).toBeLessThan(90);
    expect(gaveUp.finishedAt! - T0).toBe(3_600_000);
  });

  it('keeps a dead endpoint from blocking the others', async () => {
    const clock = new ManualClock(T0);
    const dead = await receiver(clock, () => 'hang');
    const fine = await receiver(clock, () => 200);
    const d = delivery(
      clock,
      config(
        [
          { name: 'dead', url: dead.url, timeoutSeconds: 30 },
          { name: 'fine', url: fine.url },
        ],
        { concurrencyPerWebhook: 1 },
      ),
    );
    for (let i = 0; i < 20; i++) await d.handle(alert(i));
    await run(clock, d, [dead, fine], 1_000);
    expect(fine.accepted.size).toBe(20);
    expect(dead.requests.length).toBe(1);
    expect(d.queue.all().filter((q) => q.webhook === 'dead' && q.state === 'pending').length).toBe(20);
  });

  it('sends what was pending before a restart, with the same key, and nothing twice', async () => {
    const clock = new ManualClock(T0);
    let up = false;
    const r = await receiver(clock, () => (up ? 200 : 503));
    const cfg = config([{ name: 'ops', url: r.url }]);
    const first = new AlertDelivery({ config: cfg, clock, random: () => 0.5 });
    await first.handle(alert(0));
    await first.handle(alert(1));
    await run(clock, first, [r], 10_000);
    const before = new Set(r.keys());
    expect(before.size).toBe(2);
    expect(r.accepted.size).toBe(0);
    first.close();

    up = true;
    await clock.advance(3_600_000 / 4);
    const second = delivery(clock, cfg);
    await run(clock, second, [r], 1_000);
    expect(r.accepted).toEqual(before);
    await second.handle(alert(2));
    await run(clock, second, [r], 60_000);
    expect(r.accepted.size).toBe(3);
    expect(r.duplicates).toBe(0);
    expect(second.queue.all().map((q) => q.state)).toEqual(['sent', 'sent', 'sent']);
  });

  it('records a delivery the full queue cannot hold as failed, and a webhook taken out of the config', async () => {
    const clock = new ManualClock(T0);
    const r = await receiver(clock, () => 'hang');
    const cfg = config([{ name: 'ops', url: r.url, timeoutSeconds: 60 }], { maxQueued: 3, concurrencyPerWebhook: 1 });
    const d = new AlertDelivery({ config: cfg, clock });
    for (let i = 0; i < 5; i++) await d.handle(alert(i));
    await settle(d, [r]);
    const states = d.queue.all().map((q) => [q.state, q.lastError]);
    expect(states.slice(0, 3).map((s) => s[0])).toEqual(['pending', 'pending', 'pending']);
    expect(states.slice(3)).toEqual(Array(2).fill(['failed', 'queue full (3 deliveries waiting): not queued']));
    d.close();

    const again = delivery(clock, { ...cfg, webhooks: [] });
    expect(again.queue.all().map((q) => q.lastError)).toEqual([
      ...Array(3).fill('webhook no longer configured'),
      ...Array(2).fill('queue full (3 deliveries waiting): not queued'),
    ]);
  });

  it('tells the webhooks that ask for it of the first acknowledgement, once', async () => {
    const clock = new ManualClock(T0);
    const acks = await receiver(clock);
    const all = await receiver(clock);
    const d = delivery(
      clock,
      config([
        { name: 'acks', url: acks.url, match: { states: ['acknowledged'] } },
        { name: 'all', url: all.url },
      ]),
    );
    const record = await d.handle(alert(0));
    const book = d.asAlertBook();
    await run(clock, d, [acks, all], 60_000);
    expect(await book.acknowledge(record!.id, 'alice', 'on it')).toMatchObject({ acknowledgedBy: 'alice' });
    expect(await book.acknowledge(record!.id, 'bob')).toMatchObject({ acknowledgedBy: 'alice' });
    expect(await book.acknowledge('nope', 'bob')).toBeUndefined();
    await run(clock, d, [acks, all], 1_000);
    expect(acks.requests.map((q) => JSON.parse(q.body))).toEqual([
      expect.objectContaining({
        change: expect.objectContaining({ state: 'acknowledged', message: 'acknowledged by alice: on it' }),
        alert: expect.objectContaining({ id: record!.id, state: 'acknowledged', acknowledgedBy: 'alice' }),
      }),
    ]);
    expect(all.requests.map((q) => JSON.parse(q.body).change.state)).toEqual(['raised', 'acknowledged']);
  });

  it('signs the body with the secret, sends the configured headers, and routes by rule, type, fleet and state', async () => {
    const clock = new ManualClock(T0);
    const all = await receiver(clock);
    const picky = await receiver(clock);
    const d = delivery(
      clock,
      config([
        { name: 'all', url: all.url, secret: 'k3y', headers: { Authorization: 'Bearer abc' } },
        {
          name: 'picky',
          url: picky.url,
          signatureHeader: 'X-Sig',
          secret: 'other',
          match: { types: ['anomaly-detection'], fleets: ['shop-2'], states: ['raised'], rules: ['anomaly declines'] },
        },
      ]),
    );
    await d.handle(alert(0));
    await d.handle(
      alert(2, { type: 'anomaly-detection', rule: 'anomaly declines', fleet: 'shop-2', key: 'shop-2/T1' }),
    );
    await d.handle(
      alert(3, { type: 'anomaly-detection', rule: 'anomaly declines', fleet: 'shop-2', key: 'shop-2/T1' }),
    );
    await d.handle(
      alert(4, { type: 'anomaly-detection', rule: 'anomaly timeouts', fleet: 'shop-2', key: 'shop-2/T2' }),
    );
    await run(clock, d, [all, picky], 1_000);
    expect(all.accepted.size).toBe(4);
    expect(picky.requests.map((q) => JSON.parse(q.body).change.terminalId)).toEqual(['T1']);
    for (const q of all.requests) {
      expect(q.headers['x-pos-fleet-signature']).toBe(
        `sha256=${createHmac('sha256', 'k3y').update(q.body).digest('hex')}`,
      );
      expect(q.headers.authorization).toBe('Bearer abc');
    }
    expect(picky.requests[0]!.headers['x-sig']).toBe(
      `sha256=${createHmac('sha256', 'other').update(picky.requests[0]!.body).digest('hex')}`,
    );
  });
});
