/**
 * The NDJSON ECR API as the terminal runs it: the server with its limits under abuse (connections, idle time, rate
 * per client), bad input aggregated into one anomaly per client per interval, and per-client lockouts kept in
 * the data directory so a restart does not lift them.
 */
import { resolve } from 'node:path';
import type { Clock } from '../../hal/clock.js';
import type { AnomalyRecorder } from '../anomaly/recorder.js';
import { ConfigError, type PosConfig } from '../config/index.js';
import {
  addressKey,
  BadInputTally,
  EcrServer,
  isLoopbackHost,
  type LockoutFile,
  refusedTokenReason,
} from '../ecr/index.js';
import { ClientLockout, DEFAULT_CLIENT_LOCKOUT } from '../risk/client-lockout.js';
import type { Logger } from '../util/log.js';
import type { CommandService } from './commands.js';
import { badInputReason, EcrCommandHandler } from './ecr-handler.js';
import type { SimCommands } from './sim-commands.js';

export interface EcrWiringDeps {
  config: PosConfig;
  dataDir: string;
  clock: Clock;
  log: Logger;
  anomalies: AnomalyRecorder;
  commands: CommandService;
  simulator: SimCommands;
  simulatorMode: boolean;
  lockouts: LockoutFile;
}

export interface RunningEcr {
  server: EcrServer;
  port: number;
  socketPath: string | null;
  /** The per-client lockouts: `list()`, and `clear()` (all, on a supervisor unlock) or `clear(client)`. */
  clientLockout: ClientLockout;
  stop(): Promise<void>;
}

/** Beyond loopback anyone on the network reaches the API: without a token the start is refused (exit 78). */
export function requireTokensBeyondLoopback(ecr: Pick<PosConfig['ecr'], 'host' | 'tokens'>): void {
  if (isLoopbackHost(ecr.host) || ecr.tokens.length > 0) return;
  throw new ConfigError([
    {
      path: 'ecr.tokens',
      expected: `at least one token when ecr.host (${ecr.host}) is not a loopback address`,
      found: '[]',
    },
  ]);
}

export async function startEcr(deps: EcrWiringDeps): Promise<RunningEcr> {
  const { config, clock, anomalies, log } = deps;
  const ecr = config.ecr;
  requireTokensBeyondLoopback(ecr);
  const badInput = new BadInputTally(clock, ecr.badInputReportMs ?? 60_000, (report) =>
    anomalies.raise('invalid-input', { reason: badInputReason(report) }, { show: false }),
  );
  // A token-guessing flood is one anomaly per client per interval too, so it cannot grow the journal.
  const refusedTokens = new BadInputTally(clock, ecr.badInputReportMs ?? 60_000, (report) =>
    anomalies.raise('unknown-ecr-client', { reason: refusedTokenReason(report) }, { show: false }),
  );
  if (deps.lockouts.damage) {
    // Journaled, and the terminal runs on: the salvaged locks hold and every client is locked at its first refusal.
    log.warn({ err: deps.lockouts.damage }, 'lockouts file damaged');
    anomalies.raise('system-fault', { reason: deps.lockouts.damage.message }, { show: false });
  }
  const clientLockout = new ClientLockout(
    { ...(ecr.clientLockout ?? DEFAULT_CLIENT_LOCKOUT), persistence: deps.lockouts.section('clients') },
    () => clock.now(),
  );
  let server: EcrServer | undefined;
  const handler = new EcrCommandHandler({
    commands: deps.commands,
    simulator: deps.simulator,
    anomalies,
    badInput,
    onRefused: (principal) => server?.refused(principal),
  });
  server = new EcrServer(handler, {
    host: ecr.host,
    port: ecr.port,
    // A relative socket path lives in the data directory (so POS_DATA_DIR moves it); an absolute one stays.
    socketPath: ecr.socketPath ? resolve(deps.dataDir, ecr.socketPath) : null,
    maxLineBytes: ecr.maxLineBytes,
    simulatorCommands: deps.simulatorMode,
    tokens: ecr.tokens,
    clock,
    maxConnections: ecr.maxConnections,
    idleTimeoutMs: ecr.idleTimeoutMs,
    ...(ecr.rateLimit ? { rateLimit: ecr.rateLimit } : {}),
    clientLockout,
    onClientLocked: (principal, until) =>
      anomalies.raise(
        'unauthorized-operation',
        { reason: `ECR client ${principal} locked out until ${new Date(until).toISOString()} after repeated refusals` },
        { show: false },
      ),
    onUnauthorized: (clientId) => refusedTokens.note(addressKey(clientId), 'no-valid-token', 'no valid token'),
    onProtocolError: (clientId, error) => handler.protocolError(clientId, error),
    onHandlerError: (clientId, request, err) => {
      log.error({ err, clientId, cmd: request.cmd }, 'ECR command failed');
      anomalies.raise(
        'system-fault',
        { reason: `ECR ${request.cmd} failed: ${(err as Error)?.message ?? String(err)}` },
        { show: false },
      );
    },
  });
  const started = await server.start();
  const running = server;
  return {
    server: running,
    ...started,
    clientLockout,
    stop: async () => {
      await running.stop();
      badInput.stop();
      refusedTokens.stop();
    },
  };
}
