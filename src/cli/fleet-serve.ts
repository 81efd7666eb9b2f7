/**
 * `pos-fleet serve`: the consumer with a web dashboard and a Prometheus endpoint (src/fleet/web/fleet-service.ts).
 * Registered on the pos-fleet program by one line in pos-fleet.ts.
 */
import { type Command, InvalidArgumentError } from 'commander';
import {
  EX_CONFIG,
  FleetConfigError,
  type FleetConfig,
  formatFleetConfigError,
  loadFleetConfig,
} from '../fleet/config.js';
import { BrokerRefusedError, BrokerUnavailableError } from '../fleet/consumer.js';
import { HistoryStoreError, historyLocation } from '../fleet/history/open.js';
import { startFleetService } from '../fleet/web/fleet-service.js';

const EX_UNAVAILABLE = 69;

interface ServeOptions {
  host?: string;
  port?: number;
  auditFile?: string;
  /** commander's --no-record. */
  record?: boolean;
}

function tcpPort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new InvalidArgumentError('--port must be from 0 to 65535');
  return n;
}

function note(line: string): void {
  process.stderr.write(`pos-fleet: ${line}\n`);
}

function configOf(cmd: Command, opts: ServeOptions): FleetConfig {
  const g = cmd.optsWithGlobals<{ config?: string; url?: string; fleet?: string; share?: string; clientId?: string }>();
  try {
    const config = loadFleetConfig({
      ...(g.config !== undefined ? { path: g.config } : {}),
      overrides: {
        ...(g.url !== undefined ? { url: g.url } : {}),
        ...(g.fleet !== undefined ? { fleet: g.fleet } : {}),
        ...(g.share !== undefined ? { share: g.share } : {}),
        ...(g.clientId !== undefined ? { clientId: g.clientId } : {}),
      },
    });
    if (opts.host !== undefined) config.web.host = opts.host;
    if (opts.port !== undefined) config.web.port = opts.port;
    if (opts.auditFile !== undefined) config.web.auditFile = opts.auditFile;
    return config;
  } catch (err) {
    if (!(err instanceof FleetConfigError)) throw err;
    process.stderr.write(formatFleetConfigError(err));
    process.exit(EX_CONFIG);
  }
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description(
      'run the consumer with a web dashboard (fleet table, terminal pages, alerts, commands with an audit trail) and /metrics for Prometheus',
    )
    .option('--host <address>', 'listen on this address (default: web.host, 127.0.0.1)')
    .option('--port <port>', 'listen on this port (default: web.port, 8080; 0 = any free port)', tcpPort)
    .option('--audit-file <file>', 'SQLite file of the command audit trail (default: web.auditFile)')
    .option('--no-record', 'read the history store without writing to it (when pos-fleet ingest processes fill it)')
    .action(async (opts: ServeOptions, cmd: Command) => {
      const config = configOf(cmd, opts);
      let service: Awaited<ReturnType<typeof startFleetService>>;
      try {
        service = await startFleetService({
          config,
          onNote: note,
          fromConfig: true,
          recordHistory: opts.record !== false,
        });
      } catch (err) {
        if (err instanceof HistoryStoreError) {
          note(err.message);
          process.exit(EX_UNAVAILABLE);
        }
        if (err instanceof BrokerRefusedError || err instanceof BrokerUnavailableError) {
          note(err.message);
          process.exit(EX_UNAVAILABLE);
        }
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
          note(`cannot listen on ${config.web.host}:${config.web.port}: ${code}`);
          process.exit(EX_UNAVAILABLE);
        }
        if (code === 'SQLITE_CANTOPEN') {
          note(`cannot open the command audit file ${config.web.auditFile}`);
          process.exit(EX_CONFIG);
        }
        throw err;
      }
      note(`subscribed to ${service.consumer.filter} at ${config.mqtt.url}`);
      note(`history ${opts.record === false ? 'read from' : 'kept in'} ${historyLocation(config.history)}`);
      note(
        `dashboard at ${service.url}/${config.web.metrics.enabled ? `, metrics at ${service.metricsUrl ?? service.url}/metrics` : ''}`,
      );
      const shutdown = (): void => {
        const force = setTimeout(() => process.exit(0), 2_000);
        force.unref();
        void service.stop().finally(() => process.exit(0));
      };
      process.once('SIGINT', shutdown);
      process.once('SIGTERM', shutdown);
    });
}
