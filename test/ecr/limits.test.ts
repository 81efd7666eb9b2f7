/**
 * The ECR server's limits under abuse, over real loopback with time on a ManualClock: idle connections closed,
 * connections bounded, requests rate-limited per client (shared by its connections), refusals locking one client out; and the pieces alone.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../hal/clock.js';
import {
  BadInputTally,
  type BadInputReport,
  EcrServer,
  type EcrHandler,
  type EcrServerOptions,
  addressKey,
  isLoopbackHost,
  principalOf,
  RateLimiter,
} from '../../src/ecr/index.js';
import { ClientLockout } from '../../src/risk/client-lockout.js';
import { until } from '../support/wait.js';
import { LineClient } from './line-client.js';

const handler: EcrHandler = {
  handle(request, session) {
    session.send({ id: request.id, type: 'status', state: 'idle', principal: session.principal ?? null });
  },
};

let server: EcrServer | undefined;
const clients: LineClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server?.stop();
  server = undefined;
});

async function start(options: Partial<EcrServerOptions>): Promise<number> {
  server = new EcrServer(handler, { simulatorCommands: false, ...options });
  return (await server.start()).port;
}

async function connect(port: number): Promise<LineClient> {
  const c = await LineClient.connect(port);
  clients.push(c);
  return c;
}

describe('idle connections', () => {
  it('closes a connection that never made a request on the simulated clock, with a reason, and keeps a register that did', async () => {
    const clock = new ManualClock();
    const port = await start({ clock, idleTimeoutMs: 60_000 });
    const silent = await connect(port);
    const talker = await connect(port);
    await until(() => server?.connectionCount === 2, 'both accepted');
    await clock.advance(40_000);
    expect(await talker.request({ id: '1', cmd: 'status' })).toMatchObject({ type: 'status' });
    await clock.advance(30_000);
    await until(() => silent.closed, 'the silent connection closed');
    expect(silent.replies.at(-1)).toMatchObject({ type: 'error', code: 'idle-timeout' });
    expect(talker.closed).toBe(false);
    // A register that made a valid request keeps its connection however long it is quiet between sales.
    await clock.advance(3_600_000);
    expect(await talker.request({ id: '2', cmd: 'status' })).toMatchObject({ type: 'status' });
    expect(server?.connectionCount).toBe(1);
  });
});

describe('the connection bound', () => {
  it('refuses the connection beyond maxConnections with a reply and closes it; a freed slot is taken again', async () => {
    const port = await start({ maxConnections: 3 });
    const held = [await connect(port), await connect(port), await connect(port)];
    await until(() => server?.connectionCount === 3, 'three accepted');
    const extra = await connect(port);
    await until(() => extra.closed, 'the fourth closed');
    expect(extra.replies).toEqual([expect.objectContaining({ type: 'error', code: 'too-many-connections' })]);
    expect(server?.connectionCount).toBe(3);
    held[0]!.close();
    await until(() => server?.connectionCount === 2, 'a slot freed');
    const next = await connect(port);
    expect(await next.request({ id: '2', cmd: 'status' })).toMatchObject({ type: 'status' });
  });
});

describe('the rate limit', () => {
  const statusLines = (n: number, prefix: string, token?: string) =>
    Array.from({ length: n }, (_, i) => `${JSON.stringify({ id: `${prefix}${i}`, cmd: 'status', token })}\n`).join('');
  const served = (c: LineClient) => c.replies.filter((r) => r['type'] === 'status').length;

  it('answers rate-limited beyond the burst, refills with time, and never holds back a cancel', async () => {
    const clock = new ManualClock();
    const port = await start({ clock, rateLimit: { burst: 5, perSecond: 2 } });
    const busy = await connect(port);
    await busy.write(statusLines(8, 'r'));
    await until(() => busy.replies.length === 8, 'eight replies');
    expect(busy.replies.map((r) => r.type === 'status')).toEqual([true, true, true, true, true, false, false, false]);
    expect(busy.replies[7]).toMatchObject({ id: 'r7', type: 'error', code: 'rate-limited' });
    // Over its limit, a register can still stop a transaction.
    expect(await busy.request({ id: 'stop', cmd: 'cancel' })).not.toMatchObject({ code: 'rate-limited' });
    await clock.advance(1_000);
    expect(await busy.request({ id: 'later', cmd: 'status' })).toMatchObject({ type: 'status' });
  });

  it.each([2, 10])('gives %i connections of one client one budget, not one each', async (n) => {
    const clock = new ManualClock();
    const port = await start({ clock, rateLimit: { burst: 6, perSecond: 1 } });
    const conns = await Promise.all(Array.from({ length: n }, () => connect(port)));
    for (const [i, c] of conns.entries()) await c.write(statusLines(6, `c${i}-`));
    await until(() => conns.every((c) => c.replies.length === 6), 'every request answered');
    // One address, one bucket: six requests served in all, whichever connection they came on.
    expect(conns.reduce((sum, c) => sum + served(c), 0)).toBe(6);
    // A new connection of the same client gets no fresh budget either, nor does closing one give any back.
    conns[0]!.close();
    const late = await connect(port);
    expect(await late.request({ id: 'late', cmd: 'status' })).toMatchObject({ code: 'rate-limited' });
    await clock.advance(1_000);
    expect(await late.request({ id: 'refilled', cmd: 'status' })).toMatchObject({ type: 'status' });
  });

  it('gives two clients (two tokens) a budget each', async () => {
    const clock = new ManualClock();
    const tokens = ['register-one-0123456789', 'register-two-0123456789'];
    const port = await start({ clock, tokens, rateLimit: { burst: 4, perSecond: 1 } });
    const one = await connect(port);
    const two = await connect(port);
    await one.write(statusLines(6, 'a', tokens[0]));
    await two.write(statusLines(6, 'b', tokens[1]));
    await until(() => one.replies.length === 6 && two.replies.length === 6, 'every request answered');
    expect([served(one), served(two)]).toEqual([4, 4]);
  });

  it('refills a bucket continuously up to its burst', () => {
    let now = 0;
    const limiter = new RateLimiter({ burst: 2, perSecond: 1 }, () => now);
    expect([limiter.take('a'), limiter.take('a'), limiter.take('a')]).toEqual([true, true, false]);
    now = 500;
    expect(limiter.take('a')).toBe(false);
    now = 10_000;
    expect([limiter.take('a'), limiter.take('a'), limiter.take('a')]).toEqual([true, true, false]);
  });

  it('keeps a bounded map: buckets quiet long enough to be full are dropped, the least recent go first', () => {
    let now = 0;
    const limiter = new RateLimiter({ burst: 2, perSecond: 1, maxClients: 100 }, () => now);
    for (let i = 0; i < 50; i++) limiter.take(`tcp:10.0.0.${i}`);
    expect(limiter.size).toBe(50);
    now = 2_000;
    limiter.take('tcp:10.0.1.1');
    expect(limiter.size).toBe(1);
    for (let i = 0; i < 500; i++) limiter.take(`tcp:10.1.${i}`);
    expect(limiter.size).toBe(100);
  });
});

describe('client lockout in the server', () => {
  it('locks out the address that keeps presenting bad tokens while a register with a good token keeps working', async () => {
    const clock = new ManualClock();
    const lockout = new ClientLockout({ refusals: 3, windowMs: 60_000, lockoutMs: 600_000 }, () => clock.now());
    const locked: string[] = [];
    const token = 'register-token-0123456789';
    const port = await start({
      clock,
      tokens: [token],
      clientLockout: lockout,
      onClientLocked: (principal) => locked.push(principal),
    });
    const stranger = await connect(port);
    const register = await connect(port);
    for (let i = 0; i < 3; i++)
      expect(await stranger.request({ id: `s${i}`, cmd: 'status', token: 'guess-0000000000000' })).toMatchObject({
        code: 'unauthorized',
      });
    expect(locked).toEqual(['tcp:127.0.0.1']);
    expect(await stranger.request({ id: 's4', cmd: 'status', token: 'guess-1111111111111' })).toMatchObject({
      code: 'locked-out',
    });
    expect(await register.request({ id: 'r', cmd: 'status', token })).toMatchObject({
      type: 'status',
      principal: 'token:0',
    });
    await clock.advance(600_000);
    // Both connections were closed as idle meanwhile; the lockout is the address's, not the connection's.
    const again = await connect(port);
    expect(await again.request({ id: 's5', cmd: 'status', token: 'guess-2222222222222' })).toMatchObject({
      code: 'unauthorized',
    });
  });
});

describe('bad input aggregated', () => {
  it('reports the first bad line at once, then one report per client per interval with counts by kind', async () => {
    const clock = new ManualClock();
    const reports: BadInputReport[] = [];
    const tally = new BadInputTally(clock, 60_000, (r) => reports.push(r));
    tally.note('tcp:10.0.0.7', 'invalid-json', 'invalid-json: not JSON');
    for (let i = 0; i < 19_990; i++) tally.note('tcp:10.0.0.7', 'invalid-json', 'invalid-json: not JSON');
    for (let i = 0; i < 8; i++) tally.note('tcp:10.0.0.7', 'line-too-long', 'line-too-long: too long');
    tally.note('unix', 'missing-field', 'missing-field: cmd');
    expect(reports.map((r) => [r.clientId, r.total])).toEqual([
      ['tcp:10.0.0.7', 1],
      ['unix', 1],
    ]);
    await clock.advance(60_000);
    expect(reports).toHaveLength(3);
    expect(reports[2]).toMatchObject({
      clientId: 'tcp:10.0.0.7',
      total: 19_998,
      byKind: { 'invalid-json': 19_990, 'line-too-long': 8 },
      intervalMs: 60_000,
    });
    await clock.advance(120_000);
    expect(reports).toHaveLength(3);
    tally.note('tcp:10.0.0.7', 'invalid-json', 'invalid-json: again');
    expect(reports).toHaveLength(4);
    tally.stop();
  });
});

describe('client keys', () => {
  it('names a client by its token or its address, never its port; knows loopback addresses', () => {
    expect(addressKey('tcp:127.0.0.1:53122')).toBe('tcp:127.0.0.1');
    expect(addressKey('tcp:::1:53122')).toBe('tcp:::1');
    expect(addressKey('unix:3')).toBe('unix');
    expect(principalOf('tcp:10.0.0.7:4000', 1)).toBe('token:1');
    expect(['127.0.0.1', '::1', 'localhost', '[::1]', '127.1.2.3'].every(isLoopbackHost)).toBe(true);
    expect(['0.0.0.0', '::', '192.168.1.20', 'pos.example'].some(isLoopbackHost)).toBe(false);
  });
});
