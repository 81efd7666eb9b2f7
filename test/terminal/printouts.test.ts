/**
 * A reprint from the journal gives what the original printed: both copies (merchant, then customer), each with the
 * host's response text, marked REPRINT; the cash drawer opens after an approved sale when configured. The assembled
 * terminal in-process on mock devices and the host simulator.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ReceiptLine } from '../../hal/printer/contract.js';
import { startTerminalApp, type TerminalApp } from '../../src/app/compose.js';
import { loadConfig } from '../../src/config/index.js';
import { EcrClient } from '../../src/ecr/client.js';
import { createLogger } from '../../src/util/log.js';

const running: Array<{ app: TerminalApp; client: EcrClient }> = [];
afterEach(async () => {
  for (const { app, client } of running.splice(0)) {
    await client.close();
    await app.stop();
  }
});

async function boot(kickOnSale = false) {
  const { config } = loadConfig({ env: {} });
  const drawer = kickOnSale ? { pin: 2 as const, pulseMs: 100, openWhenPin3: 'high' as const, kickOnSale } : null;
  const app = await startTerminalApp(
    {
      ...config,
      hal: { ...config.hal, printer: { ...config.hal.printer, drawer } },
      dataDir: mkdtempSync(join(tmpdir(), 'pos-reprint-')),
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

const text = (line: ReceiptLine) => (line.kind === 'rule' ? '----' : line.text);

async function sale(client: EcrClient, cmd: 'sale', amount: number) {
  return client.call({ cmd, amount }, (m) => {
    if (m.type === 'state' && m['state'] === 'waitingForCard') void client.call({ cmd: 'sim.card', name: 'visa' });
  });
}

describe('cash drawer', () => {
  it('opens after each approved sale when configured', async () => {
    const { app, client } = await boot(true);
    expect(await sale(client, 'sale', 1200)).toMatchObject({ outcome: 'approved' });
    expect(app.mocks.printer!.drawerKicks).toBe(1);
    expect(await sale(client, 'sale', 1300)).toMatchObject({ outcome: 'approved' });
    expect(app.mocks.printer!.drawerKicks).toBe(2);
  });

  it('stays shut without the setting', async () => {
    const { app, client } = await boot();
    expect(await sale(client, 'sale', 1200)).toMatchObject({ outcome: 'approved' });
    expect(app.mocks.printer!.drawerKicks).toBe(0);
  });
});

describe('reprint', () => {
  it('prints both copies again, with the response text, as the original did', async () => {
    const { app, client } = await boot();
    const sold = await client.call({ cmd: 'sale', amount: 2350 }, (m) => {
      if (m.type === 'state' && m['state'] === 'waitingForCard') void client.call({ cmd: 'sim.card', name: 'visa' });
    });
    expect(sold).toMatchObject({ type: 'result', outcome: 'approved' });
    const printer = app.mocks.printer!;
    const original = printer.printed.slice(-2).map((d) => d.lines.map(text));
    expect(original.map((lines) => lines.find((l) => l.endsWith(' COPY')))).toEqual(['MERCHANT COPY', 'CUSTOMER COPY']);

    const before = printer.printed.length;
    expect(await client.call({ cmd: 'reprint' })).toMatchObject({
      type: 'done',
      receipt: 'printed',
      stan: sold['stan'],
    });
    const again = printer.printed.slice(before).map((d) => d.lines.map(text));
    expect(again).toHaveLength(2);
    for (const [i, copy] of ['MERCHANT COPY', 'CUSTOMER COPY'].entries()) {
      const lines = again[i]!;
      expect(lines).toContain(copy);
      expect(lines.at(-1)).toBe('*** REPRINT ***');
      const response = lines.find((l) => l.startsWith('Response: '));
      expect(response).toMatch(/^Response: 00 \S/);
      // Line for line the original, but for the print time and the REPRINT mark.
      const same = (ls: string[]) => ls.filter((l) => !l.startsWith('Date: ') && l !== '*** REPRINT ***');
      expect(same(lines)).toEqual(same(original[i]!));
    }
  });
});
