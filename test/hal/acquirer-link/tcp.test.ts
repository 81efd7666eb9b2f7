/**
 * The TCP host link against the acquirer host simulator over real loopback sockets. Timeouts, delays and
 * backoff run on a ManualClock shared by both ends; `until` only waits for bytes to cross the socket.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../hal/clock.js';
import { DeviceFaultError } from '../../../hal/fault.js';
import type { HostLinkEvents } from '../../../hal/acquirer-link/contract.js';
import { encodeFrame } from '../../../hal/acquirer-link/framing.js';
import { TcpHostLink } from '../../../hal/acquirer-link/tcp.js';
import { AcquirerClient, HostError, isoCorrelator } from '../../../src/acquirer/acquirer-client.js';
import { AcquirerHostSimulator, type HostSimOptions } from '../../../src/acquirer-sim/simulator.js';
import {
  buildFinancialRequest,
  buildReversal,
  correlationKey,
  pack,
  PROCESSING_CODE,
  type FinancialRequest,
} from '../../../src/iso8583/index.js';
import { until } from '../../support/wait.js';
import { requireTool } from '../../support/tools.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

let stanCounter = 100;
function sale(amount: number, pan = '4761739001010010', stan = ++stanCounter): FinancialRequest {
  return {
    processingCode: PROCESSING_CODE.purchase,
    amount,
    currency: '978',
    stan,
    transmittedAt: new Date(Date.UTC(2026, 10, 25, 10, 30, 0)),
    terminalId: 'TERM0001',
    merchantId: 'MERCHANT0000001',
    pan,
    expiry: '2812',
    entryMode: '051',
  };
}

async function setup(simOptions: HostSimOptions = {}, linkOptions: { responseTimeoutMs?: number } = {}) {
  const clock = new ManualClock();
  const sim = new AcquirerHostSimulator({ clock, ...simOptions });
  const { port } = await sim.start();
  const link = new TcpHostLink({
    host: '127.0.0.1',
    port,
    correlator: isoCorrelator,
    clock,
    responseTimeoutMs: linkOptions.responseTimeoutMs ?? 30_000,
    connectTimeoutMs: 5_000,
    reconnect: { initialDelayMs: 500, maxDelayMs: 30_000 },
    random: () => 0.5,
  });
  const events: Array<{ event: keyof HostLinkEvents; payload: unknown }> = [];
  for (const event of ['up', 'down', 'unsolicited', 'frame-error'] as const) {
    link.on(event, (payload) => events.push({ event, payload }));
  }
  link.start();
  await until(() => link.isUp(), 'link up');
  cleanups.push(
    () => link.stop(),
    () => sim.stop(),
  );
  return { clock, sim, link, client: new AcquirerClient(link), events };
}

/** Start a request and capture its settlement without awaiting it, so the test can move the clock. */
function track<T>(promise: Promise<T>) {
  const state: { done: boolean; value?: T; error?: unknown } = { done: false };
  promise.then(
    (value) => Object.assign(state, { done: true, value }),
    (error: unknown) => Object.assign(state, { done: true, error }),
  );
  return state;
}

