/**
 * Telemetry as the terminal starts it: the boot reason from the run marker, the embedded broker when the
 * configuration asks for it, the publisher connected to it (or to the configured broker), and the fleet commands
 * it hands over.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../../hal/clock.js';
import type { NetworkState } from '../../hal/network/contract.js';
import type { AnomalyRecorder } from '../anomaly/recorder.js';
import { packageRoot, type PosConfig } from '../config/index.js';
import type { Journal } from '../journal/index.js';
import type { ProbeResult } from '../selftest/host-probe.js';
import {
  type BirthFacts,
  type EmbeddedBroker,
  RunMarker,
  type RunMarkerOptions,
  TelemetryPublisher,
  type TelemetrySource,
} from '../telemetry/index.js';
import type { Logger } from '../util/log.js';
import { embeddedBrokerCredentials, fleetCommandKey } from './command-key.js';
import { createFleetCommandHandler, type FleetCommandService } from './fleet-commands.js';

/** The in-process broker, imported on first use: a terminal on a fleet broker never loads aedes. */
async function startEmbeddedBroker(config: PosConfig, log: Logger): Promise<EmbeddedBroker> {
  const credentials = embeddedBrokerCredentials(config);
  const broker = await import('../telemetry/embedded-broker.js');
  return broker.startEmbeddedBroker(config.mqtt.url, log, credentials);
}

export interface TelemetryDeps {
  config: PosConfig;
  dataDir: string;
  journal: Journal;
  anomalies: AnomalyRecorder;
  /** The terminal: what telemetry reports. */
  source: TelemetrySource;
  /** The one command service: fleet commands are served by it, as the register's are. */
  commands: FleetCommandService;
  clock: Clock;
  log: Logger;
  network?: { current(): NetworkState };
  probe?: { last(): ProbeResult | undefined };
  marker?: RunMarkerOptions;
}

export interface Telemetry {
  publisher: TelemetryPublisher;
  broker: EmbeddedBroker | undefined;
  /** The broker the publisher talks to (the embedded one's real port when it took port 0). */
  url: string;
  bootReason: RunMarker['reason'];
  stop(): Promise<void>;
}

export async function startTelemetry(deps: TelemetryDeps): Promise<Telemetry> {
  const { config, log } = deps;
  const mqtt = config.mqtt;
  const marker = RunMarker.begin(deps.dataDir, deps.marker);
  const bootedAt = deps.clock.now();
  const commandKey = fleetCommandKey(config, deps.dataDir, log, process.env, deps.anomalies);
  const broker = mqtt.embeddedBroker ? await startEmbeddedBroker(config, log) : undefined;
  const url = broker?.url ?? mqtt.url;
  const tls = mqtt.tls;
  const publisher: TelemetryPublisher = new TelemetryPublisher({
    url,
    terminalId: config.terminal.id,
    fleet: config.terminal.fleet,
    clientId: mqtt.clientId,
    username: mqtt.username,
    password: mqtt.password,
    tls: {
      ...(tls.caFile ? { ca: readFileSync(tls.caFile) } : {}),
      ...(tls.certFile ? { cert: readFileSync(tls.certFile) } : {}),
      ...(tls.keyFile ? { key: readFileSync(tls.keyFile) } : {}),
      rejectUnauthorized: tls.rejectUnauthorized,
    },
    healthIntervalMs: mqtt.healthIntervalMs,
    connectTimeoutMs: mqtt.connectTimeoutMs,
    keepaliveS: mqtt.keepaliveS,
    reconnect: mqtt.reconnect,
    commands: mqtt.commands,
    maxCommandBytes: mqtt.maxCommandBytes,
    commandKey,
    commandMaxAgeMs: mqtt.commandAuth.maxAgeMs,
    commandIdsFile: join(deps.dataDir, 'fleet-command-ids.json'),
    healthBurstMs: mqtt.healthCoalesce.burstMs,
    healthMinSpacingMs: mqtt.healthCoalesce.minSpacingMs,
    // Commands arrive once connected, after start() below: the handler exists by then.
    onCommand: (command) => fleetCommands(command),
    outboxMaxMessages: mqtt.outbox.maxMessages,
    birth: birthFacts(config),
    boot: { reason: marker.reason, atMs: bootedAt },
    dataDir: deps.dataDir,
    journal: deps.journal,
    anomalies: deps.anomalies,
    source: deps.source,
    clock: deps.clock,
    log,
    ...(deps.network ? { network: deps.network } : {}),
    ...(deps.probe ? { probe: deps.probe } : {}),
  });
  const fleetCommands = createFleetCommandHandler({ commands: deps.commands, telemetry: publisher });
  publisher.start();
  log.info(
    {
      url,
      bootId: publisher.bootId,
      bootReason: marker.reason,
      topics: publisher.topics.birth.replace(/\/birth$/, '/#'),
    },
    'telemetry started',
  );
  let stopping: Promise<void> | undefined;
  return {
    publisher,
    broker,
    url,
    bootReason: marker.reason,
    stop() {
      stopping ??= (async () => {
        await publisher.stop();
        await broker?.stop();
        marker.clean();
      })();
      return stopping;
    },
  };
}

export function birthFacts(config: PosConfig): BirthFacts {
  return {
    firmwareVersion: packageVersion(),
    configVersion: configVersion(config),
    capabilities: capabilities(config),
    model: hardwareModel(),
  };
}

function packageVersion(): string {
  try {
    return (
      (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version?: string }).version ??
      'unknown'
    );
  } catch {
    return 'unknown';
  }
}

/** A short hash of the effective configuration without its secrets: equal hashes, same settings. */
export function configVersion(config: PosConfig): string {
  const redacted = {
    ...config,
    mqtt: { ...config.mqtt, password: config.mqtt.password === null ? null : 'set' },
    ecr: { ...config.ecr, tokens: config.ecr.tokens.length },
    supervisor: null,
  };
  return createHash('sha256').update(JSON.stringify(redacted)).digest('hex').slice(0, 12);
}

function capabilities(config: PosConfig): string[] {
  const reader = config.hal.cardReader.driver;
  const caps =
    reader === 'hid' ? ['swipe'] : reader === 'serial' ? ['chip', 'contactless'] : ['chip', 'contactless', 'swipe'];
  caps.push('printer');
  if (config.offline.enabled) caps.push('offline');
  if (Object.values(config.hal).every((d) => d.driver === 'mock' || d.driver === 'console')) caps.push('simulator');
  return caps;
}

/** The board's own name where Linux exposes one (device tree on ARM boards, DMI on x86). */
function hardwareModel(): string {
  for (const path of ['/proc/device-tree/model', '/sys/devices/virtual/dmi/id/product_name']) {
    try {
      const text = readFileSync(path, 'utf8').replace(/\0/g, '').trim();
      if (text) return text.slice(0, 100);
    } catch {
      // Not on this kind of machine.
    }
  }
  return 'unknown';
}
