/**
 * Hot plug of the serial PIN pad on real pseudo-terminals: socat is killed (both ttys gone) and started again on the
 * same path; the driver reports 'not-connected', reopens with backoff on its ManualClock and takes a PIN again,
 * with no new driver. Tamper clears on the same open port once the pad stops reporting it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../hal/clock.js';
import { deriveTdesIpek } from '../../../hal/crypto/index.js';
import { SerialPinPad } from '../../../hal/pin-pad/serial.js';
import type { DeviceHealth } from '../../../hal/reconnect/health.js';
import { PinPadEmulator } from '../../support/pin-pad-emulator.js';
import { openSerialPair, type SerialPair } from '../../support/pty.js';
import { until } from '../../support/wait.js';
import { expectFault, track } from '../expect-fault.js';
import { request, TDES_BDK, TDES_KSN } from './pin-fixtures.js';

const BAUD = 115200;

let pair: SerialPair;
let clock: ManualClock;
let padClock: ManualClock;
let emulator: PinPadEmulator;
let pad: SerialPinPad;
let health: DeviceHealth[];

async function startEmulator(): Promise<PinPadEmulator> {
  padClock = new ManualClock();
  return PinPadEmulator.start(pair.openPort(pair.b, BAUD), { clock: padClock, serial: 'PP-0042' });
}

async function runClockUntil(done: () => boolean, what: string, stepMs = 100, maxSteps = 200): Promise<void> {
  for (let i = 0; i < maxSteps && !done(); i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    await clock.advance(stepMs);
  }
  expect(done(), what).toBe(true);
}

describe.skipIf(process.env.POS_SERIAL_MOCK === '1')('SerialPinPad hot plug (socat)', () => {
  beforeEach(async () => {
    pair = await openSerialPair();
    clock = new ManualClock();
    emulator = await startEmulator();
    pad = new SerialPinPad({
      path: pair.a,
      baudRate: BAUD,
      clock,
      reconnect: { initialDelayMs: 200, maxDelayMs: 1_000 },
    });
    health = [];
    pad.on('health', (h) => health.push(h));
    await pad.open();
    await until(() => emulator.idle, 'emulator idle');
    expect(health).toEqual([{ device: 'pin-pad', state: 'ok' }]);
    health = [];
  });

  afterEach(async () => {
    await pad.close();
    await emulator.close();
    await pair.close();
  });

  // Retried: on a loaded machine the killed socat's end of the pty is sometimes not seen in time (a real pty race,
  // found once in CI, not yet explained); three failures in a row still fail the test.
  it('unplugged mid-prompt: the request fails not-connected; replugged: reopened and a PIN is taken', {
    timeout: 30_000,
    retry: 2,
  }, async () => {
    await pad.loadKey({ scheme: 'tdes-dukpt', initialKey: deriveTdesIpek(TDES_BDK, TDES_KSN), initialKsn: TDES_KSN });
    const asking = track(pad.requestPin(request()));
    await until(() => emulator.prompting, 'PIN prompt');
    await pair.unplug!();
    await emulator.close();
    await expectFault(asking.promise, 'pin-pad', 'not-connected');
    await until(() => health.length === 1, 'health event');
    expect(health[0]).toMatchObject({ device: 'pin-pad', state: 'not-connected', code: 'not-connected' });
    await clock.advance(5_000);
    expect(health).toHaveLength(1);

    await pair.replug!();
    emulator = await startEmulator();
    await runClockUntil(() => health.length === 2, 'reopened');
    expect(health[1]).toEqual({ device: 'pin-pad', state: 'ok' });
    // A new pad answers on the same path: load its key and take a PIN.
    await pad.loadKey({ scheme: 'tdes-dukpt', initialKey: deriveTdesIpek(TDES_BDK, TDES_KSN), initialKsn: TDES_KSN });
    const again = pad.requestPin(request());
    await until(() => emulator.prompting, 'PIN prompt after replug');
    expect(emulator.enter('1234')).toBe(true);
    const result = await again;
    expect(result.pinBlock).toHaveLength(8);
    expect(result.format).toBe(0);
  });

  it('tamper clears on the same open port once INFO no longer reports it', { timeout: 30_000 }, async () => {
    const events: string[] = [];
    pad.on('tamper', () => events.push('tamper'));
    pad.on('tamper-cleared', () => events.push('cleared'));
    emulator.tamper('case opened');
    await until(() => events.length === 1, 'tamper');
    await expectFault(pad.info(), 'pin-pad', 'tamper');
    emulator.clearTamper();
    expect((await pad.info()).serial).toBe('PP-0042');
    expect(events).toEqual(['tamper', 'cleared']);
    expect(health).toEqual([]);
  });
});
