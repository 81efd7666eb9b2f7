/**
 * The whole terminal against an abusive register, in-process: one client's refusals lock that client out while
 * another keeps selling, the lockouts survive a restart on the same data directory, a token-guessing flood is one
 * anomaly per client per interval, and the ECR API is not started beyond loopback without tokens.
 */
import { existsSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTerminalApp, type TerminalApp } from '../../src/app/compose.js';
import { ConfigError, loadConfig, type PosConfig } from '../../src/config/index.js';
import { EcrClient } from '../../src/ecr/client.js';
import { Journal } from '../../src/journal/index.js';
import { createLogger } from '../../src/util/log.js';
import { until } from '../support/wait.js';

const TOKENS = ['register-one-0123456789', 'register-two-0123456789'];
const running: Array<{ app: TerminalApp; clients: EcrClient[] }> = [];
afterEach(async () => {
  for (const { app, clients } of running.splice(0)) {
    for (const c of clients) await c.close();
    await app.stop();
  }
});

function configFor(dataDir: string, change: (c: PosConfig) => PosConfig = (c) => c): PosConfig {
  const { config } = loadConfig({ env: {} });
  return change({
    ...config,
    dataDir,
    host: { ...config.host, address: '127.0.0.1:0' },
    ecr: { ...config.ecr, port: 0, socketPath: null, tokens: TOKENS },
    mqtt: { ...config.mqtt, url: 'mqtt://127.0.0.1:0' },
  });
}

async function boot(dataDir: string) {
  const app = await startTerminalApp(configFor(dataDir), { log: createLogger('silent') });
  const one = await EcrClient.connect({ port: app.ecr.port }, TOKENS[0]);
  const two = await EcrClient.connect({ port: app.ecr.port }, TOKENS[1]);
  running.push({ app, clients: [one, two] });
  return { app, one, two };
}

function sale(client: EcrClient, amount: number) {
  return client.call({ cmd: 'sale', amount }, (m) => {
    if (m.type === 'state' && m['state'] === 'waitingForCard') void client.call({ cmd: 'sim.card', name: 'visa' });
  });
}

function refund(client: EcrClient, pin: string) {
  return client.call({ cmd: 'refund', amount: 500, supervisorPin: pin }, (m) => {
    if (m.type === 'state' && m['state'] === 'waitingForCard') void client.call({ cmd: 'sim.card', name: 'visa' });
  });
}

describe('a misbehaving register', () => {
  it('is locked out alone: the other register sells, the terminal stays ready, and a restart keeps the lockout', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pos-abuse-'));
    const first = await boot(dataDir);
    expect(await sale(first.one, 1000)).toMatchObject({ outcome: 'approved' });
    // Wrong supervisor PINs: three lock its PIN, five refusals lock the client.
    for (let i = 0; i < 5; i++) expect(await refund(first.one, '0000')).toMatchObject({ outcome: 'failed' });
    expect(await first.one.call({ cmd: 'status' })).toMatchObject({ type: 'error', code: 'locked-out' });
    expect(await first.two.call({ cmd: 'status' })).toMatchObject({ type: 'status', state: 'ready' });
    expect(await sale(first.two, 1200)).toMatchObject({ outcome: 'approved' });
    const { app } = running.splice(0)[0]!;
    await first.one.close();
    await first.two.close();
    await app.stop();

    const second = await boot(dataDir);
    expect(await second.one.call({ cmd: 'status' })).toMatchObject({ type: 'error', code: 'locked-out' });
    expect(await sale(second.two, 1300)).toMatchObject({ outcome: 'approved' });
    expect(second.app.terminal.status().state).toBe('ready');
  }, 60_000);

  it('lets a locked-out register in again once a supervisor unlocks from another', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pos-abuse-'));
    const { one, two } = await boot(dataDir);
    expect(await two.call({ cmd: 'unlock', supervisorPin: '1234' })).toMatchObject({
      type: 'error',
      code: 'not-allowed',
    });
    for (let i = 0; i < 5; i++) expect(await refund(one, '0000')).toMatchObject({ outcome: 'failed' });
    expect(await one.call({ cmd: 'status' })).toMatchObject({ type: 'error', code: 'locked-out' });
    expect(await two.call({ cmd: 'unlock', supervisorPin: '1234' })).toMatchObject({
      type: 'done',
      state: 'ready',
      clientsCleared: 1,
    });
    expect(await one.call({ cmd: 'status' })).toMatchObject({ type: 'status', state: 'ready' });
    expect(await sale(one, 700)).toMatchObject({ outcome: 'approved' });
  }, 60_000);

  it('keeps a supervisor PIN lockout across a restart, for that client only', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pos-abuse-'));
    const first = await boot(dataDir);
    for (let i = 0; i < 3; i++) expect(await refund(first.one, '0000')).toMatchObject({ outcome: 'failed' });
    const { app } = running.splice(0)[0]!;
    await first.one.close();
    await first.two.close();
    await app.stop();

    const second = await boot(dataDir);
    const refused = await refund(second.one, '1234');
    expect(refused).toMatchObject({ outcome: 'failed', anomaly: { name: 'unauthorized-operation' } });
    expect(await refund(second.two, '1234')).toMatchObject({ outcome: 'approved' });
  }, 60_000);
});

