/**
 * The Linux network monitor against a fake sysfs/procfs tree in a temp dir, polled on a ManualClock; one smoke test
 * reads this machine's real /sys and /proc and accepts whatever it finds.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../hal/clock.js';
import type { NetworkEvents } from '../../../hal/network/contract.js';
import {
  LinuxNetworkMonitor,
  parseRouteV4,
  parseRouteV6,
  type LinuxNetworkMonitorOptions,
} from '../../../hal/network/linux.js';
import { expectFault } from '../expect-fault.js';

const ROUTE_HEADER = 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT';
const WIRELESS_HEADER =
  'Inter-| sta-|   Quality        |   Discarded packets               | Missed | WE\n' +
  ' face | tus | link level noise |  nwid  crypt   frag  retry   misc | beacon | 22';

let root: string;
let sys: string;
let proc: string;
let clock: ManualClock;
let monitor: LinuxNetworkMonitor | undefined;
let changes: NetworkEvents['change'][];

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'pos-net-'));
  sys = join(root, 'sys', 'class', 'net');
  proc = join(root, 'proc');
  mkdirSync(sys, { recursive: true });
  mkdirSync(join(proc, 'net'), { recursive: true });
  clock = new ManualClock();
  changes = [];
});

afterEach(async () => {
  await monitor?.stop();
  monitor = undefined;
  rmSync(root, { recursive: true, force: true });
});

function iface(
  name: string,
  files: { operstate?: string; carrier?: string; type?: number; wireless?: boolean; uevent?: string },
): void {
  const dir = join(sys, name);
  mkdirSync(dir, { recursive: true });
  if (files.operstate !== undefined) writeFileSync(join(dir, 'operstate'), `${files.operstate}\n`);
  else rmSync(join(dir, 'operstate'), { force: true });
  if (files.carrier !== undefined) writeFileSync(join(dir, 'carrier'), `${files.carrier}\n`);
  writeFileSync(join(dir, 'type'), `${files.type ?? 1}\n`);
  if (files.wireless) mkdirSync(join(dir, 'wireless'), { recursive: true });
  if (files.uevent !== undefined) writeFileSync(join(dir, 'uevent'), files.uevent);
}

function routes(
  ...rows: Array<{ iface: string; dest?: string; mask?: string; flags?: string; metric?: number }>
): void {
  const lines = rows.map(
    (r) =>
      `${r.iface}\t${r.dest ?? '00000000'}\t0102A8C0\t${r.flags ?? '0003'}\t0\t0\t${r.metric ?? 0}\t${r.mask ?? '00000000'}\t0\t0\t0`,
  );
  writeFileSync(join(proc, 'net', 'route'), `${[ROUTE_HEADER, ...lines].join('\n')}\n`);
}

function wireless(name: string, quality: number, level: number): void {
  writeFileSync(
    join(proc, 'net', 'wireless'),
    `${WIRELESS_HEADER}\n ${name}: 0000   ${quality}.  ${level}.  -256        0      0      0      0      0        0\n`,
  );
}

async function startMonitor(options: Partial<LinuxNetworkMonitorOptions> = {}): Promise<LinuxNetworkMonitor> {
  monitor = new LinuxNetworkMonitor({ interface: null, clock, sysfsRoot: sys, procRoot: proc, ...options });
  monitor.on('change', (e) => changes.push(e));
  await monitor.start();
  return monitor;
}

describe('LinuxNetworkMonitor on a fake tree', () => {
  it('reports a configured ethernet interface that is up', async () => {
    iface('eth0', { operstate: 'up', carrier: '1' });
    const m = await startMonitor({ interface: 'eth0' });
    expect(m.current()).toEqual({ link: 'up', interface: 'eth0', kind: 'ethernet' });
    // The first observation replaces the "not started" placeholder, so listeners learn the present state.
    expect(changes).toHaveLength(1);
    expect(changes[0]?.previous).toMatchObject({ link: 'down', reason: 'not started' });
  });

  it('polls on the clock and emits only when something changed', async () => {
    iface('eth0', { operstate: 'up', carrier: '1' });
    const m = await startMonitor({ interface: 'eth0', pollMs: 1_000 });
    changes.length = 0;

    await clock.advance(5_000);
    expect(changes).toEqual([]);

    iface('eth0', { operstate: 'down', carrier: '0' });
    await clock.advance(999);
    expect(changes).toEqual([]);
    await clock.advance(1);
    expect(changes).toHaveLength(1);
    expect(changes[0]?.state).toEqual({ link: 'down', interface: 'eth0', kind: 'ethernet', reason: 'operstate down' });
    expect(changes[0]?.previous.link).toBe('up');
    expect(m.current().link).toBe('down');

    await clock.advance(3_000);
    expect(changes).toHaveLength(1);

    iface('eth0', { operstate: 'up', carrier: '1' });
    await clock.advance(1_000);
    expect(changes).toHaveLength(2);
    expect(changes[1]?.state).toEqual({ link: 'up', interface: 'eth0', kind: 'ethernet' });
  });

  it('counts operstate up without carrier as down, and unknown operstate with carrier as up', async () => {
    iface('eth0', { operstate: 'up', carrier: '0' });
    const m = await startMonitor({ interface: 'eth0' });
    expect(m.current()).toMatchObject({ link: 'down', reason: 'no carrier' });

    iface('eth0', { operstate: 'unknown', carrier: '1' });
    expect(m.refresh()).toEqual({ link: 'up', interface: 'eth0', kind: 'ethernet' });

    iface('eth0', { operstate: 'dormant', carrier: '1' });
    expect(m.refresh()).toMatchObject({ link: 'down', reason: 'operstate dormant' });
  });

  it('follows the default route from one interface to another', async () => {
    iface('eth0', { operstate: 'up', carrier: '1' });
    iface('wlan0', { operstate: 'up', carrier: '1', wireless: true });
    wireless('wlan0', 54, -56);
    routes(
      { iface: 'eth0' },
      { iface: 'eth0', dest: '0002A8C0', mask: '00FFFFFF', flags: '0001' },
      { iface: 'wlan0', metric: 600 },
    );
    const m = await startMonitor();
    expect(m.current()).toEqual({ link: 'up', interface: 'eth0', kind: 'ethernet' });
    changes.length = 0;

    // The cable is pulled: the kernel drops eth0's default route and wlan0's becomes the only one.
    routes({ iface: 'wlan0', metric: 600 });
    await clock.advance(2_000);
    expect(changes).toHaveLength(1);
    expect(changes[0]?.state).toEqual({
      link: 'up',
      interface: 'wlan0',
      kind: 'wifi',
      signal: { dbm: -56, percent: 77 },
    });
    expect(changes[0]?.previous).toEqual({ link: 'up', interface: 'eth0', kind: 'ethernet' });

    routes();
    await clock.advance(2_000);
    expect(m.current()).toEqual({ link: 'down', reason: 'no default route' });
  });

  it('prefers the lowest-metric default route and skips routes that are down or reject', () => {
    const table = [
      ROUTE_HEADER,
      'eth0\t00000000\t0102A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0',
      'wwan0\t00000000\t00000000\t0001\t0\t0\t50\t00000000\t0\t0\t0',
      'eth1\t00000000\t00000000\t0000\t0\t0\t0\t00000000\t0\t0\t0',
      'eth2\t00000000\t00000000\t0201\t0\t0\t0\t00000000\t0\t0\t0',
    ].join('\n');
    expect(parseRouteV4(table)).toEqual([
      { name: 'eth0', metric: 100 },
      { name: 'wwan0', metric: 50 },
    ]);
    const v6 = [
      '00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000400 00000001 00000000 00000003     eth0',
      '00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo',
      'fe800000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0',
    ].join('\n');
    expect(parseRouteV6(v6)).toEqual([{ name: 'eth0', metric: 1024 }]);
  });

  it('falls back to the IPv6 default route when there is no IPv4 one', async () => {
    iface('eth0', { operstate: 'up', carrier: '1' });
    routes();
    writeFileSync(
      join(proc, 'net', 'ipv6_route'),
      '00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000400 00000001 00000000 00000003     eth0\n',
    );
    const m = await startMonitor();
    expect(m.current()).toEqual({ link: 'up', interface: 'eth0', kind: 'ethernet' });
  });

  it('tracks the Wi-Fi signal and reports a change of level', async () => {
    iface('wlan0', { operstate: 'up', carrier: '1', type: 1, uevent: 'DEVTYPE=wlan\nINTERFACE=wlan0\n' });
    wireless('wlan0', 70, -40);
    const m = await startMonitor({ interface: 'wlan0' });
    expect(m.current()).toEqual({ link: 'up', interface: 'wlan0', kind: 'wifi', signal: { dbm: -40, percent: 100 } });
    changes.length = 0;

    wireless('wlan0', 20, -82);
    await clock.advance(2_000);
    expect(changes).toHaveLength(1);
    expect(changes[0]?.state.signal).toEqual({ dbm: -82, percent: 29 });

    // Associated but the driver gave no level this time: the signal is omitted, not invented.
    writeFileSync(join(proc, 'net', 'wireless'), `${WIRELESS_HEADER}\n`);
    await clock.advance(2_000);
    expect(m.current()).toEqual({ link: 'up', interface: 'wlan0', kind: 'wifi' });
  });

  it('recognises cellular links and reads the optional modem signal file', async () => {
    iface('wwan0', { operstate: 'unknown', carrier: '1', type: 519 });
    const signalFile = join(root, 'modem-signal.json');
    const m = await startMonitor({ interface: 'wwan0', cellularSignalFile: signalFile });
    // No file: nothing standard to read, so no signal.
    expect(m.current()).toEqual({ link: 'up', interface: 'wwan0', kind: 'cellular' });

    writeFileSync(signalFile, JSON.stringify({ dbm: -91, percent: 45 }));
    expect(m.refresh()).toEqual({
      link: 'up',
      interface: 'wwan0',
      kind: 'cellular',
      signal: { dbm: -91, percent: 45 },
    });
    writeFileSync(signalFile, '{"dbm": -9');
    expect(m.refresh().signal).toBeUndefined();

    iface('ppp0', { operstate: 'unknown', carrier: '1', type: 512 });
    iface('usb0', { operstate: 'up', carrier: '1', type: 1, uevent: 'DEVTYPE=wwan\n' });
    const other = new LinuxNetworkMonitor({ interface: 'ppp0', clock, sysfsRoot: sys, procRoot: proc });
    expect(other.refresh().kind).toBe('cellular');
    const usb = new LinuxNetworkMonitor({ interface: 'usb0', clock, sysfsRoot: sys, procRoot: proc });
    expect(usb.refresh().kind).toBe('cellular');
  });

  it('turns unreadable files into a down link with a reason, never a throw', async () => {
    iface('eth0', { carrier: '1' });
    const m = await startMonitor({ interface: 'eth0' });
    expect(m.current()).toEqual({
      link: 'down',
      interface: 'eth0',
      kind: 'ethernet',
      reason: 'eth0/operstate unreadable',
    });

    const missing = new LinuxNetworkMonitor({ interface: 'eth7', clock, sysfsRoot: sys, procRoot: proc });
    await missing.start();
    expect(missing.current()).toEqual({ link: 'down', interface: 'eth7', reason: 'interface eth7 not present' });
    await missing.stop();

    // No routing table at all (procfs not mounted).
    const noProc = new LinuxNetworkMonitor({ interface: null, clock, sysfsRoot: sys, procRoot: join(root, 'nowhere') });
    await noProc.start();
    expect(noProc.current()).toEqual({ link: 'down', reason: 'routing table unreadable' });
    await noProc.stop();

    // A name that would walk out of sysfs is refused, not read.
    const evil = new LinuxNetworkMonitor({ interface: '../../etc', clock, sysfsRoot: sys, procRoot: proc });
    expect(evil.refresh()).toMatchObject({ link: 'down', reason: expect.stringContaining('invalid interface name') });
  });

  it('rejects start with unavailable only when the sysfs root itself is missing', async () => {
    const m = new LinuxNetworkMonitor({ interface: 'eth0', clock, sysfsRoot: join(root, 'no-sysfs'), procRoot: proc });
    await expectFault(m.start(), 'network', 'unavailable');
    expect(clock.pending()).toBe(0);
  });

  it('stops polling on stop, keeps the last state, and treats a second start as a no-op', async () => {
    iface('eth0', { operstate: 'up', carrier: '1' });
    const m = await startMonitor({ interface: 'eth0' });
    await m.start();
    expect(clock.pending()).toBe(1);
    changes.length = 0;

    await m.stop();
    expect(clock.pending()).toBe(0);
    iface('eth0', { operstate: 'down' });
    await clock.advance(10_000);
    expect(changes).toEqual([]);
    expect(m.current().link).toBe('up');
  });
});

describe('LinuxNetworkMonitor on this machine', () => {
  it('reads the real /sys and /proc without failing', async () => {
    const real = new LinuxNetworkMonitor({ interface: null, clock: new ManualClock() });
    try {
      await real.start();
    } catch (err) {
      // A container without /sys/class/net: the only allowed failure.
      expect((err as { code?: string }).code).toBe('unavailable');
      return;
    }
    const state = real.current();
    await real.stop();
    expect(['up', 'down']).toContain(state.link);
    if (state.link === 'up') expect(typeof state.interface).toBe('string');
    else expect(typeof state.reason).toBe('string');
    if (state.kind !== undefined) expect(['ethernet', 'wifi', 'cellular']).toContain(state.kind);
  });
});
