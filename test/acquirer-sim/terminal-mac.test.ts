/**
 * A whole terminal (mocks, embedded host simulator, MAC required as by default) told by the simulator to get the MAC
 * wrong: a wrong MAC on an approved 0210 is not honoured (the sale is not approved and is reversed, so the host's
 * books end with nothing owed, with its own anomaly); a wrong check value at sign-on leaves the terminal without a key
 * and no sale goes out.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LedgerEntry } from '../../src/acquirer-sim/simulator.js';
import type { TerminalApp } from '../../src/app/compose.js';
import { TerminalKeys } from '../../src/app/terminal-keys.js';
import { CardVault } from '../../src/durability/card-vault.js';
import { EcrClient, type EcrMessage } from '../../src/ecr/client.js';
import { bootApp } from '../app/boot.js';
import { until } from '../support/wait.js';

async function sale(port: number, amount: number): Promise<EcrMessage> {
  const client = await EcrClient.connect({ port });
  try {
    return await client.call({ cmd: 'sale', amount }, (m) => {
      if (m.type === 'state' && m['state'] === 'waitingForCard') void client.call({ cmd: 'sim.card', name: 'visa' });
    });
  } finally {
    await client.close();
  }
}

async function start(): Promise<{ app: TerminalApp; ledger: () => LedgerEntry[] }> {
  const app = await bootApp([], { hostLedgerPath: (dir) => join(dir, 'host-ledger.jsonl') });
  const path = join(app.config.dataDir, 'host-ledger.jsonl');
  const ledger = () =>
    existsSync(path)
      ? readFileSync(path, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as LedgerEntry)
      : [];
  await until(() => ledger().some((e) => e.dir === 'out' && e.mti === '0810'), 'sign-on answered');
  return { app, ledger };
}

describe('a terminal whose host gets the MAC wrong', () => {
  it('signs on at boot and MACs a sale the host approves', async () => {
    const { app } = await start();
    const sim = app.hostSim!;
    expect(app.config.host.mac).toBe('required');
    expect(await sale(app.ecr.port, 1200)).toMatchObject({ outcome: 'approved', responseCode: '00' });
    expect(sim.totals().netAmount).toBe(1200);
    expect(app.journal.terminalKeys.get('tmk')?.origin).toBe('test');
    expect(app.journal.terminalKeys.get('mac')?.origin).toBe('sign-on');
    // The keys are in the journal only sealed: neither key's bytes are in its files.
    const vault = CardVault.open(join(app.config.dataDir, app.config.offline.keyFile));
    const keys = new TerminalKeys(app.journal, vault);
    const clear = [keys.masterKey(), keys.sessionKey()];
    app.journal.checkpoint();
    const files = ['journal.sqlite', 'journal.sqlite-wal']
      .map((f) => join(app.config.dataDir, f))
      .filter((f) => existsSync(f))
      .map((f) => readFileSync(f));
    for (const key of clear) {
      expect(key).toHaveLength(16);
      for (const file of files) expect(file.includes(key!)).toBe(false);
    }
  });

  it('a wrong MAC on an approved 0210: not approved, reversed, nothing owed at the host, anomaly E611', async () => {
    const { app, ledger } = await start();
    const sim = app.hostSim!;
    sim.macFaultOnce({ mti: '0210', fault: 'wrong-mac' });
    const result = await sale(app.ecr.port, 1500);
    expect(result['outcome']).not.toBe('approved');
    expect(ledger().find((e) => e.dir === 'out' && e.mti === '0210')?.responseCode).toBe('00');
    // The host approved it; the terminal did not honour the answer and reverses it (after a new sign-on).
    await until(() => sim.totals().reversedCount === 1, 'the reversal acknowledged', 10_000);
    expect(sim.totals().netAmount).toBe(0);
    await until(() => app.journal.reversals.pending().length === 0, 'the reversal settled in the journal');
    expect(app.journal.anomalies.list().some((a) => a.code === 'E611')).toBe(true);
  });

  it('a wrong check value at sign-on: no key, the sale is not sent (E612)', async () => {
    const { app, ledger } = await start();
    const sim = app.hostSim!;
    sim.setBehaviour({ macFault: 'wrong-check-value' });
    // A 63 tells the terminal its key is no longer taken: it signs on again and gets a key it must refuse.
    sim.answerOnce({ mti: '0210', responseCode: '63' });
    await sale(app.ecr.port, 700);
    await until(() => ledger().filter((e) => e.dir === 'out' && e.mti === '0810').length >= 2, 'second sign-on');
    const before = ledger().filter((e) => e.dir === 'in' && e.mti === '0200').length;
    const refused = await sale(app.ecr.port, 800);
    expect(refused['outcome']).not.toBe('approved');
    expect(ledger().filter((e) => e.dir === 'in' && e.mti === '0200')).toHaveLength(before);
    expect(sim.totals().netAmount).toBe(0);
    expect(
      app.journal.anomalies
        .list()
        .some((a) => a.code === 'E612' && /check value/.test(JSON.stringify(a.detail) + a.message)),
    ).toBe(true);
  });
});
