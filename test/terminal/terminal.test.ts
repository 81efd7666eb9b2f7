/**
 * The assembled terminal in-process (mock devices, embedded host simulator on loopback, SQLite journal on disk):
 * the terminal machine's boot states, one transaction at a time, reprint, anomaly slips and boot recovery.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTerminalApp, type TerminalApp } from '../../src/app/compose.js';
import { loadConfig, type PosConfig } from '../../src/config/index.js';
import { EcrClient } from '../../src/ecr/client.js';
import { Journal } from '../../src/journal/index.js';
import { createLogger } from '../../src/util/log.js';
import { testCard } from '../../src/card/test-cards.js';

const running: Array<{ app: TerminalApp; client: EcrClient }> = [];
afterEach(async () => {
  for (const { app, client } of running.splice(0)) {
    await client.close();
    await app.stop();
  }
});

function testConfig(dataDir = mkdtempSync(join(tmpdir(), 'pos-term-'))): PosConfig {
  const { config } = loadConfig({ env: {} });
  return {
    ...config,
    dataDir,
    host: { ...config.host, address: '127.0.0.1:0' },
    ecr: { ...config.ecr, port: 0, socketPath: null },
    mqtt: { ...config.mqtt, url: 'mqtt://127.0.0.1:0' },
  };
}

async function boot(config = testConfig(), before?: (app: TerminalApp) => void) {
  const app = await startTerminalApp(config, { log: createLogger('silent') });
  before?.(app);
  const client = await EcrClient.connect({ port: app.ecr.port });
  running.push({ app, client });
  return { app, client };
}

async function sale(client: EcrClient, amount: number, card = 'visa') {
  return client.call({ cmd: 'sale', amount }, (m) => {
    if (m.type === 'state' && m['state'] === 'waitingForCard') void client.call({ cmd: 'sim.card', name: card });
    if (m.type === 'state' && m['state'] === 'confirmingDuplicate') void client.call({ cmd: 'confirm' });
  });
}

describe('terminal', () => {
  it('a card left in after the sale: the register has the result at once, the next sale is refused until the card is out', async () => {
    const { app, client } = await boot();
    const states: string[] = [];
    const result = await client.call({ cmd: 'sale', amount: 1200 }, (m) => {
      if (m.type === 'state') states.push(String(m['state']));
      if (m.type === 'state' && m['state'] === 'waitingForCard')
        void client.call({ cmd: 'sim.card', name: 'visa', stays: true });
    });
    expect(result).toMatchObject({ type: 'result', outcome: 'approved' });
    expect(states).toContain('removingCard');
    expect(app.mocks.reader!.cardInReader).toBe('chip');
    expect(await client.call({ cmd: 'status' })).toMatchObject({
      state: 'transacting',
      transaction: { state: 'removingCard' },
    });
    expect(await client.call({ cmd: 'sale', amount: 1200 })).toMatchObject({
      type: 'error',
      code: 'busy',
      message: expect.stringContaining('remove card'),
    });
    expect(app.mocks.display!.current).toMatchObject({ title: 'REMOVE CARD' });

    await client.call({ cmd: 'sim.remove' });
    expect(await client.call({ cmd: 'status' })).toMatchObject({ state: 'ready' });
    // The next sale gets only a newly presented card (the simulated cardholder takes it out when asked).
    expect(await sale(client, 1300)).toMatchObject({ type: 'result', outcome: 'approved' });
    expect(app.mocks.reader!.cardInReader).toBeUndefined();
    expect(await client.call({ cmd: 'status' })).toMatchObject({ state: 'ready' });
  });

  it('a swipe made while the terminal was idle is never charged: discarded at the card wait of the sale, journaled E408 without card data', async () => {
    const { app, client } = await boot();
    const idle = testCard('swipe-visa')!;
    app.mocks.reader!.present(idle);
    const result = await sale(client, 1400, 'mastercard');
    expect(result).toMatchObject({ type: 'result', outcome: 'approved', entryMode: 'contactless' });
    const stale = app.journal.anomalies.list({ code: 'E408' });
    expect(stale).toHaveLength(1);
    expect(stale[0]).toMatchObject({ txnRef: result['txnRef'] });
    expect(JSON.stringify(stale[0])).not.toContain(idle.pan);
    // The host saw only the card presented for this sale.
    expect(app.journal.transactions.list({ limit: 10 }).filter((r) => r.maskedPan === '476173******0010')).toEqual([]);
  });

  it('boots to ready and reports it', async () => {
    const { client } = await boot();
    expect(await client.call({ cmd: 'status' })).toMatchObject({
      type: 'status',
      state: 'ready',
      lockReasons: [],
      limitations: [],
    });
  });

  it('goes degraded with the limitation named when the printer is out of paper, and still sells', async () => {
    const { app, client } = await boot();
    app.mocks.printer!.setStatus({ paper: 'out' });
    const result = await client.call({ cmd: 'selftest' });
    expect(result).toMatchObject({ type: 'done', state: 'degraded' });
    expect((result['limitations'] as string[]).join()).toMatch(/no printer: receipts kept pending/);
    expect(app.mocks.display!.current).toMatchObject({ title: 'READY (LIMITED)' });
    const sold = await sale(client, 1000);
    expect(sold).toMatchObject({ outcome: 'approved', receipt: 'pending' });
    app.mocks.printer!.setStatus({ paper: 'ok' });
    expect(await client.call({ cmd: 'reprint' })).toMatchObject({
      type: 'done',
      receipt: 'printed',
      stan: sold['stan'],
    });
    expect(await client.call({ cmd: 'selftest' })).toMatchObject({ state: 'ready' });
  });

  it('locks when the card reader does not answer, refuses sales with a clear error, and names the reason on screen', async () => {
    const { app, client } = await boot();
    app.mocks.reader!.unplug();
    expect(await client.call({ cmd: 'status' })).toMatchObject({ state: 'locked' });
    expect(await client.call({ cmd: 'selftest' })).toMatchObject({ state: 'locked' });
    expect(await client.call({ cmd: 'sale', amount: 100 })).toMatchObject({
      type: 'error',
      code: 'not-allowed',
      message: expect.stringContaining('card reader'),
    });
    expect(app.mocks.display!.current).toMatchObject({ title: 'LOCKED', severity: 'error' });
  });

  it('runs one transaction at a time: a second one is refused busy and journaled as an anomaly', async () => {
    const { app, client } = await boot();
    const first = client.call({ cmd: 'sale', amount: 500 });
    expect(await client.call({ cmd: 'refund', amount: 500 })).toMatchObject({ type: 'error', code: 'busy' });
    expect(await client.call({ cmd: 'cancel' })).toMatchObject({ type: 'done' });
    expect(await first).toMatchObject({ outcome: 'cancelled' });
    expect(app.journal.anomalies.list().map((a) => a.code)).toEqual(expect.arrayContaining(['E404']));
  });

  it('prints the slip of the latest anomaly, with the masked card and no full PAN', async () => {
    const { app, client } = await boot();
    // 51 is journaled as what it means (E202, insufficient funds), not as a generic decline.
    await sale(client, 2500, 'insufficient-funds');
    expect(await client.call({ cmd: 'slip' })).toMatchObject({ type: 'done', code: 'E202' });
    const slip = app.mocks
      .printer!.printed.at(-1)!
      .lines.map((l) => ('text' in l ? l.text : ''))
      .join('\n');
    expect(slip).toContain('ANOMALY E202');
    expect(slip).toContain('400000******5100');
    expect(slip).not.toContain('4000000000005100');
    expect(await client.call({ cmd: 'slip', code: 'E601' })).toMatchObject({ type: 'error', code: 'not-found' });
  });

  it('recovers on boot: an interrupted transaction gets a fate and an anomaly', async () => {
    const config = testConfig();
    const journal = Journal.open(join(config.dataDir, 'journal.sqlite'));
    journal.transactions.begin({ txnRef: 'T-INTERRUPTED', kind: 'sale', amount: 990, currency: '978' });
    const stan = journal.counters.nextStan();
    journal.transactions.recordState('T-INTERRUPTED', 'sending', { stan });
    journal.close();
    const { app, client } = await boot(config);
    expect(app.journal.transactions.get('T-INTERRUPTED')).toMatchObject({ outcome: 'failed' });
    expect(app.journal.anomalies.list({ code: 'E602' })).toHaveLength(1);
    expect(await client.call({ cmd: 'status' })).toMatchObject({ state: 'ready', journal: { inFlight: 0 } });
  });

  it('answers a repeated ECR request id from the journal and never charges twice', async () => {
    const { app, client } = await boot();
    const first = await client.call({ id: 'REG-42', cmd: 'sale', amount: 1500 }, (m) => {
      if (m.type === 'state' && m['state'] === 'waitingForCard') void client.call({ cmd: 'sim.card', name: 'visa' });
    });
    expect(first).toMatchObject({ outcome: 'approved' });
    const again = await client.call({ id: 'REG-42', cmd: 'sale', amount: 1500 });
    expect(again).toMatchObject({
      type: 'result',
      replayed: true,
      outcome: 'approved',
      stan: first['stan'],
      txnRef: first['txnRef'],
    });
    expect(app.hostSim!.totals()).toMatchObject({ approvedCount: 1, approvedAmount: 1500 });
    expect(app.journal.counts().transactions).toBe(1);
    expect(app.journal.anomalies.list().map((a) => a.code)).toContain('E501');
    // The same id for a different amount is an integration error, not a retry.
    expect(await client.call({ id: 'REG-42', cmd: 'sale', amount: 999 })).toMatchObject({
      type: 'error',
      code: 'invalid-request',
      field: 'id',
    });
  });
});

describe('storage faults', () => {
  it('refuses new sales with the reason when the journal cannot write (disk full), and keeps what was committed', async () => {
    const { app, client } = await boot();
    const before = await sale(client, 1100);
    expect(before).toMatchObject({ outcome: 'approved' });
    // SQLite's own "disk full": no page may be added any more.
    const db = (app.journal as unknown as { db: { pragma(sql: string, o?: { simple: boolean }): unknown } }).db;
    const pages = db.pragma('page_count', { simple: true }) as number;
    db.pragma(`max_page_count = ${pages}`);
    let refused: Record<string, unknown> = {};
    for (let i = 0; i < 50 && refused['type'] !== 'error'; i++) refused = await sale(client, 1200 + i);
    expect(refused).toMatchObject({ type: 'error', code: 'not-allowed', message: expect.stringMatching(/storage/) });
    expect(await client.call({ cmd: 'status' })).toMatchObject({
      state: 'locked',
      lockReasons: expect.arrayContaining([expect.stringMatching(/storage fault/)]),
    });
    expect(await client.call({ cmd: 'sale', amount: 500 })).toMatchObject({ type: 'error', code: 'not-allowed' });
    // Nothing already committed is lost.
    expect(app.journal.transactions.get(before['txnRef'] as string)).toMatchObject({
      outcome: 'approved',
      amount: 1100,
    });
  });
});
