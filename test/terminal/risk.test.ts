/**
 * The anomalies that need judgement, end to end in-process: duplicates held for confirmation, supervisor rights with
 * a PIN lockout, suspected fraud (fallback swipe, check digit), the lockout policy and the unlock round trip, and an
 * ECR client without the token.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTerminalApp, type TerminalApp } from '../../src/app/compose.js';
import { loadConfig, type PosConfig } from '../../src/config/index.js';
import { EcrClient, type EcrMessage } from '../../src/ecr/client.js';
import { createLogger } from '../../src/util/log.js';

const running: Array<{ app: TerminalApp; clients: EcrClient[] }> = [];
afterEach(async () => {
  for (const { app, clients } of running.splice(0)) {
    for (const c of clients) await c.close();
    await app.stop();
  }
});

async function boot(change: (c: PosConfig) => PosConfig = (c) => c, token?: string) {
  const { config } = loadConfig({ env: {} });
  const dataDir = mkdtempSync(join(tmpdir(), 'pos-risk-'));
  const app = await startTerminalApp(
    change({
      ...config,
      dataDir,
      host: { ...config.host, address: '127.0.0.1:0' },
      ecr: { ...config.ecr, port: 0, socketPath: null },
      mqtt: { ...config.mqtt, url: 'mqtt://127.0.0.1:0' },
    }),
    { log: createLogger('silent') },
  );
  const client = await EcrClient.connect({ port: app.ecr.port }, token);
  running.push({ app, clients: [client] });
  return { app, client };
}

function sale(
  client: EcrClient,
  amount: number,
  cards: string[],
  onDuplicate?: 'confirm' | 'cancel',
  seen: EcrMessage[] = [],
) {
  const queue = [...cards];
  return client.call({ cmd: 'sale', amount }, (m) => {
    seen.push(m);
    if (m.type === 'state' && m['state'] === 'waitingForCard')
      void client.call({ cmd: 'sim.card', name: queue.length > 1 ? queue.shift() : queue[0] });
    if (m.type === 'state' && m['state'] === 'confirmingDuplicate' && onDuplicate)
      void client.call({ cmd: onDuplicate });
  });
}

describe('duplicates', () => {
  it('holds the same card and amount for a confirmation showing the earlier STAN; confirm charges, cancel does not', async () => {
    const { app, client } = await boot();
    const first = await sale(client, 4200, ['visa']);
    const seen: EcrMessage[] = [];
    const cancelled = await sale(client, 4200, ['visa'], 'cancel', seen);
    expect(cancelled).toMatchObject({ outcome: 'cancelled', anomaly: { code: 'E501' } });
    const screen = seen.find((m) => m.type === 'screen' && (m['screen'] as { title: string }).title === 'DUPLICATE?');
    expect(JSON.stringify(screen)).toContain(`STAN ${String(first['stan']).padStart(6, '0')}`);
    expect(app.hostSim!.totals()).toMatchObject({ approvedCount: 1 });
    const confirmed = await sale(client, 4200, ['visa'], 'confirm');
    expect(confirmed).toMatchObject({ outcome: 'approved' });
    expect(app.hostSim!.totals()).toMatchObject({ approvedCount: 2 });
    // Another card, or another amount, is no duplicate.
    expect(await sale(client, 4200, ['mastercard'])).toMatchObject({ outcome: 'approved' });
  });
});

describe('supervisor rights', () => {
  it('refuses a refund without the PIN, counts wrong PINs, locks them out after 3, and keeps the right PIN out during the lockout', async () => {
    const { app, client } = await boot();
    expect(await client.call({ cmd: 'refund', amount: 100 })).toMatchObject({
      outcome: 'failed',
      anomaly: { code: 'E510' },
    });
    for (let i = 0; i < 3; i++)
      expect(await client.call({ cmd: 'refund', amount: 100, supervisorPin: '9999' })).toMatchObject({
        outcome: 'failed',
      });
    expect(await client.call({ cmd: 'refund', amount: 100, supervisorPin: '1234' })).toMatchObject({
      outcome: 'failed',
      anomaly: { code: 'E510' },
    });
    const reasons = app.journal.anomalies
      .list({ code: 'E510' })
      .map((a) => a.message)
      .join('\n');
    expect(reasons).toMatch(/wrong supervisor PIN, 2 attempts left/);
    expect(reasons).toMatch(/supervisor PIN locked out until/);
    expect(reasons).not.toContain('9999');
  });
});

describe('suspected fraud and the lockout', () => {
  it('asks for the chip when a chip card is swiped, declines a bad check digit, locks after three, and unlocks with the PIN only', async () => {
    const { app, client } = await boot();
    const fallback = await sale(client, 3000, ['chip-swiped', 'visa']);
    expect(fallback).toMatchObject({ outcome: 'approved', entryMode: 'chip' });
    expect(app.journal.anomalies.list({ code: 'E522' })).toHaveLength(1);
    const luhn = await sale(client, 1000, ['bad-luhn']);
    expect(luhn).toMatchObject({ outcome: 'failed', anomaly: { code: 'E520' } });
    expect(JSON.stringify(app.journal.anomalies.list({ code: 'E520' }))).not.toContain('4761739001010011');
    await sale(client, 1100, ['bad-luhn']);
    expect(await client.call({ cmd: 'status' })).toMatchObject({ state: 'locked' });
    expect(app.mocks.display!.current).toMatchObject({ title: 'LOCKED' });
    expect(await client.call({ cmd: 'sale', amount: 100 })).toMatchObject({ type: 'error', code: 'not-allowed' });
    expect(await client.call({ cmd: 'unlock', supervisorPin: '0000' })).toMatchObject({
      type: 'error',
      code: 'unauthorized',
    });
    expect(await client.call({ cmd: 'unlock', supervisorPin: '1234' })).toMatchObject({ type: 'done', state: 'ready' });
    expect(await sale(client, 1200, ['visa'])).toMatchObject({ outcome: 'approved' });
  });
});

describe('ECR clients', () => {
  it('refuses a client without the configured token and journals it', async () => {
    const token = 'register-token-0123456789';
    const { app, client } = await boot((c) => ({ ...c, ecr: { ...c.ecr, tokens: [token] } }), token);
    expect(await client.call({ cmd: 'status' })).toMatchObject({ type: 'status' });
    const stranger = await EcrClient.connect({ port: app.ecr.port });
    running[running.length - 1]!.clients.push(stranger);
    expect(await stranger.call({ cmd: 'sale', amount: 100 })).toMatchObject({ type: 'error', code: 'unauthorized' });
    expect(app.journal.anomalies.list({ code: 'E511' })).toHaveLength(1);
    expect(app.journal.counts().transactions).toBe(0);
  });
});
