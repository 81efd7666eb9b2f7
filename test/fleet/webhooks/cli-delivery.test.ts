/** pos-fleet as installed, with alertsDelivery set: an alert of the engine lands in the book and at the webhook. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { systemClock } from '../../../hal/clock.js';
import { SqliteAlertBook } from '../../../src/fleet/alert-book/sqlite-alert-book.js';
import { startCli } from '../../support/cli.js';
import { encode, fakeTerminal, startAedes, until, type TestBroker } from '../support.js';
import { Receiver } from './receiver.js';

let aedes: TestBroker | undefined;
let receiver: Receiver | undefined;

beforeAll(async () => {
  aedes = await startAedes();
  receiver = await new Receiver(systemClock).start();
});

afterAll(async () => {
  await receiver?.close();
  await aedes?.stop();
});

it('keeps the alert in the book and posts it, signed, with an idempotency key', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pos-fleet-delivery-'));
  const bookFile = join(dir, 'alerts.db');
  const config = join(dir, 'fleet.json');
  writeFileSync(
    config,
    JSON.stringify({
      alerts: { rules: [{ type: 'event-burst', name: 'host timeouts', code: 'E101', moreThan: 1, withinMinutes: 10 }] },
      alertsDelivery: { bookFile, webhooks: [{ name: 'ops', url: receiver!.url, secret: 's3cret' }] },
      detect: { enabled: true },
    }),
  );
  const cli = startCli('pos-fleet', ['alerts', '--config', config, '--url', aedes!.url], {});
  try {
    await until(() => cli.stderr().includes('subscribed to'), 'pos-fleet subscribed');
    const t = await fakeTerminal(aedes!.url);
    await t.publish('health', encode.health({ seq: 1 }));
    await t.publish('event', encode.event({ seq: 2, sentAtMs: Date.now() }, { atMs: Date.now() }));
    await t.publish('event', encode.event({ seq: 3, sentAtMs: Date.now() }, { atMs: Date.now() }));
    await until(() => receiver!.accepted.size === 1, 'one delivery');
    await t.end();
    const [req] = receiver!.requests;
    const body = JSON.parse(req!.body);
    expect(body).toMatchObject({
      webhook: 'ops',
      change: { state: 'raised', rule: 'host timeouts', type: 'event-burst', terminalId: 'TERM0042' },
      alert: { state: 'open' },
    });
    expect(req!.key).toBe(body.deliveryId);
    expect(req!.headers['x-pos-fleet-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
  } finally {
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
  }
  const book = new SqliteAlertBook({ file: bookFile, clock: systemClock });
  const [kept] = await book.list({ limit: 10 });
  expect(kept).toMatchObject({ rule: 'host timeouts', state: 'open', terminalId: 'TERM0042' });
  expect(JSON.parse(receiver!.requests[0]!.body).alert.id).toBe(kept!.id);
  book.close();
});
