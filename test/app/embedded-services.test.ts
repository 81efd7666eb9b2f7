/**
 * Which embedded services run: a host or broker named in the environment is the real one, so the embedded
 * simulator or broker stays off; port 0 names nobody; a configured port that is taken refuses the start with an
 * EmbeddedPortTakenError instead of moving elsewhere.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTerminalApp, type TerminalApp } from '../../src/app/compose.js';
import { embeddedServices, withEmbeddedServices } from '../../src/app/embedded-services.js';
import { AcquirerHostSimulator } from '../../src/acquirer-sim/simulator.js';
import { loadConfig, type PosConfig } from '../../src/config/index.js';
import { EcrClient } from '../../src/ecr/client.js';
import { startEmbeddedBroker } from '../../src/telemetry/embedded-broker.js';
import { createLogger } from '../../src/util/log.js';
import { EmbeddedPortTakenError } from '../../src/util/port-taken.js';
import { loadTestMasterKey } from '../support/mac-keys.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pos-embedded-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A listener holding a loopback port, as a pos-host-sim or Mosquitto started beforehand would. */
async function occupiedPort(): Promise<number> {
  const server: Server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address();
  return typeof address === 'object' && address ? address.port : 0;
}

/** A loaded configuration for the in-process tests: free ECR port, fresh data directory, quiet log. */
function testConfig(change: (c: PosConfig) => PosConfig = (c) => c): PosConfig {
  const { config } = loadConfig({ env: {} });
  return change({
    ...config,
    dataDir: tempDir(),
    log: { level: 'silent' },
    host: { ...config.host, address: '127.0.0.1:0' },
    ecr: { ...config.ecr, port: 0, socketPath: null },
    mqtt: { ...config.mqtt, url: 'mqtt://127.0.0.1:0' },
  });
}

async function boot(config: PosConfig): Promise<TerminalApp> {
  const app = await startTerminalApp(config, { log: createLogger('silent') });
  cleanups.push(() => app.stop());
  return app;
}

async function refusal(config: PosConfig): Promise<unknown> {
  return boot(config).then(
    () => undefined,
    (err: unknown) => err,
  );
}

describe('the decision', () => {
  it('runs both on the desktop default, where nothing is named', () => {
    expect(embeddedServices(loadConfig({ env: {} }))).toEqual({ hostSimulator: true, broker: true });
  });

  it('POS_HOST names the acquirer: no embedded host simulator, the embedded broker still runs', () => {
    const loaded = loadConfig({ env: { POS_HOST: '127.0.0.1:9583' } });
    expect(embeddedServices(loaded)).toEqual({ hostSimulator: false, broker: true });
    const config = withEmbeddedServices(loaded);
    expect(config.host).toMatchObject({ address: '127.0.0.1:9583', simulator: { embedded: false } });
    expect(config.mqtt.embeddedBroker).toBe(true);
  });

  it('POS_MQTT_URL names the broker: no embedded broker, the embedded host simulator still runs', () => {
    for (const url of ['mqtt://127.0.0.1:1883', 'mqtt://127.0.0.1', 'mqtts://broker.example:8883']) {
      const loaded = loadConfig({ env: { POS_MQTT_URL: url } });
      expect(embeddedServices(loaded), url).toEqual({ hostSimulator: true, broker: false });
      expect(withEmbeddedServices(loaded).mqtt).toMatchObject({ url, embeddedBroker: false });
    }
  });

  it('both named: neither runs', () => {
    const loaded = loadConfig({ env: { POS_HOST: 'acquirer.example:8583', POS_MQTT_URL: 'mqtt://10.0.0.2:1883' } });
    expect(embeddedServices(loaded)).toEqual({ hostSimulator: false, broker: false });
  });

  it('port 0 names nobody: the embedded service runs on a free port', () => {
    const loaded = loadConfig({ env: { POS_HOST: '127.0.0.1:0', POS_MQTT_URL: 'mqtt://127.0.0.1:0' } });
    expect(embeddedServices(loaded)).toEqual({ hostSimulator: true, broker: true });
  });

  it('an empty variable names nothing', () => {
    expect(embeddedServices(loadConfig({ env: { POS_HOST: '', POS_MQTT_URL: '' } }))).toEqual({
      hostSimulator: true,
      broker: true,
    });
  });

  it('a file names them with the flags; an address in a file alone keeps what the flags say', () => {
    const dir = tempDir();
    const off = join(dir, 'off.json');
    writeFileSync(off, JSON.stringify({ host: { simulator: { embedded: false } }, mqtt: { embeddedBroker: false } }));
    expect(embeddedServices(loadConfig({ path: off, env: {} }))).toEqual({ hostSimulator: false, broker: false });
    const moved = join(dir, 'moved.json');
    writeFileSync(
      moved,
      JSON.stringify({ host: { address: '127.0.0.1:9584' }, mqtt: { url: 'mqtt://127.0.0.1:1884' } }),
    );
    expect(embeddedServices(loadConfig({ path: moved, env: {} }))).toEqual({ hostSimulator: true, broker: true });
  });
});

