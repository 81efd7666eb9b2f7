import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../hal/clock.js';
import { startTerminalApp } from '../../src/app/compose.js';
import { EcrClient } from '../../src/ecr/client.js';
import { AutoSettlement, msUntilLocalTime } from '../../src/settlement/auto.js';
import { createLogger } from '../../src/util/log.js';
import { bootRig, durabilityConfig, hostDown, newDataDir, stopAll } from '../durability/harness.js';
import { until } from '../support/wait.js';
import { settle, totalsFromLedger, withClockRunning } from './support.js';

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
  await stopAll();
});

const local = (ms: number) => {
  const d = new Date(ms);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
};

describe('when settlement runs', () => {
  it('the next local HH:MM: later today, or tomorrow once it has passed', () => {
    const now = new Date(2026, 4, 1, 21, 30, 15).getTime();
    expect(msUntilLocalTime(now, '22:00')).toBe(29 * 60_000 + 45_000);
    expect(msUntilLocalTime(now, '21:30')).toBe(24 * 3_600_000 - 15_000);
    expect(msUntilLocalTime(now, '06:00')).toBe(8 * 3_600_000 + 29 * 60_000 + 45_000);
    expect(() => msUntilLocalTime(now, '7:00')).toThrow(RangeError);
  });

  it('AutoSettlement runs at the time every day on the Clock', async () => {
    const clock = new ManualClock(new Date(2026, 4, 1, 21, 0).getTime());
    const runs: number[] = [];
    const auto = new AutoSettlement(clock, '22:00', async () => {
      runs.push(clock.now());
    });
    auto.start();
    await clock.advance(60 * 60_000 - 1);
    expect(runs).toHaveLength(0);
    await clock.advance(1);
    await clock.advance(24 * 3_600_000);
    auto.stop();
    await clock.advance(48 * 3_600_000);
    expect(runs).toEqual([new Date(2026, 4, 1, 22, 0).getTime(), new Date(2026, 4, 2, 22, 0).getTime()]);
  });

  it('settlement.autoAt: the terminal settles by itself at that local time, and the host agrees', async () => {
    const clock = new ManualClock();
    const dataDir = newDataDir();
    const base = durabilityConfig(dataDir);
    const config = { ...base, settlement: { ...base.settlement, autoAt: local(clock.now() + 10 * 60_000) } };
    const app = await startTerminalApp(config, { clock, log: createLogger('silent') });
    const client = await EcrClient.connect({ port: app.ecr.port });
    stops.push(async () => {
      await client.close();
      await app.stop();
    });
    await until(() => app.terminal.status().hostUp, 'host link up');
    const sale = await client.call({ cmd: 'sale', amount: 3_300 }, (m) => {
      if (m.type === 'state' && m['state'] === 'waitingForCard') void client.call({ cmd: 'sim.card', name: 'visa' });
    });
    expect(sale.outcome).toBe('approved');
    const batch = app.journal.batches.current().number;
    await clock.advance(9 * 60_000);
    expect(app.journal.batches.get(batch)!.state).toBe('open');
    await clock.advance(60_000);
    await until(() => app.journal.batches.get(batch)!.state === 'closed', 'batch closed by the daily run');
    expect(app.hostSim!.settlements).toHaveLength(1);
    expect(app.hostSim!.settlements[0]).toMatchObject({
      responseCode: '00',
      terminalTotals: { debitsNumber: 1, debitsAmount: 3_300 },
    });
  });

  it('refuses a sale (busy) while a settlement runs, and a second settlement too', async () => {
    const rig = await bootRig();
    expect((await rig.sale(1_000)).outcome).toBe('approved');
    expect(totalsFromLedger(rig.ledger()).debits.count).toBe(1);
    await hostDown(rig);
    // No host: the 0500 cannot leave and the settlement pauses on the Clock between its tries.
    const running = settle(rig);
    await until(() => rig.app.journal.batches.current().state === 'settling', 'settlement under way');
    const sale = await rig.client.call({ cmd: 'sale', amount: 500 });
    expect(sale).toMatchObject({ type: 'error', code: 'busy' });
    expect(await settle(rig)).toMatchObject({ type: 'error', code: 'busy' });
    const reply = await withClockRunning(rig, running, 10_000);
    expect(reply).toMatchObject({ type: 'error', code: 'host-unavailable' });
    expect(String(reply['message'])).toContain('host not answering');
    // Done: sales are taken again (offline, the host being away), in the same batch.
    expect((await rig.sale(600)).outcome).toBe('offline-approved');
  });
});
