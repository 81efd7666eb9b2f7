/**
 * Commands only from the fleet: a forged or missing signature, another addressee, a replayed command id, a stale
 * issued_at and a retained command are refused with their typed error and journaled, and never run; a repeated id
 * gets the first result; the ids outlive a restart. Through a real broker, times on the simulated clock.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../hal/clock.js';
import { FLEET_COMMAND_REFUSED } from '../../src/telemetry/command-intake.js';
import { CommandMemory } from '../../src/telemetry/command-memory.js';
import { wire } from '../../src/telemetry/wire.js';
import { createLogger } from '../../src/util/log.js';
import { until } from '../support/wait.js';
import {
  Consumer,
  makeRig,
  signedCommand,
  startTestBroker,
  TERMINAL_ID,
  topicFilter,
  type Rig,
  type TestBroker,
} from './harness.js';

const { CommandName } = wire;

describe.each(['mosquitto', 'aedes'] as const)('fleet commands through %s', (brokerKind) => {
  let broker: TestBroker;
  const rigs: Rig[] = [];
  const consumers: Consumer[] = [];
  beforeAll(async () => {
    broker = await startTestBroker(brokerKind);
  });
  afterEach(async () => {
    for (const c of consumers.splice(0)) await c.close();
    for (const r of rigs.splice(0)) await r.close();
  });
  afterAll(async () => {
    await broker.close();
  });

  async function setup(beforeStart?: (rig: Rig, consumer: Consumer) => Promise<void>) {
    const rig = makeRig(broker.url);
    rigs.push(rig);
    const consumer = await Consumer.connect(broker.url, topicFilter(rig));
    consumers.push(consumer);
    await beforeStart?.(rig, consumer);
    rig.publisher.start();
    await until(() => consumer.of('health').length >= 1, 'first health');
    const cmdTopic = `pos/v1/${rig.fleet}/${TERMINAL_ID}/cmd`;
    const send = (payload: Uint8Array) => consumer.publish(cmdTopic, payload);
    const results = (id: string) => consumer.of('cmd-result').filter((r) => r.message['commandId'] === id);
    const result = async (id: string, n = 1) => {
      await until(() => results(id).length >= n, `result ${n} of ${id}`);
      return results(id)[n - 1]!.message;
    };
    return { rig, consumer, cmdTopic, send, result, results };
  }

  const selfTest = { name: CommandName.COMMAND_NAME_RUN_SELF_TEST };

  it('runs a signed command and refuses a forged, an unsigned and a misaddressed one without running them', async () => {
    const { rig, send, result } = await setup();
    await send(signedCommand(rig, { commandId: 'good', ...selfTest }));
    expect(await result('good')).toMatchObject({ ok: true });
    expect(rig.terminal.selfTests).toBe(1);

    const otherKey = Buffer.from('a key that is not the fleet key, but long enough');
    await send(signedCommand(rig, { commandId: 'forged', ...selfTest }, otherKey));
    expect(await result('forged')).toMatchObject({ ok: false, error: 'COMMAND_ERROR_UNAUTHENTICATED' });
    await send(wire.Command.encode({ commandId: 'unsigned', ...selfTest, issuedAtMs: rig.clock.now() }).finish());
    expect(await result('unsigned')).toMatchObject({ ok: false, error: 'COMMAND_ERROR_UNAUTHENTICATED' });
    // Signed by the fleet, but for another terminal: replaying it here fails.
    await send(signedCommand(rig, { commandId: 'elsewhere', ...selfTest, terminalId: 'OTHER001' }));
    expect(await result('elsewhere')).toMatchObject({ ok: false, error: 'COMMAND_ERROR_UNAUTHENTICATED' });
    // A valid signature over other bytes: the name changed after signing.
    const signed = wire.Command.decode(signedCommand(rig, { commandId: 'tampered', ...selfTest }));
    signed.name = CommandName.COMMAND_NAME_REBIRTH;
    await send(wire.Command.encode(signed).finish());
    expect(await result('tampered')).toMatchObject({ ok: false, error: 'COMMAND_ERROR_UNAUTHENTICATED' });

    expect(rig.terminal.selfTests).toBe(1);
    const refused = rig.journal.anomalies.list().filter((a) => a.code === 'E510');
    expect(refused).toHaveLength(4);
  });

  it('runs a command id once: the replay is answered DUPLICATE with the first result', async () => {
    const { rig, send, result } = await setup();
    const payload = signedCommand(rig, { commandId: 'once', ...selfTest });
    await send(payload);
    const first = await result('once');
    expect(first).toMatchObject({ ok: true });
    await send(payload);
    const second = await result('once', 2);
    expect(second).toMatchObject({ ok: false, error: 'COMMAND_ERROR_DUPLICATE' });
    expect(second['message']).toContain(String(first['message']));
    expect(rig.terminal.selfTests).toBe(1);
  });

  it('refuses an issued_at older (or further ahead) than the allowed age', async () => {
    const { rig, send, result } = await setup();
    await send(signedCommand(rig, { commandId: 'old', ...selfTest, issuedAtMs: rig.clock.now() - 5 * 60_000 - 1 }));
    expect(await result('old')).toMatchObject({ ok: false, error: 'COMMAND_ERROR_STALE' });
    await send(signedCommand(rig, { commandId: 'ahead', ...selfTest, issuedAtMs: rig.clock.now() + 10 * 60_000 }));
    expect(await result('ahead')).toMatchObject({ ok: false, error: 'COMMAND_ERROR_STALE' });
    await send(signedCommand(rig, { commandId: 'recent', ...selfTest, issuedAtMs: rig.clock.now() - 4 * 60_000 }));
    expect(await result('recent')).toMatchObject({ ok: true });
    expect(rig.terminal.selfTests).toBe(1);
  });

  it('ignores a retained command: refused RETAINED on every connection, never run', async () => {
    let cmdTopic = '';
    const { rig, consumer, result } = await setup(async (r, c) => {
      cmdTopic = `pos/v1/${r.fleet}/${TERMINAL_ID}/cmd`;
      // Valid in every other way, left retained on the broker before the terminal connects.
      await c.publish(cmdTopic, signedCommand(r, { commandId: 'sticky', ...selfTest }), { retain: true });
    });
    try {
      expect(await result('sticky')).toMatchObject({ ok: false, error: 'COMMAND_ERROR_RETAINED' });
      expect(rig.terminal.selfTests).toBe(0);
    } finally {
      await consumer.publish(cmdTopic, Buffer.alloc(0), { retain: true });
    }
  });

  it('five refused commands are journaled as refusals the lockout does not count', async () => {
    const { rig, send, result } = await setup();
    for (let i = 1; i <= 5; i++) {
      await send(wire.Command.encode({ commandId: `bad-${i}`, ...selfTest }).finish());
      await result(`bad-${i}`);
    }
    const refusals = rig.journal.anomalies.list().filter((a) => a.code === 'E510');
    expect(refusals).toHaveLength(5);
    const raised: unknown[] = [];
    rig.anomalies.onAnomaly((a) => raised.push(a.context.detail?.[FLEET_COMMAND_REFUSED]));
    await send(signedCommand(rig, { commandId: 'bad-6', ...selfTest }, Buffer.from('x'.repeat(40))));
    await result('bad-6');
    expect(raised).toEqual([true]);
  });
});

describe('command ids kept across a restart', () => {
  it('remembers ids and first results in its file, forgets them after twice the allowed age', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'command-ids-'));
    try {
      const clock = new ManualClock(1_000_000);
      const file = join(dir, 'ids.json');
      const log = createLogger('silent');
      const before = new CommandMemory({ file, keepMs: 600_000, clock, log });
      before.begin('c-1');
      before.finish('c-1', { ok: true, error: 0, message: 'self-test done' });
      before.begin('c-2'); // crashed while running: still remembered
      const after = new CommandMemory({ file, keepMs: 600_000, clock, log });
      expect(after.recall('c-1')).toEqual({ seen: true, outcome: { ok: true, error: 0, message: 'self-test done' } });
      expect(after.recall('c-2')).toEqual({ seen: true, outcome: null });
      expect(after.recall('c-3')).toEqual({ seen: false });
      await clock.advance(600_001);
      expect(after.recall('c-1')).toEqual({ seen: false });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
