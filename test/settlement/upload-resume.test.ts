/**
 * A terminal killed in the middle of a batch upload: the host answered an upload whose progress the terminal had not
 * committed yet. After the restart (the journal reopened from its file, the host still up with its books) the upload
 * goes on where the journal says, the uncertain record goes again as a repeat (0321) the host recognises, and no
 * STAN is ever taken twice. The same with a real SIGKILL of a child process, the instant found on the wire, is
 * test/system/crash/upload-kill.test.ts; here the instant is exact (the third upload's answer taken, its commit not).
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../hal/clock.js';
import { AcquirerHostSimulator } from '../../src/acquirer-sim/simulator.js';
import { startTerminalApp, type TerminalApp } from '../../src/app/compose.js';
import type { PosConfig } from '../../src/config/index.js';
import { EcrClient } from '../../src/ecr/client.js';
import { createLogger } from '../../src/util/log.js';
import { durabilityConfig, newDataDir, stopAll } from '../durability/harness.js';
import { readLedger, reconcile } from '../support/reconcile.js';
import { until } from '../support/wait.js';
import { totalsFromLedger } from './support.js';

const running: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of running.splice(0).reverse()) await stop();
  await stopAll();
});

async function boot(config: PosConfig, clock: ManualClock): Promise<{ app: TerminalApp; client: EcrClient }> {
  const app = await startTerminalApp(config, { clock, log: createLogger('silent') });
  const client = await EcrClient.connect({ port: app.ecr.port });
  const stop = async () => {
    await client.close().catch(() => undefined);
    await app.stop();
  };
  running.push(stop);
  await until(() => app.terminal.status().hostUp, 'host link up');
  return { app, client };
}

describe('a batch upload interrupted by a crash', () => {
  it('resumes after the last committed record, repeats the uncertain one as 0321, and uploads each STAN once', async () => {
    const clock = new ManualClock();
    const dataDir = newDataDir();
    const ledgerPath = join(dataDir, 'host-ledger.jsonl');
    const sim = new AcquirerHostSimulator({ clock, keepLedger: false, ledgerPath });
    const { port } = await sim.start();
    running.push(() => sim.stop());
    const base = durabilityConfig(dataDir);
    const config: PosConfig = {
      ...base,
      host: { ...base.host, address: `127.0.0.1:${port}`, simulator: { embedded: false }, mac: 'off' },
    };

    const first = await boot(config, clock);
    const amounts = [1_000, 1_100, 1_200, 1_300, 1_400, 1_500];
    for (const amount of amounts) {
      const result = await first.client.call({ cmd: 'sale', amount }, (m) => {
        if (m.type === 'state' && m['state'] === 'waitingForCard')
          void first.client.call({ cmd: 'sim.card', name: 'visa' });
      });
      expect(result.outcome).toBe('approved');
    }
    sim.setSettlementBehaviour({ disagree: 'once' });
    // The process dies right after the host answered the third upload, before that progress is committed.
    const batches = first.app.journal.batches;
    const commit = batches.recordUploaded.bind(batches);
    let committed = 0;
    batches.recordUploaded = (number, id) => {
      if (committed === 2) throw new Error('killed');
      committed += 1;
      commit(number, id);
    };
    const crashed = await first.client.call({ cmd: 'settle' });
    expect(crashed.type).toBe('error');
    await running.splice(0).at(-1)!();
    expect(readLedger(ledgerPath).filter((e) => e.dir === 'in' && e.mti === '0320')).toHaveLength(3);

    const second = await boot(config, clock);
    const batch = second.app.journal.batches.current();
    expect(batch).toMatchObject({ state: 'uploading', uploaded: 2 });
    const reply = await second.client.call({ cmd: 'settle' });
    expect(reply).toMatchObject({ type: 'done', batchNumber: batch.number, afterUpload: true, uploaded: 4 });

    const ledger = readLedger(ledgerPath);
    const uploads = ledger.filter((e) => e.dir === 'in' && (e.mti === '0320' || e.mti === '0321'));
    // Seven messages for six transactions: the repeat of the uncertain one, which the host knew already.
    expect(uploads).toHaveLength(7);
    const repeats = uploads.filter((e) => e.mti === '0321');
    expect(repeats).toHaveLength(1);
    expect(repeats[0]!.duplicate).toBe(true);
    const taken = uploads.filter((e) => !e.duplicate).map((e) => e.stan);
    expect(new Set(taken).size).toBe(taken.length);
    const stans = second.app.journal.transactions.list().map((t) => String(t.stan).padStart(6, '0'));
    expect([...taken].sort()).toEqual([...stans].sort());
    expect(sim.batchUploads(config.terminal.id)).toBe(0); // counted per batch; the batch is closed now
    expect(sim.settlements.map((s) => s.responseCode)).toEqual(['95', '00']);
    expect(sim.settlements[1]!.terminalTotals).toMatchObject({
      debitsNumber: totalsFromLedger(ledger).debits.count,
      debitsAmount: totalsFromLedger(ledger).debits.amount,
    });
    expect(second.app.journal.batches.get(batch.number)!.state).toBe('closed');
    expect(reconcile(ledger, second.app.journal).problems).toEqual([]);
  });
});
