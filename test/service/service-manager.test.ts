/**
 * Type=notify against a fake NOTIFY_SOCKET: READY=1 with a status, WATCHDOG=1 every half WatchdogSec on the
 * terminal's clock, STOPPING=1; a hung event loop (simulated: its timers stop running) sends no more pings and the
 * simulated service manager's watchdog kills it, as systemd would, and the restarted process is READY again.
 */
import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { type Clock, ManualClock, type TimerHandle } from '../../hal/clock.js';
import { connectServiceManager } from '../../src/service/service-manager.js';
import { openNotifyChannel } from '../../src/service/sd-notify.js';
import { watchdogPingIntervalMs } from '../../src/service/watchdog.js';
import { NotifyReceiver, SimulatedServiceManager } from './notify-receiver.js';

/** The terminal process's view of time: while hung, nothing it scheduled runs (its event loop is stuck). */
class ProcessLoop implements Clock {
  hung = false;
  constructor(private readonly clock: ManualClock) {}
  now(): number {
    return this.clock.now();
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.clock.setTimeout(() => {
      if (!this.hung) fn();
    }, ms);
  }
}

const WATCHDOG_USEC = '30000000'; // WatchdogSec=30 in the unit
let receiver: NotifyReceiver | undefined;
afterEach(() => {
  receiver?.close();
  receiver = undefined;
});

describe('watchdogPingIntervalMs', () => {
  it('is half of WATCHDOG_USEC, only for this process', () => {
    expect(watchdogPingIntervalMs({ WATCHDOG_USEC }, 42)).toBe(15_000);
    expect(watchdogPingIntervalMs({ WATCHDOG_USEC, WATCHDOG_PID: '42' }, 42)).toBe(15_000);
    expect(watchdogPingIntervalMs({ WATCHDOG_USEC: '1000' }, 42)).toBe(1);
    expect(watchdogPingIntervalMs({ WATCHDOG_USEC, WATCHDOG_PID: '43' }, 42)).toBeUndefined();
    for (const bad of [undefined, '', '0', '-5', '30s', '1e6'])
      expect(watchdogPingIntervalMs(bad === undefined ? {} : { WATCHDOG_USEC: bad }, 42), String(bad)).toBeUndefined();
  });
});

describe('connectServiceManager', () => {
  it('does nothing without NOTIFY_SOCKET', async () => {
    const link = connectServiceManager({ env: {}, clock: new ManualClock() });
    expect(link.channel).toBeUndefined();
    expect(link.watchdogIntervalMs).toBeUndefined();
    await link.ready('state ready');
    link.close();
  });

  it('sends READY with the status, a ping every half interval, then STOPPING', async () => {
    receiver = new NotifyReceiver();
    const clock = new ManualClock();
    const errors: Error[] = [];
    const link = connectServiceManager({
      env: { NOTIFY_SOCKET: receiver.path, WATCHDOG_USEC },
      pid: 42,
      clock,
      onError: (e) => errors.push(e),
    });
    expect(link.channel).toBe('datagram');
    expect(link.watchdogIntervalMs).toBe(15_000);
    await link.ready('state degraded\nprinter: paper out');
    await receiver.waitFor(1);
    expect(receiver.messages[0]).toEqual(
      new Map([
        ['READY', '1'],
        ['STATUS', 'state degraded printer: paper out'],
      ]),
    );
    await clock.advance(14_999);
    expect(receiver.with('WATCHDOG')).toHaveLength(0);
    await clock.advance(1);
    await receiver.waitFor(2);
    await clock.advance(15_000 * 3);
    await receiver.waitFor(5);
    expect(receiver.with('WATCHDOG').map((m) => m.get('WATCHDOG'))).toEqual(['1', '1', '1', '1']);
    await link.stopping();
    await receiver.waitFor(6);
    expect(receiver.messages.at(-1)?.get('STOPPING')).toBe('1');
    // No ping after STOPPING.
    await clock.advance(60_000);
    expect(receiver.messages).toHaveLength(6);
    link.close();
    expect(errors).toEqual([]);
  });

  it('a hung event loop stops the pings and the watchdog kills it; the restarted process is READY again', async () => {
    receiver = new NotifyReceiver();
    const clock = new ManualClock();
    const loop = new ProcessLoop(clock);
    const env = { NOTIFY_SOCKET: receiver.path, WATCHDOG_USEC };
    let process = connectServiceManager({ env, pid: 42, clock: loop });
    const restarts: number[] = [];
    const manager = new SimulatedServiceManager(clock, 30_000, () => {
      // systemd: SIGABRT, then Restart=always starts a new process with its own loop.
      process.close();
      restarts.push(clock.now());
      loop.hung = false;
      process = connectServiceManager({ env, pid: 43, clock: loop });
      void process.ready('state ready');
    });
    receiver.onMessage = (m) => manager.deliver(m);

    await process.ready('state ready');
    await receiver.waitFor(1);
    expect(manager.ready).toBe(true);
    // Ten minutes of a healthy loop: pings keep the watchdog from firing.
    for (let i = 0; i < 40; i++) {
      await clock.advance(15_000);
      await receiver.waitFor(2 + i);
    }
    expect(manager.kills).toBe(0);
    const pingsBeforeHang = receiver.with('WATCHDOG').length;
    expect(pingsBeforeHang).toBe(40);

    // The loop hangs (a synchronous endless loop, simulated): no timer runs, so no ping leaves.
    loop.hung = true;
    const hungAt = clock.now();
    await clock.advance(29_000);
    expect(receiver.with('WATCHDOG')).toHaveLength(pingsBeforeHang);
    expect(manager.kills).toBe(0);
    await clock.advance(1_000);
    expect(manager.kills).toBe(1);
    expect(restarts[0]! - hungAt).toBeLessThanOrEqual(30_000);
    await receiver.waitFor(pingsBeforeHang + 2);
    expect(receiver.messages.at(-1)?.get('READY')).toBe('1');
    expect(manager.ready).toBe(true);
    // The new process pings again.
    await clock.advance(15_000);
    await receiver.waitFor(pingsBeforeHang + 3);
    expect(receiver.messages.at(-1)?.get('WATCHDOG')).toBe('1');
    expect(manager.kills).toBe(1);
    process.close();
  });

  it('reports a socket that is gone instead of throwing', async () => {
    receiver = new NotifyReceiver();
    const errors: Error[] = [];
    const link = connectServiceManager({
      env: { NOTIFY_SOCKET: `${receiver.path}.missing` },
      clock: new ManualClock(),
      onError: (e) => errors.push(e),
    });
    await link.ready('state ready');
    link.close();
    expect(errors.map((e) => e.name)).toEqual(['NotifyError']);
  });
});

const hasSystemdNotify = spawnSync('sh', ['-c', 'command -v systemd-notify']).status === 0;
if (!hasSystemdNotify) console.log('systemd-notify not found: skipping the fallback channel test');
describe.skipIf(!hasSystemdNotify)('the systemd-notify fallback', () => {
  it('sends the same lines with the main PID', async () => {
    receiver = new NotifyReceiver();
    const channel = openNotifyChannel({ env: { NOTIFY_SOCKET: receiver.path }, pid: 4242, forceCommand: true });
    expect(channel?.kind).toBe('systemd-notify');
    await channel!.send(['READY=1', 'STATUS=state ready']);
    await receiver.waitFor(1);
    expect(receiver.messages[0]?.get('READY')).toBe('1');
    expect(receiver.messages[0]?.get('STATUS')).toBe('state ready');
    expect(receiver.messages[0]?.get('MAINPID')).toBe('4242');
  });
});
