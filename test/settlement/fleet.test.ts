/** `settle` from the fleet: the command as the fleet adapter runs it on the command service, and its allow-list. */
import { afterEach, describe, expect, it } from 'vitest';
import { runFleetCommand } from '../../src/app/fleet-commands.js';
import { configSchema } from '../../src/config/schema.js';
import { COMMAND_NAMES, wire } from '../../src/telemetry/wire.js';
import { bootRig, stopAll } from '../durability/harness.js';

afterEach(stopAll);

const telemetry = { publishHealth: () => {}, rebirth: () => {} };

describe('settle from the fleet', () => {
  it('settles the open batch and answers which batch closed; the host agreed', async () => {
    const rig = await bootRig();
    expect((await rig.sale(2_200)).outcome).toBe('approved');
    const batch = rig.app.journal.batches.current().number;
    const result = await runFleetCommand(rig.app.commands, 'settle', telemetry);
    expect(result).toEqual({
      ok: true,
      error: wire.CommandError.COMMAND_ERROR_NONE,
      message: `batch ${batch} settled`,
    });
    expect(rig.app.hostSim!.settlements.at(-1)).toMatchObject({
      responseCode: '00',
      terminalTotals: { debitsNumber: 1, debitsAmount: 2_200 },
    });
  });

  it('is a wire command name the allow-list may hold (it is not on it by default)', () => {
    expect(COMMAND_NAMES.settle).toBe(wire.CommandName.COMMAND_NAME_SETTLE);
    const mqtt = configSchema.shape.mqtt;
    expect(mqtt.shape.commands.safeParse(['settle']).success).toBe(true);
  });
});