describe('TCP host link against the simulator', () => {
  it('approves a sale and matches the response by terminal id and STAN', async () => {
    const { client, sim } = await setup();
    const reply = await client.send(buildFinancialRequest(sale(1250)));
    expect(reply.mti).toBe('0210');
    expect(reply.responseCode).toBe('00');
    expect(reply.amount).toBe(1250);
    expect(reply.approvalCode).toMatch(/^A\d{5}$/);
    expect(sim.totals()).toMatchObject({ approvedCount: 1, approvedAmount: 1250 });
  });

  it.each([
    ['4000000000005100', '51'],
    ['4000000000000507', '05'],
    ['4000000000005407', '54'],
    ['4000000000006108', '61'],
    ['4000000000009102', '91'],
  ])('declines test card %s with %s', async (pan, code) => {
    const { client, sim } = await setup();
    const reply = await client.send(buildFinancialRequest(sale(500, pan)));
    expect(reply.responseCode).toBe(code);
    expect(sim.totals().approvedCount).toBe(0);
  });

  it('answers the response code carried by a 1000.xx amount', async () => {
    const { client } = await setup();
    expect((await client.send(buildFinancialRequest(sale(100_051)))).responseCode).toBe('51');
  });

  it('delay (2000.01): the answer arrives only when the clock reaches the delay', async () => {
    const { client, clock, sim } = await setup({ behaviour: { delayMs: 3_000 } });
    const pending = track(client.send(buildFinancialRequest(sale(200_001))));
    await until(() => sim.ledger.length === 1, 'request at host');
    await clock.advance(2_999);
    expect(pending.done).toBe(false);
    await clock.advance(1);
    await until(() => pending.done, 'response');
    expect(pending.value?.responseCode).toBe('00');
  });

  it('silent (2000.02): times out after the response timeout with sent=true', async () => {
    const { client, clock, sim } = await setup();
    const pending = track(client.send(buildFinancialRequest(sale(200_002))));
    await until(() => sim.ledger.length === 2, 'request withheld at host');
    await clock.advance(29_999);
    expect(pending.done).toBe(false);
    await clock.advance(1);
    await until(() => pending.done, 'timeout');
    expect(pending.error).toBeInstanceOf(HostError);
    expect(pending.error).toMatchObject({ code: 'timeout', sent: true });
    // The host did approve it: exactly the case a reversal exists for.
    expect(sim.totals().approvedCount).toBe(1);
  });

  it('close (2000.03): fails with link-down, then reconnects after backoff', async () => {
    const { client, clock, link, events } = await setup();
    const pending = track(client.send(buildFinancialRequest(sale(200_003))));
    await until(() => pending.done, 'link down');
    expect(pending.error).toMatchObject({ code: 'link-down', sent: true });
    expect(link.isUp()).toBe(false);
    expect(events.some((e) => e.event === 'down')).toBe(true);
    // equal jitter with random 0.5: 500/2 + 0.5*250 = 375 ms
    await clock.advance(374);
    expect(link.isUp()).toBe(false);
    await clock.advance(1);
    await until(() => link.isUp(), 'reconnected');
    expect((await client.send(buildFinancialRequest(sale(700)))).responseCode).toBe('00');
  });

  it('garbled (2000.04): the bytes are reported as unkeyed and the request times out', async () => {
    const { client, clock, events } = await setup();
    const pending = track(client.send(buildFinancialRequest(sale(200_004))));
    await until(() => events.some((e) => e.event === 'unsolicited'), 'garbled frame');
    expect(events.find((e) => e.event === 'unsolicited')?.payload).toMatchObject({ reason: 'unkeyed' });
    await clock.advance(30_000);
    await until(() => pending.done, 'timeout');
    expect(pending.error).toMatchObject({ code: 'timeout', sent: true });
  });

  it('late (2000.05): times out first, then the late answer is reported as late and not honoured', async () => {
    const { client, clock, events, sim } = await setup({ behaviour: { lateMs: 35_000 } });
    const request = buildFinancialRequest(sale(200_005));
    const pending = track(client.send(request));
    await until(() => sim.ledger.length === 1, 'request at host');
    await clock.advance(30_000);
    await until(() => pending.done, 'timeout');
    expect(pending.error).toMatchObject({ code: 'timeout' });
    await clock.advance(5_000);
    await until(() => events.some((e) => e.event === 'unsolicited'), 'late answer');
    expect(events.find((e) => e.event === 'unsolicited')?.payload).toMatchObject({
      reason: 'late',
      key: `${correlationKey(request)}/0210`,
    });
  });

  it('twice (2000.06): the first answer resolves, the second is reported as a duplicate', async () => {
    const { client, events } = await setup();
    const reply = await client.send(buildFinancialRequest(sale(200_006)));
    expect(reply.responseCode).toBe('00');
    await until(() => events.some((e) => e.event === 'unsolicited'), 'second answer');
    expect(events.find((e) => e.event === 'unsolicited')?.payload).toMatchObject({ reason: 'duplicate' });
  });

  it('wrong STAN (2000.07): the answer matches nothing and the request times out', async () => {
    const { client, clock, events } = await setup();
    const pending = track(client.send(buildFinancialRequest(sale(200_007))));
    await until(() => events.some((e) => e.event === 'unsolicited'), 'unmatched answer');
    expect(events.find((e) => e.event === 'unsolicited')?.payload).toMatchObject({ reason: 'unmatched' });
    await clock.advance(30_000);
    await until(() => pending.done, 'timeout');
    expect(pending.error).toMatchObject({ code: 'timeout' });
  });

  it('wrong amount (2000.08): the client refuses the mismatched response', async () => {
    const { client } = await setup();
    await expect(client.send(buildFinancialRequest(sale(200_008)))).rejects.toMatchObject({
      code: 'mismatched-response',
      sent: true,
    });
  });

  it('global misbehaviour set at run time applies to all traffic', async () => {
    const { client, clock, sim } = await setup();
    sim.setBehaviour({ misbehaviour: 'silent' });
    const pending = track(client.send(buildFinancialRequest(sale(100))));
    await until(() => sim.ledger.length === 2, 'request at host');
    await clock.advance(30_000);
    await until(() => pending.done, 'timeout');
    expect(pending.error).toMatchObject({ code: 'timeout' });
  });

  it('a reversal and its repeat: acknowledged both times, counted once, the repeat flagged duplicate', async () => {
    const { client, sim } = await setup();
    const original = sale(4_200);
    await client.send(buildFinancialRequest(original));
    const at = new Date(Date.UTC(2026, 10, 25, 10, 31, 0));
    expect((await client.send(buildReversal(original, { repeat: false, transmittedAt: at }))).responseCode).toBe('00');
    expect((await client.send(buildReversal(original, { repeat: true, transmittedAt: at }))).responseCode).toBe('00');
    expect(sim.totals()).toMatchObject({ approvedCount: 0, approvedAmount: 0, reversedCount: 1, duplicates: 1 });
    expect(sim.ledger.filter((e) => e.dir === 'in' && e.duplicate).map((e) => e.mti)).toEqual(['0401']);
  });

  it('refuses a second request with a STAN already in flight', async () => {
    const { client, sim } = await setup();
    sim.setBehaviour({ misbehaviour: 'silent' });
    const request = buildFinancialRequest(sale(100));
    track(client.send(request));
    await expect(client.send(request)).rejects.toMatchObject({ code: 'busy', sent: false });
  });

  it('writes a ledger line per message in and out, with the PAN masked', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pos-ledger-'));
    const ledgerPath = join(dir, 'ledger.jsonl');
    const { client } = await setup({ ledgerPath });
    await client.send(buildFinancialRequest(sale(1_000)));
    const lines = readFileSync(ledgerPath, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l['dir'], l['mti']])).toEqual([
      ['in', '0200'],
      ['out', '0210'],
    ]);
    expect(lines[0]).toMatchObject({ terminalId: 'TERM0001', amount: 1000, pan: '476173******0010', currency: '978' });
    expect(readFileSync(ledgerPath, 'utf8')).not.toContain('4761739001010010');
  });
});

