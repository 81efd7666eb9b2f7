/**
 * The in-process MQTT broker (aedes) of the desktop setup, so `npm start` works with nothing else installed. It
 * listens on the host and port of mqtt.url; port 0 takes a free one (and the log says which). A configured port
 * that is taken (a local Mosquitto, another terminal on this machine) is an EmbeddedPortTakenError: moving to a
 * free port would publish where no consumer looks.
 *
 * With credentials it admits only clients that present them (the terminal itself and pos-fleet); without, anyone on
 * the address may connect, which only the simulator setup allows (the wiring decides).
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { Aedes } from 'aedes';
import type { Logger } from '../util/log.js';
import { EmbeddedPortTakenError, isAddressInUse } from '../util/port-taken.js';

export interface EmbeddedBroker {
  /** Where clients connect: mqtt://host:actual-port. */
  url: string;
  host: string;
  port: number;
  stop(): Promise<void>;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => {
      server.off('listening', onListening);
      reject(err);
    };
    const onListening = () => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

export interface BrokerCredentials {
  username: string;
  password: string;
}

function same(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

export async function startEmbeddedBroker(
  url: string,
  log: Logger,
  credentials?: BrokerCredentials,
): Promise<EmbeddedBroker> {
  const parsed = new URL(url);
  if (parsed.protocol !== 'mqtt:') {
    throw new Error(
      `the embedded MQTT broker speaks plain mqtt:// only, not ${url}: set mqtt.embeddedBroker to false to use that broker`,
    );
  }
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
  const wanted = parsed.port === '' ? 1883 : Number(parsed.port);
  const broker = await Aedes.createBroker(
    credentials
      ? {
          authenticate: (client, username, password, done) => {
            const ok =
              username !== undefined &&
              password !== undefined &&
              same(Buffer.from(username), Buffer.from(credentials.username)) &&
              same(Buffer.from(password), Buffer.from(credentials.password));
            if (!ok)
              log.warn({ clientId: client?.id }, 'embedded MQTT broker refused a client without valid credentials');
            // CONNACK 4: bad user name or password.
            done(ok ? null : Object.assign(new Error('bad user name or password'), { returnCode: 4 }), ok);
          },
        }
      : {},
  );
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    broker.handle(socket);
  });
  let port: number;
  try {
    port = await listen(server, wanted, host);
  } catch (err) {
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    if (wanted !== 0 && isAddressInUse(err))
      throw new EmbeddedPortTakenError('MQTT broker', host, wanted, { cause: err });
    // E.g. EADDRNOTAVAIL: mqtt.url names another machine's broker while embeddedBroker is still true.
    throw new Error(
      `the embedded MQTT broker cannot listen on ${host}:${wanted} (${(err as Error).message}): set mqtt.embeddedBroker to false to use a broker elsewhere`,
      { cause: err },
    );
  }
  const shownHost = host.includes(':') ? `[${host}]` : host;
  log.info(
    { host, port },
    wanted === 0
      ? 'embedded MQTT broker listening on a free port (mqtt.url asks for port 0)'
      : 'embedded MQTT broker listening',
  );
  let stopping: Promise<void> | undefined;
  return {
    url: `mqtt://${shownHost}:${port}`,
    host,
    port,
    stop() {
      stopping ??= (async () => {
        await new Promise<void>((resolve) => broker.close(() => resolve()));
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const socket of sockets) socket.destroy();
        await closed;
      })();
      return stopping;
    },
  };
}