describe('starting with the decision', () => {
  it('a host named by POS_HOST is used: no simulator is embedded and that host approves the sale', async () => {
    const host = new AcquirerHostSimulator({ keepLedger: true });
    const { port } = await host.start();
    cleanups.push(() => host.stop());
    const loaded = loadConfig({ env: { POS_HOST: `127.0.0.1:${port}`, POS_MQTT_URL: 'mqtt://127.0.0.1:0' } });
    const config = { ...withEmbeddedServices(loaded), dataDir: tempDir() };
    loadTestMasterKey(config, host);
    const app = await boot({
      ...config,
      ecr: { ...config.ecr, port: 0, socketPath: null },
    });
    expect(app.hostSim).toBeUndefined();
    const client = await EcrClient.connect({ port: app.ecr.port });
    cleanups.push(() => client.close());
    const result = await client.call({ cmd: 'sale', amount: 1250 }, (m) => {
      if (m.type === 'state' && m['state'] === 'waitingForCard') void client.call({ cmd: 'sim.card', name: 'visa' });
    });
    expect(result).toMatchObject({ outcome: 'approved', responseCode: '00' });
    expect(host.ledger.filter((e) => e.dir === 'in' && e.mti === '0200')).toHaveLength(1);
  });

  it('the embedded host simulator on a taken port refuses the start with a typed error naming the port', async () => {
    const port = await occupiedPort();
    const error = await refusal(testConfig((c) => ({ ...c, host: { ...c.host, address: `127.0.0.1:${port}` } })));
    expect(error).toBeInstanceOf(EmbeddedPortTakenError);
    expect(error).toMatchObject({ service: 'acquirer host simulator', host: '127.0.0.1', port });
    const message = (error as Error).message;
    expect(message).toContain(`127.0.0.1:${port}`);
    expect(message).toContain(`POS_HOST=127.0.0.1:${port}`);
    expect(message).toContain('port 0 takes a free one');
  });

  it('the embedded broker on a taken port refuses the start with a typed error naming the port', async () => {
    const port = await occupiedPort();
    const error = await refusal(testConfig((c) => ({ ...c, mqtt: { ...c.mqtt, url: `mqtt://127.0.0.1:${port}` } })));
    expect(error).toBeInstanceOf(EmbeddedPortTakenError);
    expect(error).toMatchObject({ service: 'MQTT broker', host: '127.0.0.1', port });
    expect((error as Error).message).toContain(`POS_MQTT_URL=mqtt://127.0.0.1:${port}`);
  });

  it('the embedded broker alone: a taken port is the typed error, port 0 a free port it reports', async () => {
    const log = createLogger('silent');
    const port = await occupiedPort();
    await expect(startEmbeddedBroker(`mqtt://127.0.0.1:${port}`, log)).rejects.toBeInstanceOf(EmbeddedPortTakenError);
    const broker = await startEmbeddedBroker('mqtt://127.0.0.1:0', log);
    cleanups.push(() => broker.stop());
    expect(broker.port).toBeGreaterThan(0);
    expect(broker.url).toBe(`mqtt://127.0.0.1:${broker.port}`);
  });
});