describe('TCP host link against a raw peer', () => {
  async function rawPeer(onConnection: (socket: net.Socket) => void) {
    const server = net.createServer(onConnection);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    return (server.address() as net.AddressInfo).port;
  }

  function linkTo(port: number, clock = new ManualClock()) {
    const link = new TcpHostLink({
      host: '127.0.0.1',
      port,
      correlator: isoCorrelator,
      clock,
      responseTimeoutMs: 30_000,
      maxFrameBytes: 1024,
    });
    const events: Array<{ event: string; payload: unknown }> = [];
    for (const event of ['up', 'down', 'unsolicited', 'frame-error'] as const)
      link.on(event, (payload) => events.push({ event, payload }));
    cleanups.push(() => link.stop());
    return { link, clock, events };
  }

  it('a response delivered one byte at a time still resolves', async () => {
    const port = await rawPeer((socket) => {
      socket.on('data', async () => {
        const response = pack({ mti: '0210', fields: { 11: '000777', 39: '00', 41: 'TERM0001' } });
        for (const byte of encodeFrame(response)) {
          socket.write(Buffer.from([byte]));
          await new Promise((r) => setImmediate(r));
        }
      });
    });
    const { link } = linkTo(port);
    link.start();
    await until(() => link.isUp(), 'up');
    const request = pack({ mti: '0200', fields: { 11: '000777', 41: 'TERM0001' } });
    const frame = await link.exchange(request, 'TERM0001/000777/0210');
    expect(isoCorrelator(frame)).toBe('TERM0001/000777/0210');
  });

  it('a peer that closes mid-frame fails the waiting request with link-down, naming the partial frame', async () => {
    const port = await rawPeer((socket) => {
      socket.on('data', () => socket.end(Buffer.from([0x00, 0x40, 0x30, 0x32])));
    });
    const { link, events } = linkTo(port);
    link.start();
    await until(() => link.isUp(), 'up');
    await expect(link.exchange(Buffer.from('x'), 'k')).rejects.toMatchObject({
      code: 'link-down',
      detail: { sent: true },
    });
    expect(events.find((e) => e.event === 'down')?.payload).toMatchObject({
      reason: expect.stringContaining('partial frame'),
    });
  });

  it('a peer announcing an oversized frame is dropped with a frame-error, not crashed on', async () => {
    const port = await rawPeer((socket) => {
      socket.on('data', () => socket.write(Buffer.from([0xff, 0xff, 0x01, 0x02])));
    });
    const { link, events } = linkTo(port);
    link.start();
    await until(() => link.isUp(), 'up');
    await expect(link.exchange(Buffer.from('x'), 'k')).rejects.toMatchObject({ code: 'link-down' });
    expect(events.some((e) => e.event === 'frame-error')).toBe(true);
  });

  it('refuses to send a request over the frame limit, before anything leaves', async () => {
    const port = await rawPeer(() => {});
    const { link } = linkTo(port);
    link.start();
    await until(() => link.isUp(), 'up');
    await expect(link.exchange(Buffer.alloc(2_000), 'k')).rejects.toMatchObject({
      code: 'frame-too-large',
      detail: { sent: false },
    });
  });

  it('a host that refuses connections gives not-connected with sent=false, and backoff grows to its ceiling', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const clock = new ManualClock();
    const link = new TcpHostLink({
      host: '127.0.0.1',
      port,
      correlator: isoCorrelator,
      clock,
      reconnect: { initialDelayMs: 100, maxDelayMs: 800 },
      random: () => 0.999,
    });
    cleanups.push(() => link.stop());
    link.start();
    const error = await link.exchange(Buffer.from('x'), 'k').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeviceFaultError);
    expect(error).toMatchObject({ code: 'not-connected', detail: { sent: false } });
    for (let i = 0; i < 8; i++) {
      const before = link.reconnectAttempts;
      await clock.advance(800);
      await until(() => link.reconnectAttempts > before, 'another attempt');
    }
    expect(clock.pending()).toBe(1); // one reconnect timer, never a pile of them
  });

  it('an exchange before start() fails at once with not-connected', async () => {
    const { link } = linkTo(1);
    await expect(link.exchange(Buffer.from('x'), 'k')).rejects.toMatchObject({ code: 'not-connected' });
  });
});

