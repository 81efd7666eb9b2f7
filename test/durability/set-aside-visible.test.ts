/**
 * What the host refused for good is never silently dropped: a reversal set aside (money the cardholder may be owed)
 * and an advice set aside (money not collected) show in the terminal's status, the cash register's status and the
 * health telemetry, with counts and amounts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { healthBody } from '../../src/telemetry/messages.js';
import { wire } from '../../src/telemetry/wire.js';
import { until } from '../support/wait.js';
import { AMOUNT, RESPONSE_TIMEOUT_MS, bootRig, stopAll } from './harness.js';

afterEach(stopAll);

describe('set aside, and shown', () => {
  it('a reversal set aside counts in status, ECR status and Health; it is still owed (pending), no longer sent', async () => {
    const rig = await bootRig();
    expect(rig.app.terminal.status().setAside).toEqual({
      reversals: { count: 0, total: 0 },
      advices: { count: 0, total: 0 },
    });
    rig.app.hostSim!.setBehaviour({ misbehaviour: 'silent' });
    const sale = rig.sale(AMOUNT.silent);
    await until(() => rig.received('0200').length === 1, 'sale sent');
    await rig.clock.advance(RESPONSE_TIMEOUT_MS);
    const failed = await sale;
    const reversal = rig.app.journal.reversals.forTransaction(failed['txnRef'] as string)!;
    expect(reversal.state).toBe('pending');
    // What the forwarder does on a 0410 answered 30 (format error), tested against every code in forwarder-answers.
    rig.app.journal.reversals.setAside(reversal.id, '30', 'reversal refused (host answered 30)');

    const status = rig.app.terminal.status();
    expect(status).toMatchObject({
      pendingReversals: 0,
      setAside: { reversals: { count: 1, total: AMOUNT.silent }, advices: { count: 0, total: 0 } },
    });
    expect(await rig.status()).toMatchObject({
      setAside: { reversals: { count: 1, total: AMOUNT.silent } },
      journal: { pendingReversals: 1 },
    });

    const body = healthBody({
      status,
      booted: true,
      selfTest: undefined,
      outcomes: new Map(),
      anomalies: new Map(),
      network: undefined,
      hostRttMs: undefined,
      resources: { rssBytes: 1, heapUsedBytes: 1, cpuPercent: 0, diskFreeBytes: 1, uptimeS: 1 },
      dropped: { health: 0, other: 0 },
      outboxDepth: 0,
    });
    const decoded = wire.Health.toObject(
      wire.Health.decode(wire.Health.encode(wire.Health.fromObject(body)).finish()),
      { longs: Number },
    );
    expect(decoded).toMatchObject({ reversalsSetAside: 1, reversalsSetAsideMinor: AMOUNT.silent });
    expect(decoded['advicesSetAside'] ?? 0).toBe(0);
  });
});
