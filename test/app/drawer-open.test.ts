/**
 * Opening the cash drawer by hand (no sale): from the register (ECR `drawer.open`) and the console, through the one
 * command service; journaled as E410 with who asked; refused when no drawer is configured, and while a transaction
 * holds the printer. The assembled terminal in-process on mock devices and the host simulator.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { startTerminalApp, type TerminalApp } from '../../src/app/compose.js';
import { runConsole } from '../../src/app/console.js';
import { loadConfig } from '../../src/config/index.js';
import { EcrClient } from '../../src/ecr/client.js';
import { createLogger } from '../../src/util/log.js';
import { until } from '../support/wait.js';

const running: Array<{ app: TerminalApp; client: EcrClient }> = [];
afterEach(async () => {
  for (const { app, client } of running.splice(0)) {
    await client.close();
    await app.stop();
  }
});

async function boot(withDrawer: boolean) {
  const { config } = loadConfig({ env: {} });
  const drawer = withDrawer
    ? { pin: 2 as const, pulseMs: 100, openWhenPin3: 'high' as const, kickOnSale: false }
    : null;
  const app = await startTerminalApp(
    {
      ...config,
      hal: { ...config.hal, printer: { ...config.hal.printer, drawer } },
      dataDir: mkdtempSync(join(tmpdir(), 'pos-drawer-')),
      host: { ...config.host, address: '127.0.0.1:0' },
      ecr: { ...config.ecr, port: 0, socketPath: null },
      mqtt: { ...config.mqtt, url: 'mqtt://127.0.0.1:0' },
    },
    { log: createLogger('silent') },
  );
  const client = await EcrClient.connect({ port: app.ecr.port });
  running.push({ app, client });
  return { app, client };
}

const drawerOpenings = (app: TerminalApp) => app.journal.anomalies.list({ code: 'E410', limit: 10 });

describe('drawer.open from the register', () => {
  it('kicks the drawer once and journals E410 with who asked, without a transaction', async () => {
    const { app, client } = await boot(true);
    expect(await client.call({ cmd: 'drawer.open' })).toMatchObject({ type: 'done', cmd: 'drawer.open' });
    expect(app.mocks.printer!.drawerKicks).toBe(1);
    const [row] = drawerOpenings(app);
    expect(row).toMatchObject({ code: 'E410', severity: 'info' });
    expect(row!.message).toMatch(/^The cash drawer was opened without a sale: opened by \S+/);
    expect(row!.txnRef).toBeNull();
    expect(app.journal.transactions.lastReceiptCandidate()).toBeUndefined();
  });

  it('is refused when no drawer is configured: nothing kicked, nothing journaled', async () => {
    const { app, client } = await boot(false);
    expect(await client.call({ cmd: 'drawer.open' })).toMatchObject({
      type: 'error',
      code: 'not-allowed',
      message: expect.stringContaining('no cash drawer is configured'),
    });
    expect(app.mocks.printer!.drawerKicks).toBe(0);
    expect(drawerOpenings(app)).toEqual([]);
  });

  it('is refused busy while a sale holds the printer', async () => {
    const { app, client } = await boot(true);
    let refusal: unknown;
    const sold = client.call({ cmd: 'sale', amount: 1200 }, (m) => {
      if (m.type === 'state' && m['state'] === 'waitingForCard')
        void client.call({ cmd: 'drawer.open' }).then((reply) => {
          refusal = reply;
          return client.call({ cmd: 'sim.card', name: 'visa' });
        });
    });
    expect(await sold).toMatchObject({ outcome: 'approved' });
    expect(refusal).toMatchObject({ type: 'error', code: 'busy' });
    expect(app.mocks.printer!.drawerKicks).toBe(0);
    expect(drawerOpenings(app)).toEqual([]);
  });
});

describe('drawer at the console', () => {
  it('opens the drawer through the same command, journaled as asked by the console', async () => {
    const { app } = await boot(true);
    const input = new PassThrough();
    const output = new PassThrough();
    let printed = '';
    output.on('data', (chunk) => {
      printed += String(chunk);
    });
    const done = runConsole(app, input, output);
    input.write('drawer\n');
    await until(() => printed.includes('done: '), 'drawer answer printed');
    input.write('quit\n');
    await done;
    expect(printed).toContain('done: {"cmd":"drawer.open"}');
    expect(app.mocks.printer!.drawerKicks).toBe(1);
    expect(drawerOpenings(app).map((r) => r.message)).toEqual([
      'The cash drawer was opened without a sale: opened by console',
    ]);
  });
});
