/**
 * The error of an embedded service (the acquirer host simulator, the MQTT broker) whose configured port is taken.
 * It never moves to another port by itself: a terminal on a port nobody asked for talks past the operator, and
 * one beside somebody else's broker or host simulator would look as if it used it. The message names the port
 * and the two ways out: use what is listening there, or give the embedded one another port.
 */

export type EmbeddedService = 'acquirer host simulator' | 'MQTT broker';

const REMEDY: Record<EmbeddedService, (address: string) => string> = {
  'acquirer host simulator': (address) =>
    `to use the host listening there, set POS_HOST=${address} (or host.simulator.embedded to false); ` +
    'to run the embedded one elsewhere, give host.address another port (port 0 takes a free one)',
  'MQTT broker': (address) =>
    `to use the broker listening there, set POS_MQTT_URL=mqtt://${address} (or mqtt.embeddedBroker to false); ` +
    'to run the embedded one elsewhere, give mqtt.url another port (port 0 takes a free one)',
};

export class EmbeddedPortTakenError extends Error {
  override readonly name = 'EmbeddedPortTakenError';
  readonly code = 'EMBEDDED_PORT_TAKEN';

  constructor(
    readonly service: EmbeddedService,
    readonly host: string,
    readonly port: number,
    options?: { cause?: unknown },
  ) {
    const address = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    super(
      `the embedded ${service} cannot listen on ${address}: the port is taken by another program ` +
        `(a pos-host-sim, Mosquitto or another pos-terminal?); ${REMEDY[service](address)}`,
      options,
    );
  }
}

export function isAddressInUse(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'EADDRINUSE';
}

/**
 * Runs `listen` for an embedded service; EADDRINUSE on a configured (non-zero) port becomes EmbeddedPortTakenError.
 * Other errors pass unchanged.
 */
export async function listenEmbedded<T>(
  service: EmbeddedService,
  host: string,
  port: number,
  listen: () => Promise<T>,
): Promise<T> {
  try {
    return await listen();
  } catch (err) {
    if (port !== 0 && isAddressInUse(err)) throw new EmbeddedPortTakenError(service, host, port, { cause: err });
    throw err;
  }
}
