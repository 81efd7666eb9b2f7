#!/usr/bin/env node
/**
 * pos-fleet: the fleet operator's view of the terminals' MQTT telemetry. Runs wherever the operator is (it uses the
 * telemetry contract and MQTT, nothing of the terminal).
 *   pos-fleet watch --url mqtts://broker:8883 --config /etc/pos-fleet/fleet.json     live table
 *   pos-fleet tail --json --fleet shop-paris-01 | jq .                               one JSON line per message
 *   pos-fleet alerts --share alerting                                                alert lines only
 *   pos-fleet command shop-paris-01/TERM0042 send-health                             send a command, print the result
 * Exit codes: 0 done, 1 command failed or bad usage, 69 broker unreachable or refusing, 75 no command result in time,
 * 78 bad configuration.
 */
import { Argument, Command, InvalidArgumentError } from 'commander';
import { systemClock } from '../../hal/clock.js';
import { AlertEngine, formatAlert, type Alert } from '../fleet/alerts.js';
import {
  EX_CONFIG,
  FleetConfigError,
  formatFleetConfigError,
  loadFleetConfig,
  type FleetConfig,
  type FleetConfigOverrides,
} from '../fleet/config.js';
import {
  BrokerRefusedError,
  BrokerUnavailableError,
  brokerOptionsFromConfig,
  COMMANDS,
  CommandTimeoutError,
  FleetConsumer,
  sendCommand,
  type ReceivedInfo,
} from '../fleet/consumer.js';
import type { TelemetryDecodeError, TelemetryMessage } from '../fleet/decode.js';
import { FleetState, fleetStateOptions } from '../fleet/state.js';
import { terminalTarget } from '../fleet/topics.js';
import { renderWatch, summarize } from '../fleet/table.js';
import { startFleetAlerting } from '../fleet/webhooks/fleet-alerting.js';
import { registerFleetHistory } from './fleet-history.js';
import { registerServe } from './fleet-serve.js';

const EX_UNAVAILABLE = 69;
const EX_TEMPFAIL = 75;

function seconds(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min || n > max)
      throw new InvalidArgumentError(`${name} must be a number of seconds from ${min} to ${max}`);
    return n;
  };
}

interface GlobalOptions {
  config?: string;
  url?: string;
  fleet?: string;
  share?: string;
  clientId?: string;
}

const program = new Command()
  .name('pos-fleet')
  .description(
    'Fleet telemetry consumer: decodes what the payment terminals publish on MQTT, shows their status, raises alerts, sends commands',
  )
  .option('--config <file>', 'fleet consumer config (JSON with comments; see config/fleet.example.json)')
  .option('--url <url>', 'broker URL (mqtt://, mqtts://, ws://, wss://); overrides mqtt.url')
  .option('--fleet <name>', 'only this fleet (default: all fleets)')
  .option('--share <group>', 'subscribe as $share/<group>/…: consumers in one group split the messages between them')
  .option(
    '--client-id <id>',
    'MQTT client id, kept across restarts so the broker keeps the session (default: mqtt.clientId, else pos-fleet-<host>-<fleet>[-<share>]); each consumer of a share group on one host needs its own',
  )
  .showHelpAfterError();

function write(line: string): void {
  process.stdout.write(line.endsWith('\n') ? line : `${line}\n`);
}

function note(line: string): void {
  process.stderr.write(`pos-fleet: ${line}\n`);
}

function fail(code: number, line: string): never {
  note(line);
  process.exit(code);
}

function loadConfig(cmd: Command): FleetConfig {
  const g = cmd.optsWithGlobals<GlobalOptions>();
  const overrides: FleetConfigOverrides = {
    ...(g.url !== undefined ? { url: g.url } : {}),
    ...(g.fleet !== undefined ? { fleet: g.fleet } : {}),
    ...(g.share !== undefined ? { share: g.share } : {}),
    ...(g.clientId !== undefined ? { clientId: g.clientId } : {}),
  };
  try {
    return loadFleetConfig({ ...(g.config !== undefined ? { path: g.config } : {}), overrides });
  } catch (err) {
    if (!(err instanceof FleetConfigError)) throw err;
    process.stderr.write(formatFleetConfigError(err));
    process.exit(EX_CONFIG);
  }
}

/** At most `perMinute` lines a minute about bad messages, then one line saying how many were not shown. */
function rateLimited(perMinute: number, out: (line: string) => void): (line: string) => void {
  let windowStart = Date.now();
  let shown = 0;
  let suppressed = 0;
  return (line) => {
    const now = Date.now();
    if (now - windowStart >= 60_000) {
      if (suppressed > 0) out(`${suppressed} more rejected message${suppressed === 1 ? '' : 's'} not shown`);
      windowStart = now;
      shown = 0;
      suppressed = 0;
    }
    if (shown < perMinute) {
      shown++;
      out(line);
    } else {
      suppressed++;
    }
  };
}

