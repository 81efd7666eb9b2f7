/**
 * Hot plug of the HID magstripe reader, with node-hid faked at its module boundary (the driver's own default opener
 * runs): the device errors (unplugged), the reader reports 'not-connected', `new HID()` throws while it is away as
 * node-hid does ("cannot open device"), and once it is back the reader reopens with backoff on the ManualClock and
 * reads the next swipe. Also: the USB interface and the report ID from the configuration.
 */
import type { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../../hal/clock.js';
import { HidMsrReader } from '../../../hal/card-reader/hid-msr.js';
import type { DeviceHealth } from '../../../hal/reconnect/health.js';
import { typedReports } from '../../support/hid-typing.js';
import { expectFault, track } from '../expect-fault.js';

interface FakeDeviceEntry {
  vendorId: number;
  productId: number;
  interface: number;
  path: string;
  release: number;
}

/** What is plugged in, as node-hid would enumerate it, and every handle it opened. */
const usb = vi.hoisted(() => ({
  devices: [] as FakeDeviceEntry[],
  handles: [] as Array<{ target: string; emitter: import('node:events').EventEmitter; closed: boolean }>,
}));

vi.mock('node-hid', async () => {
  const { EventEmitter: Emitter } = await import('node:events');
  class HID extends Emitter {
    closed = false;
    constructor(vidOrPath: number | string, pid?: number) {
      super();
      const found = usb.devices.find((d) =>
        typeof vidOrPath === 'string' ? d.path === vidOrPath : d.vendorId === vidOrPath && d.productId === pid,
      );
      // node-hid's own words when the device is not there.
      if (!found) throw new TypeError(`cannot open device with vendor id 0x${Number(vidOrPath).toString(16)}`);
      usb.handles.push({ target: found.path, emitter: this, closed: false });
    }
    close(): void {
      const handle = usb.handles.find((h) => h.emitter === this);
      if (handle) handle.closed = true;
    }
    getDeviceInfo() {
      return { release: 0x0102, serialNumber: 'MSR-77' };
    }
  }
  const devicesAsync = async (vid: number, pid: number) =>
    usb.devices.filter((d) => d.vendorId === vid && d.productId === pid);
  return { HID, devicesAsync, default: { HID, devicesAsync } };
});

const VID = 0x0801;
const PID = 0x0002;
const PAN = '4111111111111111';
const SWIPE = `%B${PAN}^DOE/JOHN^3012101000000000000000000?;${PAN}=30121010000000000000?\r`;

function plugIn(): void {
  usb.devices = [
    { vendorId: VID, productId: PID, interface: 0, path: '/dev/hidraw3', release: 0x0102 },
    { vendorId: VID, productId: PID, interface: 1, path: '/dev/hidraw4', release: 0x0102 },
  ];
}

function unplug(): void {
  usb.devices = [];
  // node-hid's read thread fails on a vanished hidraw node and emits 'error' on the open handle.
  for (const h of usb.handles.filter((x) => !x.closed))
    h.emitter.emit('error', new Error('could not read from HID device'));
}

function current(): EventEmitter {
  const open = usb.handles.filter((h) => !h.closed);
  expect(open).toHaveLength(1);
  return open[0]!.emitter;
}

let clock: ManualClock;
let health: DeviceHealth[];

async function swipe(device: EventEmitter, text: string, prefix?: number): Promise<void> {
  for (const report of typedReports(text, prefix === undefined ? {} : { reportId: prefix })) {
    device.emit('data', Buffer.from(report));
    await clock.advance(1);
  }
  await clock.advance(300);
}

beforeEach(() => {
  clock = new ManualClock(Date.UTC(2026, 0, 1));
  health = [];
  usb.handles = [];
  plugIn();
});

afterEach(() => {
  usb.devices = [];
});

describe('HidMsrReader hot plug (node-hid faked at its module boundary)', () => {
  it('unplugged: a wait fails not-connected and it is reported once; back: reopened with backoff, swipes read', async () => {
    const reader = new HidMsrReader({
      vendorId: VID,
      productId: PID,
      clock,
      reconnect: { initialDelayMs: 200, maxDelayMs: 1000 },
    });
    reader.on('health', (h) => health.push(h));
    await reader.open();
    expect(health).toEqual([{ device: 'card-reader', state: 'ok' }]);
    const wait = track(reader.waitForCard({ timeoutMs: 60_000 }));
    unplug();
    await expectFault(wait.promise, 'card-reader', 'not-connected');
    expect(health[1]).toMatchObject({ device: 'card-reader', state: 'not-connected', code: 'not-connected' });
    expect(reader.opened).toBe(false);
    await expectFault(reader.info(), 'card-reader', 'not-connected');

    // Attempts while away throw inside node-hid and are retried, reported once.
    await clock.advance(5_000);
    const attemptsWhileAway = usb.handles.length;
    expect(health).toHaveLength(2);
    expect(reader.opened).toBe(false);

    plugIn();
    await clock.advance(1_000);
    expect(reader.opened).toBe(true);
    expect(health[2]).toEqual({ device: 'card-reader', state: 'ok' });
    expect(usb.handles.length).toBe(attemptsWhileAway + 1);
    const next = reader.waitForCard({ timeoutMs: 60_000 });
    await swipe(current(), SWIPE);
    expect(await next).toEqual({ entryMode: 'swipe' });
    expect(await reader.read()).toMatchObject({ pan: PAN });
    await reader.close();
    // Closed on purpose: no reopening after it.
    await clock.advance(60_000);
    expect(usb.handles.filter((h) => !h.closed)).toHaveLength(0);
  });

  it('opens the configured USB interface by its path and reads only reports of the configured report ID', async () => {
    const reader = new HidMsrReader({ vendorId: VID, productId: PID, clock, usbInterface: 1, reportId: 2 });
    await reader.open();
    expect(usb.handles.map((h) => h.target)).toEqual(['/dev/hidraw4']);
    const device = current();
    const wait = reader.waitForCard({ timeoutMs: 60_000 });
    // A consumer-control report (ID 3) on the same interface types nothing into the swipe.
    device.emit('data', Buffer.from([3, 0, 0, 0x28, 0, 0, 0, 0, 0]));
    await swipe(device, SWIPE, 2);
    await wait;
    expect(await reader.read()).toMatchObject({ pan: PAN });
    await reader.close();
  });

  it('a configured interface the reader does not have fails open not-connected, and is retried', async () => {
    const reader = new HidMsrReader({ vendorId: VID, productId: PID, clock, usbInterface: 5 });
    reader.on('health', (h) => health.push(h));
    await expectFault(reader.open(), 'card-reader', 'not-connected');
    expect(health.map((h) => h.state)).toEqual(['not-connected']);
    await reader.close();
  });
});
