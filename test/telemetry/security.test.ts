/**
 * Connecting to a protected broker as configured: TLS with our CA and a client certificate (Mosquitto with
 * require_certificate), and username/password (an aedes broker that checks them).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes, type AuthenticateError } from 'aedes';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../hal/clock.js';
import { MockDisplay } from '../../hal/display/mock.js';
import { AnomalyRecorder } from '../../src/anomaly/recorder.js';
import { loadConfig, type PosConfig } from '../../src/config/index.js';
import { Journal } from '../../src/journal/index.js';
import { startTelemetry, type Telemetry } from '../../src/app/telemetry-wiring.js';
import { createLogger } from '../../src/util/log.js';
import { startMosquitto, type Mosquitto } from '../support/mosquitto.js';
import { requireTool } from '../support/tools.js';
import { until } from '../support/wait.js';
import { Consumer, FakeTerminal, fakeCommandService, makeRig, type Rig } from './harness.js';

/** A throwaway CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl. */
function makeCertificates(dir: string) {
  const openssl = requireTool('openssl');
  const ssl = (...args: string[]) => execFileSync(openssl, args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=test telemetry CA');
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\n');
  for (const [name, cn, ext] of [
    ['server', '127.0.0.1', 'server.ext'],
    ['client', 'TEST0001', undefined],
  ] as const) {
    ssl('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    ssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      ...(ext ? ['-extfile', ext] : []),
    );
  }
  // Mosquitto started as root reads them after dropping to its own user: throwaway test keys, so world-readable.
  chmodSync(dir, 0o755);
  for (const f of readdirSync(dir)) chmodSync(join(dir, f), 0o644);
  const p = (f: string) => join(dir, f);
  return {
    ca: p('ca.crt'),
    serverCert: p('server.crt'),
    serverKey: p('server.key'),
    clientCert: p('client.crt'),
    clientKey: p('client.key'),
  };
}

describe('TLS with a client certificate (Mosquitto, require_certificate)', () => {
  let dir: string;
  let certs: ReturnType<typeof makeCertificates>;
  let broker: Mosquitto;
  const started: Array<{ telemetry: Telemetry; journal: Journal }> = [];
  const consumers: Consumer[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'telemetry-tls-'));
    certs = makeCertificates(dir);
    broker = await startMosquitto({
      tls: { caFile: certs.ca, certFile: certs.serverCert, keyFile: certs.serverKey, requireCertificate: true },
    });
  });
  afterEach(async () => {
    for (const c of consumers.splice(0)) await c.close();
    for (const s of started.splice(0)) {
      await s.telemetry.stop();
      s.journal.close();
    }
  });
  afterAll(async () => {
    await broker?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Telemetry started from configuration, as compose does it (files read from the paths in mqtt.tls). */
  async function telemetryWith(tls: PosConfig['mqtt']['tls']) {
    const { config: defaults } = loadConfig({ env: {} });
    const dataDir = mkdtempSync(join(dir, 'data-'));
    const config: PosConfig = {
      ...defaults,
      dataDir,
      terminal: { ...defaults.terminal, id: 'TEST0001', fleet: 'tls-test' },
      mqtt: { ...defaults.mqtt, url: broker.url, embeddedBroker: false, clientId: `tls-${started.length}`, tls },
    };
    const clock = new ManualClock();
    const journal = Journal.open(join(dataDir, 'journal.sqlite'), { now: () => clock.now() });
    const log = createLogger('silent');
    const terminal = new FakeTerminal(clock);
    const telemetry = await startTelemetry({
      config,
      dataDir,
      journal,
      anomalies: new AnomalyRecorder(journal, new MockDisplay(), log),
      source: terminal,
      commands: fakeCommandService(terminal),
      clock,
      log,
    });
    started.push({ telemetry, journal });
    return { telemetry, clock };
  }

  it('connects with the CA, certificate and key named in the config', async () => {
    const { telemetry } = await telemetryWith({
      caFile: certs.ca,
      certFile: certs.clientCert,
      keyFile: certs.clientKey,
      rejectUnauthorized: true,
    });
    await until(() => telemetry.publisher.connected, 'TLS connection');
    const consumer = await Consumer.connect(broker.url, 'pos/v1/tls-test/TEST0001/#', {
      ca: readFileSync(certs.ca),
      cert: readFileSync(certs.clientCert),
      key: readFileSync(certs.clientKey),
      rejectUnauthorized: true,
    });
    consumers.push(consumer);
    await until(() => consumer.of('state').some((s) => s.message['online'] === true), 'state online over TLS');
  });

  it('is refused without a client certificate, and keeps retrying on the clock', async () => {
    const { telemetry, clock } = await telemetryWith({
      caFile: certs.ca,
      certFile: null,
      keyFile: null,
      rejectUnauthorized: true,
    });
    // Health timer plus, once the handshake has failed, the reconnect timer.
    await until(() => clock.pending() === 2, 'refused connection');
    expect(telemetry.publisher.connected).toBe(false);
    expect(telemetry.publisher.stats().outboxDepth).toBeGreaterThan(0);
  });
});

describe('username and password', () => {
  let aedes: Aedes;
  let server: Server;
  let url: string;
  const rigs: Rig[] = [];

  beforeAll(async () => {
    aedes = await Aedes.createBroker({
      authenticate: (_client, username, password, done) => {
        const ok = username === 'TEST0001' && password?.toString() === 's3cret';
        if (ok) return done(null, true);
        const err = new Error('bad credentials') as AuthenticateError;
        err.returnCode = 4;
        done(err, null);
      },
    });
    server = createServer(aedes.handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    url = `mqtt://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterEach(async () => {
    for (const r of rigs.splice(0)) await r.close();
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('connects with the configured credentials', async () => {
    const rig = makeRig(url, { username: 'TEST0001', password: 's3cret' });
    rigs.push(rig);
    rig.publisher.start();
    await until(() => rig.publisher.connected, 'authenticated connection');
  });

  it('stays offline (queueing) with wrong ones', async () => {
    const rig = makeRig(url, { username: 'TEST0001', password: 'wrong' });
    rigs.push(rig);
    rig.publisher.start();
    await until(() => rig.clock.pending() === 2, 'refused connection');
    expect(rig.publisher.connected).toBe(false);
  });
});
