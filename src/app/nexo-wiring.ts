/**
 * The nexo endpoint as the composition root starts it (only when `ecr.nexo.enabled`): the message handler on the
 * one command service, the HTTPS server with its certificate, and bad input journaled as anomalies.
 */
import type { Clock } from '../../hal/clock.js';
import type { AnomalyRecorder } from '../anomaly/recorder.js';
import type { PosConfig } from '../config/index.js';
import { BadInputTally } from '../ecr/index.js';
import type { Journal } from '../journal/index.js';
import { createNexoHandler } from '../nexo/handler.js';
import { nexoServerOptions } from '../nexo/from-config.js';
import { startNexoServer } from '../nexo/server.js';
import type { Logger } from '../util/log.js';
import type { CommandService } from './commands.js';
import { badInputReason } from './ecr-handler.js';

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
  // A flood of bad requests is one anomaly per client per interval, never one durable record per request.
  const badInput = new BadInputTally(deps.clock, config.ecr.badInputReportMs, (report) =>
    anomalies.raise('invalid-input', { reason: badInputReason(report, 'nexo', 'requests') }, { show: false }),
  );
  const handler = createNexoHandler({
    commands: deps.commands,
    journal: deps.journal,
    anomalies: {
      raise: (name, context, options) => {
        const client = /^nexo (\S+): /.exec(context.reason ?? '');
        if (name !== 'invalid-input' || !client) return anomalies.raise(name, context, options);
        badInput.note(client[1]!, 'message-format', context.reason!.slice(client[0].length));
        return undefined;
      },
    },
    clock: deps.clock,
    poiId: config.ecr.nexo.poiId || config.terminal.id,
    defaultCurrency: config.terminal.currency,
    merchantId: config.terminal.merchantId,
    locale: {
      ...(config.terminal.language ? { language: config.terminal.language } : {}),
      ...(config.terminal.timeZone ? { timeZone: config.terminal.timeZone } : {}),
    },
  });
  const server = await startNexoServer(
    nexoServerOptions(config, handler, {
      clock: deps.clock,
      onBadInput: (clientId, reason) => badInput.note(clientId, reason, reason),
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
  return {
    port: server.port,
    fingerprint: server.fingerprint,
    async stop() {
      await server.stop();
      badInput.stop();
    },
  };
}
