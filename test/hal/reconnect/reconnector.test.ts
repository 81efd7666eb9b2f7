/** The reopen-with-backoff helper on a ManualClock: attempts at hal/backoff.ts delays, one report per outage. */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../hal/clock.js';
import { type ReconnectChange, Reconnector } from '../../../hal/reconnect/reconnector.js';

/** A device that is there or not; each connect() is one attempt, recorded at its clock time. */
function fakeDevice(clock: ManualClock) {
  const device = { present: true, attemptsAt: [] as number[] };
  const changes: ReconnectChange['state'][] = [];
  const reconnector = new Reconnector({
    clock,
    policy: { initialDelayMs: 100, maxDelayMs: 800 },
    // The ceiling itself: delays are then exact.
    random: () => 1,
    connect: async () => {
      device.attemptsAt.push(clock.now());
      if (!device.present) throw new Error('ENOENT');
    },
    onChange: (change) => changes.push(change.state),
  });
  return { device, changes, reconnector };
}

describe('Reconnector', () => {
  it('reopens a device that went away with doubling delays up to the cap, reporting the outage once', async () => {
    const clock = new ManualClock();
    const { device, changes, reconnector } = fakeDevice(clock);
    const t0 = clock.now();
    await reconnector.open();
    expect(reconnector.state).toBe('connected');
    device.present = false;
    reconnector.lost(new Error('EIO'));
    expect(reconnector.state).toBe('waiting');
    await clock.advance(100 + 200 + 400 + 800 + 800);
    expect(device.attemptsAt.map((t) => t - t0)).toEqual([0, 100, 300, 700, 1500, 2300]);
    expect(changes).toEqual(['connected', 'not-connected']);
    device.present = true;
    await clock.advance(800);
    expect(reconnector.state).toBe('connected');
    expect(changes).toEqual(['connected', 'not-connected', 'connected']);
    // Connected: nothing more is tried.
    await clock.advance(10_000);
    expect(device.attemptsAt).toHaveLength(7);
  });

  it('a failed first open rejects, and the device is taken up once it appears', async () => {
    const clock = new ManualClock();
    const { device, changes, reconnector } = fakeDevice(clock);
    device.present = false;
    await expect(reconnector.open()).rejects.toThrow('ENOENT');
    expect(changes).toEqual(['not-connected']);
    device.present = true;
    await clock.advance(200);
    expect(reconnector.state).toBe('connected');
    expect(changes).toEqual(['not-connected', 'connected']);
  });

  it('open() while waiting tries at once (a self-test reopening what is closed)', async () => {
    const clock = new ManualClock();
    const { device, reconnector } = fakeDevice(clock);
    device.present = false;
    await expect(reconnector.open()).rejects.toThrow();
    device.present = true;
    await reconnector.open();
    expect(reconnector.state).toBe('connected');
    expect(device.attemptsAt).toHaveLength(2);
    expect(clock.pending()).toBe(0);
  });

  it('stop() ends the attempts, and a loss after it is ignored', async () => {
    const clock = new ManualClock();
    const { device, reconnector } = fakeDevice(clock);
    device.present = false;
    await expect(reconnector.open()).rejects.toThrow();
    reconnector.stop();
    await clock.advance(60_000);
    expect(device.attemptsAt).toHaveLength(1);
    reconnector.lost(new Error('EIO'));
    expect(reconnector.state).toBe('stopped');
    expect(clock.pending()).toBe(0);
  });
});
