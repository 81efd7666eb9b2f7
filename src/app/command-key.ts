/**
 * The fleet command key and the embedded broker's credentials, as the terminal starts telemetry. The key comes from
 * POS_MQTT_COMMAND_KEY, else mqtt.commandAuth.keyFile; the simulator setup (every device a mock) without one makes
 * a key in the data directory once and keeps it, so pos-fleet on the same machine can be pointed at that file.
 * Outside the simulator, no key means no fleet command runs, and the embedded broker requires credentials.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { AnomalyRecorder } from '../anomaly/recorder.js';
import type { PosConfig } from '../config/index.js';
import type { BrokerCredentials } from '../telemetry/embedded-broker.js';
import { loadCommandKey } from '../telemetry/wire-signature.js';
import { writeFileAtomically } from '../util/durable-file.js';
import type { Logger } from '../util/log.js';

export const COMMAND_KEY_ENV = 'POS_MQTT_COMMAND_KEY';
/** The key the simulator setup makes, in the data directory. */
export const SIMULATOR_KEY_FILE = 'fleet-command.key';

export function isSimulatorSetup(config: PosConfig): boolean {
  return Object.values(config.hal).every((d) => d.driver === 'mock' || d.driver === 'console');
}

export function fleetCommandKey(
  config: PosConfig,
  dataDir: string,
  log: Logger,
  env: NodeJS.ProcessEnv = process.env,
  anomalies?: AnomalyRecorder,
): Buffer | undefined {
  let configured: Buffer | undefined;
  try {
    configured = loadCommandKey({ file: config.mqtt.commandAuth.keyFile, envName: COMMAND_KEY_ENV, env });
  } catch (err) {
    // A missing or damaged key stops fleet commands, never payments: the terminal starts and refuses them all.
    const reason = `fleet command key unusable: ${(err as Error).message}; every fleet command will be refused`;
    log.error(reason);
    anomalies?.raise('config-error', { reason }, { show: false });
    return undefined;
  }
  if (configured) return configured;
  if (!isSimulatorSetup(config)) {
    log.warn(
      `no fleet command key (mqtt.commandAuth.keyFile or ${COMMAND_KEY_ENV}): every fleet command will be refused`,
    );
    return undefined;
  }
  const file = join(dataDir, SIMULATOR_KEY_FILE);
  try {
    const kept = loadCommandKey({ file, envName: COMMAND_KEY_ENV, env: {} });
    if (kept) return kept;
  } catch (err) {
    // Absent, or cut short by a crash or a full disk before it reached the disk: the simulator makes a new one.
    const why = (err as Error).message;
    if (!why.endsWith(': ENOENT')) log.warn(`simulator: the fleet command key is damaged (${why}): a new one is made`);
  }
  try {
    writeFileAtomically(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
  } catch (err) {
    log.error(`simulator: cannot write the fleet command key ${file} (${(err as Error).message}): commands refused`);
    return undefined;
  }
  log.info(
    { file },
    'simulator: fleet commands are signed with the key in this file (pos-fleet session.commandKeyFile)',
  );
  return loadCommandKey({ file, envName: COMMAND_KEY_ENV, env: {} });
}

export class EmbeddedBrokerCredentialsError extends Error {
  override readonly name = 'EmbeddedBrokerCredentialsError';
}

/** What the embedded broker asks of its clients: mqtt.username/password; none only in the simulator setup. */
export function embeddedBrokerCredentials(config: PosConfig): BrokerCredentials | undefined {
  const { username, password } = config.mqtt;
  if (username && password) return { username, password };
  if (isSimulatorSetup(config)) return undefined;
  throw new EmbeddedBrokerCredentialsError(
    'the embedded MQTT broker requires mqtt.username and mqtt.password outside the simulator setup (real devices configured): set them, or use a fleet broker (mqtt.embeddedBroker false)',
  );
}