describe('TLS to the simulator', () => {
  it('round trips over TLS with a certificate made by openssl', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pos-tls-'));
    execFileSync(
      requireTool('openssl'),
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    const cert = readFileSync(join(dir, 'cert.pem'));
    const sim = new AcquirerHostSimulator({ tls: { cert, key: readFileSync(join(dir, 'key.pem')) } });
    const { port } = await sim.start();
    const link = new TcpHostLink({
      host: '127.0.0.1',
      port,
      correlator: isoCorrelator,
      tls: { ca: cert, serverName: 'localhost' },
    });
    cleanups.push(
      () => link.stop(),
      () => sim.stop(),
    );
    link.start();
    await until(() => link.isUp(), 'TLS up');
    const reply = await new AcquirerClient(link).send(buildFinancialRequest(sale(990)));
    expect(reply.responseCode).toBe('00');
  });

  it('refuses a host whose certificate it does not trust', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pos-tls-'));
    execFileSync(
      requireTool('openssl'),
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    const sim = new AcquirerHostSimulator({
      tls: { cert: readFileSync(join(dir, 'cert.pem')), key: readFileSync(join(dir, 'key.pem')) },
    });
    const { port } = await sim.start();
    const link = new TcpHostLink({
      host: '127.0.0.1',
      port,
      correlator: isoCorrelator,
      connectTimeoutMs: 5_000,
      tls: {},
    });
    cleanups.push(
      () => link.stop(),
      () => sim.stop(),
    );
    link.start();
    await expect(link.exchange(Buffer.from('x'), 'TERM0001/000001')).rejects.toMatchObject({ code: 'not-connected' });
    expect(link.isUp()).toBe(false);
  });
});