interface RunHandlers {
  onMessage?: (msg: TelemetryMessage, info: ReceivedInfo) => void;
  onAlert?: (alert: Alert) => void;
  onReject?: (error: TelemetryDecodeError) => void;
}

/** Starts the consumer with the config's state and alert settings; returns what the caller needs to render. */
async function runConsumer(config: FleetConfig, handlers: RunHandlers) {
  const clock = systemClock;
  const state = new FleetState({ clock, ...fleetStateOptions(config) });
  // The alert book, webhooks and anomaly detection, as `alertsDelivery` and `detect` configure them.
  const alerting = startFleetAlerting({
    delivery: config.alertsDelivery,
    detect: config.detect,
    clock,
    note,
    onDetection: (a) => handlers.onAlert?.(a as unknown as Alert),
  });
  const alerts = new AlertEngine({
    rules: config.alerts.rules,
    state,
    clock,
    checkIntervalMs: config.alerts.checkIntervalSeconds * 1000,
    clearAfterMs: config.alerts.clearAfterSeconds * 1000,
    onAlert: (a) => {
      alerting.onAlert(a);
      handlers.onAlert?.(a);
    },
  });
  let broker: ReturnType<typeof brokerOptionsFromConfig>;
  try {
    broker = brokerOptionsFromConfig(config);
  } catch (err) {
    fail(EX_CONFIG, (err as Error).message);
  }
  let lostNoted = false;
  const consumer = new FleetConsumer({
    ...broker,
    ...(config.fleet !== null ? { fleet: config.fleet } : {}),
    ...(config.share !== null ? { share: config.share } : {}),
    state,
    alerts,
    clock,
    onMessage: (msg, info) => {
      if (msg.type !== 'cmd') alerting.onMessage(msg, info.receivedAt);
      handlers.onMessage?.(msg, info);
    },
    onReject: (e) => handlers.onReject?.(e),
    onError: (e) => {
      if (!lostNoted) note(e.message);
    },
    onConnectionChange: (connected) => {
      if (!connected && !lostNoted) note(`lost the broker at ${config.mqtt.url}; reconnecting`);
      if (connected && lostNoted) note(`connected again to ${config.mqtt.url}`);
      lostNoted = !connected;
    },
  });
  try {
    await consumer.start();
  } catch (err) {
    if (err instanceof BrokerRefusedError || err instanceof BrokerUnavailableError) fail(EX_UNAVAILABLE, err.message);
    throw err;
  }
  alerts.start();
  note(`subscribed to ${consumer.filter} at ${config.mqtt.url}`);

  const shutdown = (): void => {
    alerts.stop();
    alerting.stop();
    const force = setTimeout(() => process.exit(0), 2_000);
    force.unref();
    void consumer.stop().finally(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  return { state, alerts, consumer, alerting };
}

program
  .command('watch')
  .description(
    'live table of every terminal: status, last seen, state, pending reversals, store-and-forward, link, anomalies, gaps and restarts',
  )
  .option('--interval <seconds>', 'redraw period', seconds('--interval', 0.2, 3600), 2)
  .action(async (opts: { interval: number }, cmd: Command) => {
    const config = loadConfig(cmd);
    const recentAlerts: Alert[] = [];
    let lastReject = '';
    const { state, consumer } = await runConsumer(config, {
      onAlert: (a) => {
        recentAlerts.push(a);
        if (recentAlerts.length > 8) recentAlerts.shift();
      },
      onReject: (e) => (lastReject = `${e.code}: ${e.message}`),
    });
    const tty = process.stdout.isTTY === true;
    const draw = (): void => {
      const stats = consumer.stats();
      const screen = renderWatch({
        at: Date.now(),
        title: `pos-fleet watch  ${config.mqtt.url}  ${consumer.filter}${stats.connected ? '' : '  (broker lost, reconnecting)'}`,
        info: [
          `messages ${stats.received}: ${stats.decoded} decoded, ${stats.rejected} rejected` +
            (lastReject ? ` (last: ${lastReject})` : ''),
        ],
        terminals: state.terminals(),
        recentAlerts,
        width: tty ? (process.stdout.columns ?? 0) : 0,
      });
      // Clear and home only on a terminal; piped output gets one plain screen after another.
      write(tty ? `\x1b[H\x1b[2J${screen}` : `${screen}\n`);
    };
    draw();
    setInterval(draw, opts.interval * 1000);
  });

program
  .command('tail')
  .description('print every decoded message as it arrives (rejected ones go to stderr)')
  .option(
    '--json',
    'one JSON object per line: topic, type, fleet, terminalId, header and the decoded fields, plus receivedAt, retained and sequence',
  )
  .action(async (opts: { json?: boolean }, cmd: Command) => {
    const config = loadConfig(cmd);
    const rejected = rateLimited(60, (line) => note(line));
    await runConsumer(config, {
      onMessage: (msg, info) => {
        if (opts.json) {
          write(
            JSON.stringify({
              ...msg,
              receivedAt: new Date(info.receivedAt).toISOString(),
              retained: info.retained,
              ...(info.result ? { sequence: info.result.disposition } : {}),
              ...(info.result?.gap !== undefined ? { gap: info.result.gap } : {}),
              ...(info.result?.restart ? { previousBootId: info.result.restart.previousBootId } : {}),
            }),
          );
        } else {
          const extra =
            info.result?.disposition === 'gap'
              ? ` [gap: ${info.result.gap} missing]`
              : info.result && info.result.disposition !== 'in-order' && info.result.disposition !== 'first'
                ? ` [${info.result.disposition}]`
                : '';
          write(
            `${new Date(info.receivedAt).toISOString()} ${summarize(msg)}${info.retained ? ' [retained]' : ''}${extra}`,
          );
        }
      },
      onReject: (e) => rejected(`rejected ${e.code}: ${e.message}`),
    });
  });

program
  .command('alerts')
  .description('print one line when an alert is raised and one when it clears, nothing else')
  .option('--json', 'one JSON object per alert')
  .action(async (opts: { json?: boolean }, cmd: Command) => {
    const config = loadConfig(cmd);
    const rejected = rateLimited(10, (line) => note(line));
    await runConsumer(config, {
      onAlert: (a) => write(opts.json ? JSON.stringify({ ...a, at: new Date(a.at).toISOString() }) : formatAlert(a)),
      onReject: (e) => rejected(`rejected ${e.code}: ${e.message}`),
    });
  });

program
  .command('command')
  .description('send a command to one terminal and print its result')
  .argument('<terminal>', 'terminal id (with --fleet or "fleet" in the config), or fleet/terminal')
  .addArgument(new Argument('<name>', 'what to do').choices(COMMANDS))
  .option(
    '--timeout <seconds>',
    'how long to wait for the result (default: commandTimeoutSeconds, 30)',
    seconds('--timeout', 0.1, 3600),
  )
  .option(
    '--by <operator>',
    'who issues it, recorded by the terminal (default: operator in the config, else user@host)',
  )
  .option('--json', 'print the CommandResult as JSON')
  .action(
    async (
      target: string,
      name: (typeof COMMANDS)[number],
      opts: { timeout?: number; by?: string; json?: boolean },
      cmd: Command,
    ) => {
      const config = loadConfig(cmd);
      const named = terminalTarget(target, config.fleet);
      if ('problem' in named) return program.error(`pos-fleet command: ${named.problem}`);
      const { fleet, terminalId } = named;
      let broker: ReturnType<typeof brokerOptionsFromConfig>;
      try {
        broker = brokerOptionsFromConfig(config);
      } catch (err) {
        fail(EX_CONFIG, (err as Error).message);
      }
      const issuedBy = opts.by ?? config.operator;
      try {
        const result = await sendCommand({
          ...broker,
          fleet,
          terminalId,
          name,
          ...(issuedBy !== null ? { issuedBy } : {}),
          timeoutMs: (opts.timeout ?? config.commandTimeoutSeconds) * 1000,
        });
        if (opts.json) write(JSON.stringify(result));
        else
          write(
            `${fleet}/${terminalId} ${name}: ${result.ok ? 'ok' : `failed (${result.error})`}${result.message ? ` - ${result.message}` : ''}`,
          );
        process.exit(result.ok ? 0 : 1);
      } catch (err) {
        if (err instanceof CommandTimeoutError) fail(EX_TEMPFAIL, err.message);
        if (err instanceof BrokerRefusedError || err instanceof BrokerUnavailableError)
          fail(EX_UNAVAILABLE, err.message);
        throw err;
      }
    },
  );

registerFleetHistory(program, loadConfig);
registerServe(program);

process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  // The reader went away (`pos-fleet tail --json | head`): stop quietly.
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

program.parseAsync().catch((err: unknown) => {
  process.stderr.write(`pos-fleet: ${(err as Error).message}\n`);
  process.exit(1);
});
