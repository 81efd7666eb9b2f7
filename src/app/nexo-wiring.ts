/**
 * The nexo endpoint as the composition root starts it (only when `ecr.nexo.enabled`): the message handler on the
 * one command service, the HTTPS server with its certificate, and bad input journaled as anomalies.
 */
import type { Clock } from '../../hal/clock.js';
import type { AnomalyRecorder } from '../anomaly/recorder.js';
import type { PosConfig } from '../config/index.js';
import type { Journal } from '../journal/index.js';
import { createNexoHandler } from '../nexo/handler.js';
import { nexoServerOptions } from '../nexo/from-config.js';
import { startNexoServer } from '../nexo/server.js';
import type { Logger } from '../util/log.js';
import type { CommandService } from './commands.js';

export interface NexoEndpoint {
  port: number;
  /** SHA-256 of the certificate a nexo client pins (colon hex). */
  fingerprint: string;
  stop(): Promise<void>;
}

export interface NexoWiringDeps {
  config: PosConfig;
  commands: CommandService;
  journal: Journal;
  anomalies: Pick<AnomalyRecorder, 'raise'>;
  clock: Clock;
  log: Logger;
}

export async function startNexoEndpoint(deps: NexoWiringDeps): Promise<NexoEndpoint | undefined> {
  const { config, anomalies, log } = deps;
  if (!config.ecr.nexo.enabled) return undefined;
  const handler = createNexoHandler({
    commands: deps.commands,
    journal: deps.journal,
    anomalies,
    clock: deps.clock,
    poiId: config.ecr.nexo.poiId || config.terminal.id,
    defaultCurrency: config.terminal.currency,
    merchantId: config.terminal.merchantId,
  });
  const server = await startNexoServer(
    nexoServerOptions(config, handler, {
      onBadInput: (clientId, reason) =>
        anomalies.raise('invalid-input', { reason: `nexo ${clientId}: ${reason}` }, { show: false }),
      onHandlerError: (clientId, err) => {
        log.error({ err, clientId }, 'nexo message handler failed');
        anomalies.raise(
          'invalid-input',
          { reason: `nexo ${clientId}: the terminal could not answer` },
          { show: false },
        );
      },
    }),
  );
  log.info(
    { host: config.ecr.nexo.host, port: server.port, fingerprint: server.fingerprint },
    'nexo endpoint listening (HTTPS POST /nexo/)',
  );
  return server;
}
