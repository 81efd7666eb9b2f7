/**
 * Health at every level from every front end, on the whole terminal (mock devices, embedded host): the register's
 * `selftest` with a level, the operator's answer from a second request while the interactive check waits, and the
 * fleet's allow-listable check-health commands.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runFleetCommand } from '../../src/app/fleet-commands.js';
import { configSchema } from '../../src/config/schema.js';
import { COMMAND_NAMES, wire } from '../../src/telemetry/wire.js';
import { bootRig, stopAll } from '../durability/harness.js';
import { until } from '../support/wait.js';

afterEach(stopAll);
const telemetry = { publishHealth: () => {}, rebirth: () => {} };

describe('health levels from the register, the operator and the fleet', () => {
  it('selftest level external prints a test page and asks the reader', async () => {
    const rig = await bootRig();
    const before = rig.app.mocks.printer!.printed.length;
    const reply = await rig.client.call({ cmd: 'selftest', level: 'external' });
    expect(reply).toMatchObject({ type: 'done', cmd: 'selftest', level: 'external', status: 'ok', state: 'ready' });
    expect((reply as unknown as { checks: Array<{ component: string }> }).checks.map((c) => c.component)).toEqual([
      'printer',
      'card-reader',
    ]);
    const page = rig.app.mocks.printer!.printed.slice(before);
    expect(page).toHaveLength(1);
    expect(page[0]!.lines[0]).toMatchObject({ text: 'TEST PAGE' });
    // Without a level it is the internal self-test it always was: no paper.
    const internal = await rig.client.call({ cmd: 'selftest' });
    expect(internal).toMatchObject({ type: 'done', cmd: 'selftest' });
    expect(internal).not.toHaveProperty('checks');
    expect(rig.app.mocks.printer!.printed.length).toBe(before + 1);
  });

  it('interactive waits for the operator: the question is on the screen, the answer comes as its own request', async () => {
    const rig = await bootRig();
    const pending = rig.client.call({ cmd: 'selftest', level: 'interactive' });
    const display = rig.app.mocks.display!;
    await until(() => display.history.some((s) => s.title === 'Health check'), 'the question on the screen');
    expect(display.history.find((s) => s.title === 'Health check')?.lines[0]).toBe('Did the test page print?');
    expect(await rig.client.call({ cmd: 'selftest.answer', answer: 'no' })).toMatchObject({ type: 'done' });
    const reply = await pending;
    expect(reply).toMatchObject({ type: 'done', level: 'interactive', status: 'fault' });
    expect((reply as unknown as { checks: Array<{ component: string; code: string }> }).checks.at(-1)).toMatchObject({
      component: 'operator',
      code: 'no',
    });
    // Nothing waits now: an answer is refused, and a bad answer is a typed error.
    expect(await rig.client.call({ cmd: 'selftest.answer', answer: 'yes' })).toMatchObject({
      type: 'error',
      code: 'not-found',
    });
    expect(await rig.client.call({ cmd: 'selftest.answer', answer: 'maybe' })).toMatchObject({
      type: 'error',
      field: 'answer',
    });
    expect(await rig.client.call({ cmd: 'selftest', level: 'deep' })).toMatchObject({ type: 'error', field: 'level' });
  });

  it('the fleet runs the external check (wire command 6), allow-listable', async () => {
    const rig = await bootRig();
    const result = await runFleetCommand(rig.app.commands, 'check-health-external', telemetry);
    expect(result.ok).toBe(true);
    expect(result.error).toBe(wire.CommandError.COMMAND_ERROR_NONE);
    expect(result.message).toMatch(/^external health ok: printer ok \(test page printed.*card-reader ok/);
    rig.app.mocks.printer!.inject({ op: 'print', code: 'paper-out' });
    const faulty = await runFleetCommand(rig.app.commands, 'check-health-external', telemetry);
    expect(faulty).toMatchObject({ ok: false, error: wire.CommandError.COMMAND_ERROR_FAILED });
    expect(faulty.message).toContain('printer fault');
    expect(COMMAND_NAMES['check-health-external']).toBe(6);
    expect(COMMAND_NAMES['check-health-interactive']).toBe(7);
    expect(configSchema.shape.mqtt.shape.commands.safeParse(['check-health-external']).success).toBe(true);
  });
});
