/**
 * Settings as a new user tries them: a separately started pos-host-sim named by POS_HOST and a Mosquitto named by
 * POS_MQTT_URL are the ones the terminal uses (no embedded simulator or broker binds or shadows them), POS_DATA_DIR
 * moves the ECR socket, the log on a pipe is JSON (and a bad POS_LOG_FORMAT is refused), and an embedded service
 * whose port is taken refuses the start with a message naming the port.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EcrClient } from '../../../src/ecr/client.js';
import { startCli, type RunningCli } from '../../support/cli.js';
import { loadMasterKeyWithCli, masterKeyFixture } from '../../support/mac-keys.js';
import { startMosquitto, type Mosquitto } from '../../support/mosquitto.js';
import { until } from '../../support/wait.js';
import { Consumer } from '../../telemetry/harness.js';

const dir = mkdtempSync(join(tmpdir(), 'pos-named-'));
const ledgerPath = join(dir, 'host-ledger.jsonl');
const dataDir = join(dir, 'data');
const READY = /^pos-terminal ready: ECR on 127\.0\.0\.1:(\d+)(?: and (\S+))?, state (\w+)$/m;

/** Every POS_ variable the test relies on, so the developer's own environment does not leak in. */
const baseEnv = {
  POS_CONFIG: '',
  POS_DATA_DIR: '',
  POS_HOST: '',
  POS_ECR_PORT: '0',
  POS_MQTT_URL: '',
  POS_LOG_LEVEL: 'info',
  POS_LOG_FORMAT: '',
};

let host: RunningCli;
let broker: Mosquitto;
let consumer: Consumer;
let terminal: RunningCli;
let client: EcrClient;
let hostPort = 0;

beforeAll(async () => {
  const keys = masterKeyFixture(dir);
  host = startCli('pos-host-sim', ['--port', '0', '--ledger', ledgerPath, '--master-keys', keys.keysFile]);
  await until(() => host.stdout().includes('listening') || host.child.exitCode !== null, 'host simulator');
  hostPort = (JSON.parse(host.stdout().split('\n')[0]!) as { port: number }).port;
  broker = await startMosquitto();
  consumer = await Consumer.connect(broker.url, 'pos/v1/#');
  loadMasterKeyWithCli(keys.components, [], { ...baseEnv, POS_DATA_DIR: dataDir });
  terminal = startCli('pos-terminal', [], {
    ...baseEnv,
    POS_HOST: `127.0.0.1:${hostPort}`,
    POS_MQTT_URL: broker.url,
    POS_DATA_DIR: dataDir,
  });
  await until(() => READY.test(terminal.stdout()) || terminal.child.exitCode !== null, 'terminal ready', 15_000);
  expect(terminal.stderr()).toBe('');
  expect(terminal.stdout()).toMatch(READY);
  client = await EcrClient.connect({ port: Number(READY.exec(terminal.stdout())![1]) });
}, 30_000);

afterAll(async () => {
  await client?.close();
  await consumer?.close();
  terminal?.child.kill('SIGTERM');
  host?.child.kill('SIGTERM');
  await Promise.all([terminal?.exited, host?.exited]);
  await broker?.kill();
  rmSync(dir, { recursive: true, force: true });
});

function logLines(): Array<Record<string, unknown>> {
  return terminal
    .stdout()
    .split('\n')
    .filter((line) => line !== '' && !READY.test(line))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('pos-terminal with POS_HOST, POS_MQTT_URL and POS_DATA_DIR', () => {
  it('a sale is approved by the pos-host-sim POS_HOST names', async () => {
    const result = await client.call({ cmd: 'sale', amount: 1250 }, (m) => {
      if (m.type === 'state' && m['state'] === 'waitingForCard') void client.call({ cmd: 'sim.card', name: 'visa' });
    });
    expect(result).toMatchObject({ type: 'result', outcome: 'approved', responseCode: '00', amount: 1250 });
    const ledger = readFileSync(ledgerPath, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const request = ledger.find((e) => e['dir'] === 'in' && e['mti'] === '0200');
    expect(request).toMatchObject({ amount: 1250, terminalId: 'SIM00001' });
    expect(ledger).toContainEqual(expect.objectContaining({ dir: 'out', mti: '0210', responseCode: '00' }));
  });

  it('telemetry goes to the Mosquitto POS_MQTT_URL names', async () => {
    await until(() => consumer.of('birth').some((b) => b.topic.endsWith('/SIM00001/birth')), 'birth on Mosquitto');
    await until(() => consumer.of('state').some((s) => s.message['online'] === true), 'state online on Mosquitto');
  });

  it('runs neither the embedded simulator nor the embedded broker', () => {
    const messages = logLines().map((l) => l['msg']);
    expect(messages).not.toContain('embedded acquirer host simulator listening');
    expect(messages.some((m) => typeof m === 'string' && m.startsWith('embedded MQTT broker listening'))).toBe(false);
    expect(logLines().find((l) => l['msg'] === 'telemetry started')).toMatchObject({ url: broker.url });
  });

  it('the ECR socket is in POS_DATA_DIR', async () => {
    expect(READY.exec(terminal.stdout())![2]).toBe(join(dataDir, 'ecr.sock'));
    const local = await EcrClient.connect({ path: join(dataDir, 'ecr.sock') });
    try {
      expect(await local.call({ cmd: 'status' })).toMatchObject({ type: 'status' });
    } finally {
      await local.close();
    }
  });

  it('logs JSON lines when stdout is not a terminal window', () => {
    const lines = logLines();
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((l) => l['service'] === 'pos-terminal' && typeof l['level'] === 'number')).toBe(true);
  });
});

describe('a bad POS_LOG_FORMAT', () => {
  it('is refused like a bad config key, before anything is created', async () => {
    const dataDirOfRun = join(dir, 'never-created');
    const run = startCli('pos-terminal', [], { ...baseEnv, POS_DATA_DIR: dataDirOfRun, POS_LOG_FORMAT: 'text' });
    expect(await run.exited).toBe(78);
    expect(run.stderr()).toBe('config error: POS_LOG_FORMAT: expected "json" or "pretty", found "text"\n');
    expect(existsSync(dataDirOfRun)).toBe(false);
  });
});

describe('an embedded service whose port is taken', () => {
  it('refuses the start with exit 70 and a message naming the port and what to set', async () => {
    const taken: Server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const address = taken.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const configPath = join(dir, 'taken.json');
    writeFileSync(configPath, JSON.stringify({ mqtt: { url: `mqtt://127.0.0.1:${port}` } }));
    try {
      const run = startCli('pos-terminal', [], {
        ...baseEnv,
        POS_CONFIG: configPath,
        POS_HOST: '127.0.0.1:0',
        POS_DATA_DIR: join(dir, 'taken-data'),
        POS_LOG_LEVEL: 'error',
      });
      expect(await run.exited).toBe(70);
      expect(run.stderr()).toContain(
        `pos-terminal: cannot start: the embedded MQTT broker cannot listen on 127.0.0.1:${port}`,
      );
      expect(run.stderr()).toContain(`POS_MQTT_URL=mqtt://127.0.0.1:${port}`);
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  });
});
