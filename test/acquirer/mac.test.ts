/**
 * MACed messages between the acquirer client and the host simulator over loopback: sign-on with key exchange, a
 * MAC on each financial request and its answer, and the told faults (a wrong or missing MAC, a wrong check value).
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../hal/clock.js';
import { TcpHostLink } from '../../hal/acquirer-link/tcp.js';
import { AcquirerClient, HostError, isoCorrelator } from '../../src/acquirer/acquirer-client.js';
import { KeyKeeper } from '../../src/acquirer/key-keeper.js';
import { computeMac, MacSession } from '../../src/acquirer/mac-session.js';
import type { SignOnError } from '../../src/acquirer/sign-on.js';
import { AcquirerHostSimulator } from '../../src/acquirer-sim/simulator.js';
import { buildFinancialRequest, macOf, PROCESSING_CODE, type IsoMessage } from '../../src/iso8583/index.js';
import { until } from '../support/wait.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const TID = 'TERM0001';

async function setup(opts: { hostKnows?: boolean; mode?: 'required' | 'off' } = {}) {
  const clock = new ManualClock();
  const tmk = randomBytes(16);
  const sim = new AcquirerHostSimulator({ clock, ...(opts.hostKnows === false ? {} : { masterKeys: { [TID]: tmk } }) });
  const { port } = await sim.start();
  const link = new TcpHostLink({ host: '127.0.0.1', port, correlator: isoCorrelator, clock, connectTimeoutMs: 5_000 });
  link.start();
  cleanups.push(
    () => sim.stop(),
    () => link.stop(),
  );
  await until(() => link.isUp(), 'link up');
  const mac = new MacSession(opts.mode ?? 'required');
  const client = new AcquirerClient(link, mac);
  let stan = 0;
  const failures: SignOnError[] = [];
  const stored: string[] = [];
  const keeper = new KeyKeeper({
    client,
    mac,
    clock,
    terminalId: TID,
    stan: () => ++stan,
    masterKey: () => Buffer.from(tmk),
    retryMs: 60_000,
    timeoutMs: 5_000,
    store: (k) => stored.push(k.checkValue),
    onFailure: (e) => failures.push(e),
  });
  cleanups.push(() => keeper.stop());
  const sale = (): IsoMessage =>
    buildFinancialRequest({
      processingCode: PROCESSING_CODE.purchase,
      amount: 1234,
      currency: '978',
      stan: ++stan,
      transmittedAt: new Date(clock.now()),
      terminalId: TID,
      merchantId: 'MERCHANT0000001',
      pan: '4111111111111111',
      expiry: '3012',
      entryMode: '021',
    });
  const inbound = (mti: string) => sim.ledger.filter((e) => e.dir === 'in' && e.mti === mti);
  return { clock, sim, client, mac, keeper, sale, failures, stored, inbound, tmk };
}

describe('MAC and key exchange', () => {
  it('signs on, MACs the 0200 and verifies the MACed 0210', async () => {
    const { keeper, client, mac, sale, stored, sim } = await setup();
    expect(await keeper.ensure()).toBe(true);
    expect(mac.hasKey()).toBe(true);
    expect(stored).toHaveLength(1);
    const reply = await client.send(sale(), { timeoutMs: 5_000 });
    expect(reply.responseCode).toBe('00');
    expect(macOf(reply.message)).toBeDefined();
    expect(sim.totals().approvedCount).toBe(1);
  });

  it('a wrong or a missing MAC on the answer is a bad-mac host error (sent: a reversal is owed), the key is renewed', async () => {
    const { keeper, client, sim, sale, stored } = await setup();
    await keeper.ensure();
    for (const fault of ['wrong-mac', 'missing-mac'] as const) {
      sim.macFaultOnce({ mti: '0210', fault });
      const err = await client.send(sale(), { timeoutMs: 5_000 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HostError);
      expect((err as HostError).code).toBe('bad-mac');
      expect((err as HostError).sent).toBe(true);
      expect((err as HostError).answeredWith).toBe('00');
      // A new sign-on follows the dropped key.
      await until(() => stored.length >= 2 + (fault === 'missing-mac' ? 1 : 0), 'a new sign-on');
    }
  });

  it('a wrong check value refuses the key: no key, the sale is not sent (no-mac-key)', async () => {
    const { keeper, client, mac, sim, sale, failures, inbound } = await setup();
    sim.setBehaviour({ macFault: 'wrong-check-value' });
    expect(await keeper.ensure()).toBe(false);
    expect(failures.map((f) => f.code)).toEqual(['check-value-mismatch']);
    expect(mac.hasKey()).toBe(false);
    const err = await client.send(sale(), { timeoutMs: 5_000 }).catch((e: unknown) => e);
    expect((err as HostError).code).toBe('no-mac-key');
    expect((err as HostError).sent).toBe(false);
    expect(mac.whyNoKey()).toMatch(/check value/);
    expect(inbound('0200')).toHaveLength(0);
  });

  it('the host refuses a request with a bad MAC with 63 and books nothing', async () => {
    const { keeper, client, mac, sim, sale, inbound } = await setup({ mode: 'off' });
    await keeper.ensure();
    // MAC off at the terminal: the request goes without MAC to a host that requires it.
    const reply = await client.send(sale(), { timeoutMs: 5_000 });
    expect(reply.responseCode).toBe('63');
    expect(sim.totals().approvedCount).toBe(0);
    expect(inbound('0200')[0]?.note).toMatch(/MAC refused: no MAC/);
    // A forged MAC is refused too.
    const forged = { ...sale(), fields: { ...sale().fields } };
    const wrongKey = computeMac(randomBytes(16), forged);
    forged.fields[64] = wrongKey;
    expect((await client.send(forged, { timeoutMs: 5_000 })).responseCode).toBe('63');
    expect(sim.totals().approvedCount).toBe(0);
    expect(mac.mode).toBe('off');
  });

  it('a host without the master key refuses the sign-on; a terminal it has no key for is answered unMACed', async () => {
    const { keeper, failures, client, sale } = await setup({ hostKnows: false, mode: 'off' });
    expect(await keeper.ensure()).toBe(false);
    expect(failures[0]?.code).toBe('refused');
    const reply = await client.send(sale(), { timeoutMs: 5_000 });
    expect(reply.responseCode).toBe('00');
    expect(macOf(reply.message)).toBeUndefined();
  });
});