describe('a damaged lockouts file', () => {
  it('starts the terminal, journals the damage, and keeps the client it still names locked out', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pos-abuse-'));
    const sound = JSON.stringify({ clients: { 'token:0': Date.now() + 3_600_000 }, supervisor: {} });
    writeFileSync(join(dataDir, 'lockouts.json'), sound.slice(0, -5));
    const { app, one, two } = await boot(dataDir);
    expect(await one.call({ cmd: 'status' })).toMatchObject({ type: 'error', code: 'locked-out' });
    expect(await two.call({ cmd: 'status' })).toMatchObject({ type: 'status', state: 'ready' });
    const faults = app.journal.anomalies.list({ code: 'E610' }).map((a) => a.message);
    expect(faults.join('\n')).toMatch(/lockouts file .* is damaged \(not-json/);
    expect(existsSync(join(dataDir, 'lockouts.json.damaged'))).toBe(true);
  }, 60_000);
});

describe('a token-guessing flood', () => {
  it('journals one unknown-client anomaly per client per interval with the count, not one per guess', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pos-abuse-'));
    const guesses = 900;
    // Lockout after 1,000 refusals, so every guess reaches the token check and is refused as unauthorized.
    const config = configFor(dataDir, (c) => ({
      ...c,
      ecr: { ...c.ecr, clientLockout: { refusals: 1_000, windowMs: 60_000, lockoutMs: 60_000 } },
    }));
    const app = await startTerminalApp(config, { log: createLogger('silent') });
    running.push({ app, clients: [] });
    const journalBytes = () =>
      ['journal.sqlite', 'journal.sqlite-wal']
        .map((f) => join(dataDir, f))
        .reduce((sum, f) => sum + (existsSync(f) ? statSync(f).size : 0), 0);
    const before = journalBytes();
    const socket = net.connect({ host: '127.0.0.1', port: app.ecr.port });
    let replies = 0;
    socket.on('data', (chunk: Buffer) => {
      for (const byte of chunk) if (byte === 0x0a) replies++;
    });
    await new Promise((resolve) => socket.once('connect', resolve));
    const lines = Array.from({ length: guesses }, (_, i) =>
      JSON.stringify({ id: `g${i}`, cmd: 'status', token: `guess-${i}-0123456789` }),
    );
    socket.write(`${lines.join('\n')}\n`);
    await until(() => replies >= guesses, 'every guess answered', 20_000);
    socket.destroy();
    expect(app.journal.anomalies.list({ code: 'E511' })).toHaveLength(1);
    expect(journalBytes() - before).toBeLessThan(200_000);
    await app.stop();
    running.splice(0);
    const journal = Journal.open(join(dataDir, 'journal.sqlite'), { readonly: true });
    const reasons = journal.anomalies.list({ code: 'E511' }).map((a) => JSON.stringify(a));
    journal.close();
    expect(reasons).toHaveLength(2);
    expect(reasons[0]).toMatch(/client tcp:127\.0\.0\.1 presented no valid token/);
    expect(reasons.join('\n')).toMatch(/presented no valid token 899 times in the last 60 s/);
    // The guesses themselves are never journaled.
    expect(reasons.join('\n')).not.toMatch(/guess-/);
  }, 60_000);
});

describe('listening beyond loopback', () => {
  it('refuses to start without tokens, as a configuration error', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pos-abuse-'));
    const open = configFor(dataDir, (c) => ({ ...c, ecr: { ...c.ecr, host: '0.0.0.0', tokens: [] } }));
    await expect(startTerminalApp(open, { log: createLogger('silent') })).rejects.toBeInstanceOf(ConfigError);
    const file = join(dataDir, 'open.json');
    writeFileSync(file, JSON.stringify({ ecr: { host: '0.0.0.0' } }));
    expect(() => loadConfig({ path: file, env: {} })).toThrow(/ecr\.tokens: expected at least one token/);
    writeFileSync(file, JSON.stringify({ ecr: { host: '0.0.0.0', tokens: TOKENS } }));
    expect(loadConfig({ path: file, env: {} }).config.ecr.host).toBe('0.0.0.0');
  });
});
