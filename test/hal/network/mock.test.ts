import { beforeEach, describe, expect, it } from 'vitest';
import { NETWORK_FAULT_CODES, type NetworkEvents } from '../../../hal/network/contract.js';
import { MockNetworkMonitor } from '../../../hal/network/mock.js';
import { expectFault } from '../expect-fault.js';

let net: MockNetworkMonitor;
let changes: NetworkEvents['change'][];

beforeEach(() => {
  net = new MockNetworkMonitor({ link: 'up', interface: 'wlan0', kind: 'wifi', signal: { dbm: -60, percent: 70 } });
  changes = [];
  net.on('change', (e) => changes.push(e));
});

describe('MockNetworkMonitor', () => {
  it('emits change only when something changed', async () => {
    await net.start();
    expect(changes).toEqual([]);
    net.setState({ link: 'up' });
    net.setState({ signal: { dbm: -60, percent: 70 } });
    expect(changes).toEqual([]);

    net.setState({ link: 'down' });
    expect(changes).toHaveLength(1);
    expect(changes[0]?.previous.link).toBe('up');
    expect(changes[0]?.state).toMatchObject({ link: 'down', interface: 'wlan0', kind: 'wifi' });

    net.setState({ signal: { dbm: -75, percent: 40 } });
    expect(changes).toHaveLength(2);
    expect(net.current().signal).toEqual({ dbm: -75, percent: 40 });
  });

  it('does not emit while stopped, and reports the missed change on start', async () => {
    net.setState({ link: 'down' });
    expect(changes).toEqual([]);
    expect(net.current().link).toBe('up');
    await net.start();
    expect(changes).toHaveLength(1);
    expect(net.current().link).toBe('down');

    await net.stop();
    net.setState({ link: 'up' });
    expect(changes).toHaveLength(1);
    expect(net.current().link).toBe('down');
  });

  it('stops delivering after unsubscribe', async () => {
    await net.start();
    const own: unknown[] = [];
    const off = net.on('change', (e) => own.push(e));
    net.setState({ link: 'down' });
    off();
    net.setState({ link: 'up' });
    expect(own).toHaveLength(1);
    expect(changes).toHaveLength(2);
  });

  it('returns copies from current()', async () => {
    const s = net.current();
    s.link = 'down';
    if (s.signal) s.signal.dbm = 0;
    expect(net.current()).toMatchObject({ link: 'up', signal: { dbm: -60 } });
  });

  it.each([...NETWORK_FAULT_CODES])("rejects '%s' injected on start, then starts", async (code) => {
    net.inject({ op: 'start', code });
    await expectFault(net.start(), 'network', code);
    expect(net.running).toBe(false);
    await net.start();
    expect(net.running).toBe(true);
  });

  it('keeps a sticky unavailable until cleared', async () => {
    net.inject({ op: 'start', code: 'unavailable', times: Infinity });
    await expectFault(net.start(), 'network', 'unavailable');
    await expectFault(net.start(), 'network', 'unavailable');
    net.clearFaults();
    await net.start();
    expect(net.running).toBe(true);
  });
});
