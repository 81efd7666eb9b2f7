/**
 * Telemetry as the composition root wires it: the embedded aedes broker on the port of mqtt.url (0 = a free one,
 * and the publisher finds it; a taken one refuses the start), the real terminal machine behind the publisher, and a
 * clean stop.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { startTerminalApp, type TerminalApp } from '../../src/app/compose.js';
import { loadConfig, type PosConfig } from '../../src/config/index.js';
import { EcrClient } from '../../src/ecr/client.js';
import { MARKER_FILE } from '../../src/telemetry/boot-marker.js';
import { wire } from '../../src/telemetry/wire.js';
import { signCommand } from '../../src/telemetry/wire-signature.js';
import { createLogger } from '../../src/util/log.js';
import { EmbeddedPortTakenError } from '../../src/util/port-taken.js';
import { freePort } from '../support/mosquitto.js';
import { until } from '../support/wait.js';
import { Consumer } from '../telemetry/harness.js';

const apps: TerminalApp[] = [];
const clients: EcrClient[] = [];
const consumers: Consumer[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const c of consumers.splice(0)) await c.close();
  for (const c of clients.splice(0)) await c.close();
  for (const a of apps.splice(0)) await a.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function testConfig(mqttUrl: string, dataDir = mkdtempSync(join(tmpdir(), 'pos-telemetry-'))): PosConfig {
  dirs.push(dataDir);
  const { config } = loadConfig({ env: {} });
  return {
    ...config,
    dataDir,
    terminal: { ...config.terminal, fleet: `compose-${process.pid}` },
    host: { ...config.host, address: '127.0.0.1:0' },
    ecr: { ...config.ecr, port: 0, socketPath: null },
    mqtt: { ...config.mqtt, url: mqttUrl, embeddedBroker: true },
  };
}

async function boot(config: PosConfig): Promise<TerminalApp> {
  const app = await startTerminalApp(config, { log: createLogger('silent') });
  apps.push(app);
  return app;
}

const filter = (config: PosConfig) => `pos/v1/${config.terminal.fleet}/${config.terminal.id}/#`;

describe('telemetry in the assembled terminal', () => {
  it('with port 0 the embedded broker takes a free port and the publisher connects to it', async () => {
    const config = testConfig('mqtt://127.0.0.1:0');
    const app = await boot(config);
    const port = Number(new URL(app.telemetry.url).port);
    expect(port).toBeGreaterThan(0);
    expect(app.telemetry.broker?.port).toBe(port);
    const consumer = await Consumer.connect(app.telemetry.url, filter(config));
    consumers.push(consumer);
    await until(() => consumer.of('state').some((s) => s.message['online'] === true), 'retained state online');
    expect(app.telemetry.bootReason).toBe('first');
  });

  it('reports boot, sales, anomalies and a clean stop from the real terminal', async () => {
    const port = await freePort();
    const config = testConfig(`mqtt://127.0.0.1:${port}`);
    // The consumer cannot connect before the broker exists, so it asks for a rebirth and reads the rest live.
    const app = await boot(config);
    expect(app.telemetry.url).toBe(`mqtt://127.0.0.1:${port}`);
    const consumer = await Consumer.connect(app.telemetry.url, filter(config));
    consumers.push(consumer);
    await until(() => app.telemetry.publisher.connected, 'publisher connected');
    app.telemetry.publisher.rebirth();
    await until(() => consumer.of('birth').length > 0 && consumer.of('health').length > 0, 'birth and health');
    expect(consumer.of('birth')[0]!.message).toMatchObject({
      bootReason: 'BOOT_REASON_FIRST',
      capabilities: expect.arrayContaining(['printer', 'offline', 'simulator']),
    });
    expect(consumer.of('health').at(-1)!.message).toMatchObject({ state: 'OPERATION_STATE_READY' });

    const client = await EcrClient.connect({ port: app.ecr.port });
    clients.push(client);
    const sale = (amount: number, card: string) =>
      client.call({ cmd: 'sale', amount }, (m) => {
        if (m.type === 'state' && m['state'] === 'waitingForCard') void client.call({ cmd: 'sim.card', name: card });
      });
    expect(await sale(1250, 'visa')).toMatchObject({ outcome: 'approved' });
    expect(await sale(2500, 'insufficient-funds')).toMatchObject({ outcome: 'declined' });

    // A sale's start is not news (Health is coalesced, one per burst of changes); its end and outcome are.
    // 51 is E202 (insufficient funds), not the generic E201.
    await until(() => consumer.of('event').some((e) => e.message['code'] === 'E202'), 'decline event');
    const decline = consumer.of('event').find((e) => e.message['code'] === 'E202')!.message;
    expect(decline).toMatchObject({
      kind: 'anomaly',
      amountMinor: 2500,
      currency: '978',
      message: expect.stringContaining('51 Insufficient funds'),
    });
    expect(decline['maskedPan']).toMatch(/^\d{6}\*+\d{4}$/);
    app.telemetry.publisher.publishHealth();
    await until(() => {
      const outcomes = consumer.of('health').at(-1)!.message['outcomes'] as Array<{ key: string; count: number }>;
      return (
        outcomes.some((o) => o.key === 'approved' && o.count === 1) &&
        outcomes.some((o) => o.key === 'declined' && o.count === 1)
      );
    }, 'outcome counters');
    // No full PAN in anything published.
    for (const r of consumer.received) expect(r.payload.toString('latin1')).not.toMatch(/\d{13,19}/);

    await app.stop();
    apps.splice(apps.indexOf(app), 1);
    await until(() => consumer.of('state').some((s) => s.message['online'] === false), 'offline state');
    expect(consumer.of('state').at(-1)!.message).toMatchObject({ online: false, reason: 'shutdown' });
    expect(readFileSync(join(config.dataDir, MARKER_FILE), 'utf8')).toMatch(/^clean /);

    // Same data directory again: a clean restart, and the broker on the same port.
    const again = await boot(config);
    expect(again.telemetry.bootReason).toBe('clean');
    expect(again.telemetry.url).toBe(`mqtt://127.0.0.1:${port}`);
  });

  it('sells while the broker accepts connections but never answers; what it has to say waits on disk', async () => {
    // A black hole: TCP accepted, no CONNACK ever.
    const sockets: Socket[] = [];
    const hole = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => hole.listen(0, '127.0.0.1', resolve));
    const address = hole.address();
    const config = testConfig(`mqtt://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`);
    config.mqtt = { ...config.mqtt, embeddedBroker: false };
    try {
      const app = await boot(config);
      expect(app.terminal.status().state).toBe('ready');
      const client = await EcrClient.connect({ port: app.ecr.port });
      clients.push(client);
      const result = await client.call({ cmd: 'sale', amount: 2500 }, (m) => {
        if (m.type === 'state' && m['state'] === 'waitingForCard')
          void client.call({ cmd: 'sim.card', name: 'insufficient-funds' });
      });
      expect(result).toMatchObject({ outcome: 'declined' });
      expect(app.telemetry.publisher.connected).toBe(false);
      const queued = app.journal.outbox.peek(0, 1000);
      expect(queued.filter((r) => r.kind === 'event').length).toBeGreaterThanOrEqual(2);
      // The boot's burst of changes makes one Health, made offline: it waits on disk, marked historical.
      await until(() => app.journal.outbox.peek(0, 1000).some((r) => r.kind === 'health'), 'health queued');
      const health = app.journal.outbox.peek(0, 1000).find((r) => r.kind === 'health')!;
      expect(wire.Health.decode(health.payload).historical).toBe(true);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => hole.close(() => resolve()));
    }
  });

  it('five refused fleet commands are journaled and answered, and the terminal stays ready (no lockout)', async () => {
    const config = testConfig('mqtt://127.0.0.1:0');
    const app = await boot(config);
    const consumer = await Consumer.connect(app.telemetry.url, filter(config));
    consumers.push(consumer);
    await until(() => app.telemetry.publisher.connected, 'publisher connected');
    const cmdTopic = `pos/v1/${config.terminal.fleet}/${config.terminal.id}/cmd`;
    const forger = Buffer.from('not the fleet key, but long enough to be one');
    for (let i = 1; i <= 6; i++) {
      const command = {
        commandId: `forged-${i}`,
        name: wire.CommandName.COMMAND_NAME_RUN_SELF_TEST,
        issuedAtMs: Date.now(),
        issuedBy: 'mallory',
        fleet: config.terminal.fleet,
        terminalId: config.terminal.id,
      };
      await consumer.publish(cmdTopic, i % 2 ? signCommand(forger, command) : wire.Command.encode(command).finish());
    }
    await until(() => consumer.of('cmd-result').length === 6, 'six refusals answered');
    expect(consumer.of('cmd-result').map((r) => r.message['error'])).toEqual(
      Array(6).fill('COMMAND_ERROR_UNAUTHENTICATED'),
    );
    expect(app.journal.anomalies.list().filter((a) => a.code === 'E510')).toHaveLength(6);
    expect(app.terminal.status().state).toBe('ready');

    // The simulator's own key (made in the data directory) does command it.
    const key = readFileSync(join(config.dataDir, 'fleet-command.key'), 'utf8').trim();
    await consumer.publish(
      cmdTopic,
      signCommand(Buffer.from(key), {
        commandId: 'signed-1',
        name: wire.CommandName.COMMAND_NAME_SEND_HEALTH,
        issuedAtMs: Date.now(),
        issuedBy: 'ops',
        fleet: config.terminal.fleet,
        terminalId: config.terminal.id,
      }),
    );
    await until(() => consumer.of('cmd-result').length === 7, 'signed command answered');
    expect(consumer.of('cmd-result').at(-1)!.message).toMatchObject({ commandId: 'signed-1', ok: true });
  });

  it('outside the simulator the embedded broker requires credentials, and then refuses clients without them', async () => {
    const base = testConfig('mqtt://127.0.0.1:0');
    const real = { ...base, hal: { ...base.hal, network: { driver: 'linux', interface: null } } } as PosConfig;
    await expect(boot(real)).rejects.toThrow(/requires mqtt.username and mqtt.password/);
    const app = await boot({ ...base, mqtt: { ...base.mqtt, username: 'terminal', password: 'a-long-secret' } });
    await until(() => app.telemetry.publisher.connected, 'publisher connected with the credentials');
    await expect(connectAsync(app.telemetry.url, { reconnectPeriod: 0, connectTimeout: 2_000 })).rejects.toThrow(
      /Bad username or password|Not authorized/i,
    );
    const allowed = await Consumer.connect(app.telemetry.url, filter(base), {
      username: 'terminal',
      password: 'a-long-secret',
    });
    consumers.push(allowed);
  });

  it('refuses to start when the configured port is busy, instead of moving to another one unasked', async () => {
    const first = await boot(testConfig('mqtt://127.0.0.1:0'));
    const busy = first.telemetry.broker!.port;
    const error = await boot(testConfig(`mqtt://127.0.0.1:${busy}`)).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(EmbeddedPortTakenError);
    expect(error).toMatchObject({ service: 'MQTT broker', port: busy });
    expect((error as Error).message).toContain(`POS_MQTT_URL=mqtt://127.0.0.1:${busy}`);
    // The first terminal and its broker are untouched.
    expect(first.telemetry.broker!.port).toBe(busy);
  });
});
