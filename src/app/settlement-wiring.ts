/** End of day on this terminal: the settlement service on the acquirer client, and its daily run when configured. */
import { merchantInfoOf } from './merchant-info.js';
import type { Clock } from '../../hal/clock.js';
import type { Printer } from '../../hal/printer/contract.js';
import type { AcquirerClient } from '../acquirer/acquirer-client.js';
import type { AnomalyRecorder } from '../anomaly/recorder.js';
import type { PosConfig } from '../config/index.js';
import type { Forwarder } from '../durability/forwarder.js';
import type { Journal } from '../journal/index.js';
import { AutoSettlement } from '../settlement/auto.js';
import { RetentionPurger } from '../settlement/retention.js';
import { SettlementLink } from '../settlement/link.js';
import { SettlementService } from '../settlement/settle.js';
import type { Logger } from '../util/log.js';

export interface SettlementWiring {
  service: SettlementService;
  stop(): void;
}

export function startSettlement(deps: {
  config: PosConfig;
  journal: Journal;
  acquirer: AcquirerClient;
  forwarder: Forwarder;
  printer: Printer;
  anomalies: AnomalyRecorder;
  clock: Clock;
  log: Logger;
}): SettlementWiring {
  const { config, clock, log } = deps;
  const { attempts, retryDelayMs, autoAt } = config.settlement;
  const link = new SettlementLink({
    acquirer: deps.acquirer,
    clock,
    terminalId: config.terminal.id,
    merchantId: config.terminal.merchantId,
    responseTimeoutMs: config.host.responseTimeoutMs,
    attempts,
    retryDelayMs,
  });
  const service = new SettlementService({
    journal: deps.journal,
    link,
    forwarder: deps.forwarder,
    clock,
    log,
    anomalies: deps.anomalies,
    defaultCurrency: config.terminal.currency,
    owedAttempts: attempts,
    retryDelayMs,
    merchant: merchantInfoOf(config),
    print: (doc) => deps.printer.print(doc),
  });
  const auto =
    autoAt !== null
      ? new AutoSettlement(clock, autoAt, async () => {
          const outcome = await service.settle();
          if (outcome.ok) log.info({ batch: outcome.value.batchNumber }, 'automatic settlement done');
          else log.warn({ error: outcome.error }, `automatic settlement not done: ${outcome.message}`);
        })
      : undefined;
  auto?.start();
  const purger = new RetentionPurger({
    journal: deps.journal,
    clock,
    log,
    retentionDays: config.journal.retentionDays,
    busy: () => service.running() || deps.journal.transactions.inFlight().length > 0,
  });
  purger.start();
  return {
    service,
    stop: () => {
      auto?.stop();
      purger.stop();
    },
  };
}
