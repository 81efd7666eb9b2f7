/**
 * A host that stops answering: after host.downAfterTimeouts response timeouts in a row it is taken as down, so a
 * sale goes offline at once (within the limits) instead of waiting out its own 30 s; an answered echo brings it back
 * and what is owed drains. Host simulator on loopback, ManualClock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { healthBody } from '../../src/telemetry/messages.js';
import { until } from '../support/wait.js';
import { RESPONSE_TIMEOUT_MS, bootRig, stopAll } from './harness.js';

afterEach(stopAll);

/** Resolves with `promise`, or with 'still waiting' if it does not settle within `ms` of real time (clock stopped). */
async function withinRealMs<T>(promise: Promise<T>, ms: number): Promise<T | 'still waiting'> {
  return Promise.race([
    promise,
    new Promise<'still waiting'>((resolve) => setTimeout(() => resolve('still waiting'), ms)),
  ]);
}

describe('a host that stops answering', () => {
  it('after 3 timeouts in a row the next sale goes offline at once; an answered echo brings the host back and the queue drains', async () => {
    const rig = await bootRig();
    const downAfter = rig.config.host.downAfterTimeouts;
    expect(downAfter).toBe(3);
    rig.app.hostSim!.setBehaviour({ misbehaviour: 'silent' });

    // The first sale waits out its timeout (the host is not known down yet) and leaves a reversal owed.
    const first = rig.sale(1_000);
    await until(() => rig.received('0200').length === 1, 'sale sent');
    await rig.clock.advance(RESPONSE_TIMEOUT_MS);
    expect(await first).toMatchObject({ outcome: 'failed' });
    // The forwarder's reversal attempts time out too, until the run is long enough.
    for (let i = 0; i < 200 && !rig.app.terminal.status().hostDown; i++) {
      await rig.clock.advance(1_000);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    expect(rig.app.terminal.status().hostDown).toBe(true);
    expect(await rig.status()).toMatchObject({ hostDown: true, pendingReversals: 1 });
    expect(
      healthBody({
        status: rig.app.terminal.status(),
        booted: true,
        selfTest: undefined,
        outcomes: new Map(),
        anomalies: new Map(),
        network: undefined,
        hostRttMs: undefined,
        resources: { rssBytes: 1, heapUsedBytes: 1, cpuPercent: 0, diskFreeBytes: 1, uptimeS: 1 },
        dropped: { health: 0, other: 0 },
        outboxDepth: 0,
      }).link,
    ).toMatchObject({ hostDown: true });
    const sentBefore = rig.ledger().filter((e) => e.dir === 'in').length;

    // With the clock standing still the sale must finish: no wait for a host known not to answer.
    const startedAt = rig.clock.now();
    const second = await withinRealMs(rig.sale(1_500), 3_000);
    expect(second).toMatchObject({ outcome: 'offline-approved', responseCode: 'Y1' });
    expect(rig.clock.now() - startedAt).toBe(0);
    // Nothing was sent for it: neither a 0200 nor a reversal flushed first.
    expect(rig.ledger().filter((e) => e.dir === 'in').length).toBe(sentBefore);

    // The host answers again: the next echo (every downProbeIntervalMs) brings it back, and what is owed drains.
    rig.app.hostSim!.setBehaviour({ misbehaviour: 'none' });
    const echoesBefore = rig.received('0800').length;
    for (let i = 0; i < 100 && rig.app.terminal.status().hostDown; i++) {
      await rig.clock.advance(1_000);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    expect(rig.app.terminal.status().hostDown).toBe(false);
    expect(rig.received('0800').length).toBeGreaterThan(echoesBefore);
    for (
      let i = 0;
      i < 100 && (rig.app.journal.saf.stats().count > 0 || rig.app.journal.reversals.pending().length > 0);
      i++
    ) {
      await rig.clock.advance(1_000);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    expect(rig.app.journal.reversals.pending()).toEqual([]);
    expect(rig.app.journal.saf.stats().count).toBe(0);
    expect(rig.app.hostSim!.totals()).toMatchObject({ reversedCount: 1, adviceCount: 1, adviceAmount: 1_500 });
  });
});
