/**
 * Which embedded services run. The desktop default embeds an acquirer host simulator and an MQTT broker so that
 * `npm start` needs nothing else installed. An address named in the environment (POS_HOST, POS_MQTT_URL) means
 * the real one there: the embedded service stays off, so it neither binds that address (EADDRINUSE beside a
 * running pos-host-sim) nor slips onto another port while the operator's broker hears nothing. Port 0 names
 * nobody, so the embedded service keeps running and takes a free port.
 *
 * A configuration file says it with the flags themselves (host.simulator.embedded, mqtt.embeddedBroker).
 */
import { parseHostAddress, type LoadedConfig, type PosConfig } from '../config/index.js';

export interface EmbeddedServices {
  hostSimulator: boolean;
  broker: boolean;
}

/** The decision, from the loaded configuration and the environment variables that overrode it. */
export function embeddedServices(loaded: LoadedConfig): EmbeddedServices {
  const { config, sources } = loaded;
  const hostNamed = sources.includes('POS_HOST') && parseHostAddress(config.host.address).port !== 0;
  // The schema has checked the URL; a missing port is the scheme's default, which names a broker too.
  const brokerNamed = sources.includes('POS_MQTT_URL') && new URL(config.mqtt.url).port !== '0';
  return {
    hostSimulator: config.host.simulator.embedded && !hostNamed,
    broker: config.mqtt.embeddedBroker && !brokerNamed,
  };
}

/** The configuration with the decision applied to its two flags: what the terminal is started with. */
export function withEmbeddedServices(loaded: LoadedConfig): PosConfig {
  const { config } = loaded;
  const run = embeddedServices(loaded);
  return {
    ...config,
    host: { ...config.host, simulator: { ...config.host.simulator, embedded: run.hostSimulator } },
    mqtt: { ...config.mqtt, embeddedBroker: run.broker },
  };
}
