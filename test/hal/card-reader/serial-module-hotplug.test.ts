/**
 * Hot plug of the serial card module on real pseudo-terminals: the far end is killed (socat SIGKILLed, both ttys
 * gone) and started again on the same path; the driver notices, reports 'not-connected', reopens with backoff on its
 * ManualClock and works again with no new driver and no restart. Tamper clears on the same open port.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../hal/clock.js';
import type { DeviceHealth } from '../../../hal/reconnect/health.js';
import { SerialCardModule } from '../../../hal/card-reader/serial-module.js';
import { CardModuleEmulator } from '../../support/card-module-emulator.js';
import { openSerialPair, type SerialPair } from '../../support/pty.js';
import { until } from '../../support/wait.js';
import { expectFault, track } from '../expect-fault.js';

const BAUD = 115200;

let pair: SerialPair;
let clock: ManualClock;
let emulator: CardModuleEmulator;
let reader: SerialCardModule;
let health: DeviceHealth[];

async function startEmulator(): Promise<CardModuleEmulator> {
  return CardModuleEmulator.start(pair.openPort(pair.b, BAUD), { clock: new ManualClock(), serial: 'CM-0042' });
}

/** Moves the driver's clock in steps, with real time between them for the ttys, until `done` holds. */
async function runClockUntil(done: () => boolean, what: string, stepMs = 100, maxSteps = 200): Promise<void> {
  for (let i = 0; i < maxSteps && !done(); i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    await clock.advance(stepMs);
  }
  expect(done(), what).toBe(true);
}

describe.skipIf(process.env.POS_SERIAL_MOCK === '1')('SerialCardModule hot plug (socat)', () => {
  beforeEach(async () => {
    pair = await openSerialPair();
    clock = new ManualClock();
    emulator = await startEmulator();
    reader = new SerialCardModule({
      path: pair.a,
      baudRate: BAUD,
      clock,
      reconnect: { initialDelayMs: 200, maxDelayMs: 1_000 },
    });
    health = [];
    reader.on('health', (h) => health.push(h));
    await reader.open();
    await until(() => emulator.idle, 'emulator idle');
    // The first open reports the module 'ok'; the tests look at what follows.
    expect(health).toEqual([{ device: 'card-reader', state: 'ok' }]);
    health = [];
  });

  afterEach(async () => {
    await reader.close();
    await emulator.close();
    await pair.close();
  });

  it('unplugged: pending calls fail not-connected and it is reported; replugged: reopened with backoff and reads again', {
    timeout: 30_000,
  }, async () => {
    const wait = track(reader.waitForCard({ timeoutMs: 60_000 }));
    await until(() => emulator.commands.some((c) => c.cmd === 'WAIT_CARD'), 'WAIT_CARD');
    await pair.unplug!();
    await emulator.close();
    await expectFault(wait.promise, 'card-reader', 'not-connected');
    await until(() => health.length > 0, 'health event');
    expect(health).toEqual([
      expect.objectContaining({ device: 'card-reader', state: 'not-connected', code: 'not-connected' }),
    ]);
    expect(reader.opened).toBe(false);
    await expectFault(reader.info(), 'card-reader', 'not-connected');

    // Away for a while: attempts fail on the missing path, and the outage is reported once, not per attempt.
    await clock.advance(5_000);
    expect(reader.opened).toBe(false);
    expect(health).toHaveLength(1);

    await pair.replug!();
    emulator = await startEmulator();
    await runClockUntil(() => reader.opened, 'reopened');
    await until(() => health.length === 2, 'health ok');
    expect(health[1]).toEqual({ device: 'card-reader', state: 'ok' });
    expect(await reader.info()).toMatchObject({ model: 'EMU-CM1', serial: 'CM-0042' });

    const next = reader.waitForCard({ timeoutMs: 60_000 });
    await until(() => emulator.commands.some((c) => c.cmd === 'WAIT_CARD'), 'WAIT_CARD after replug');
    emulator.present({ entryMode: 'chip', pan: '4761739001010010', expiry: '2812', serviceCode: '201' });
    expect(await next).toEqual({ entryMode: 'chip' });
    expect(await reader.read()).toMatchObject({ pan: '4761739001010010', entryMode: 'chip' });
  });

  it('a module absent at open is taken up when it appears', { timeout: 30_000 }, async () => {
    await reader.close();
    await pair.unplug!();
    await emulator.close();
    health = [];
    await expectFault(reader.open(), 'card-reader', 'not-connected');
    expect(health.map((h) => h.state)).toEqual(['not-connected']);
    await pair.replug!();
    emulator = await startEmulator();
    await runClockUntil(() => reader.opened, 'opened once plugged in');
    await until(() => health.length === 2, 'health ok');
    expect(health.map((h) => h.state)).toEqual(['not-connected', 'ok']);
  });

  it('close() stops the reopening: a closed reader stays closed when the module returns', {
    timeout: 30_000,
  }, async () => {
    await pair.unplug!();
    await emulator.close();
    await until(() => health.length === 1, 'health event');
    await reader.close();
    await pair.replug!();
    emulator = await startEmulator();
    await clock.advance(10_000);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(reader.opened).toBe(false);
    expect(emulator.commands).toEqual([]);
  });

  it('tamper clears on the same open port once the module stops reporting it', { timeout: 30_000 }, async () => {
    const events: string[] = [];
    reader.on('tamper', () => events.push('tamper'));
    reader.on('tamper-cleared', () => events.push('cleared'));
    emulator.tamper('case opened');
    await until(() => events.length === 1, 'tamper event');
    await expectFault(reader.info(), 'card-reader', 'tamper');
    await expectFault(reader.read(), 'card-reader', 'tamper');
    emulator.clearTamper();
    // INFO is asked even while tampered: its answer clears it, and the port was never closed.
    expect(await reader.info()).toMatchObject({ model: 'EMU-CM1' });
    expect(events).toEqual(['tamper', 'cleared']);
    expect(reader.opened).toBe(true);
    expect(health).toEqual([]);
    const wait = reader.waitForCard({ timeoutMs: 60_000 });
    await until(() => emulator.commands.some((c) => c.cmd === 'WAIT_CARD'), 'WAIT_CARD');
    emulator.present({ entryMode: 'contactless', pan: '4761739001010010', expiry: '2812' });
    expect(await wait).toEqual({ entryMode: 'contactless' });
  });

  it('TAMPER_CLEARED from the module clears it without a command', { timeout: 30_000 }, async () => {
    const events: string[] = [];
    reader.on('tamper', () => events.push('tamper'));
    reader.on('tamper-cleared', () => events.push('cleared'));
    emulator.tamper('drill mesh');
    await until(() => events.length === 1, 'tamper');
    emulator.clearTamper(true);
    await until(() => events.length === 2, 'cleared');
    expect((await reader.info()).serial).toBe('CM-0042');
  });
});
