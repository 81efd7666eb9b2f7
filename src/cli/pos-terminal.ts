#!/usr/bin/env node
/**
 * pos-terminal: runs the payment terminal. On the default configuration that is the desktop simulator (mock
 * devices, embedded acquirer host simulator); `--config` points it at real hardware.
 *   pos-terminal                     run (interactive console when started in a terminal)
 *   pos-terminal --demo              scripted tour, summary table, exit 0 when every step went as expected
 *   pos-terminal journal anomalies   list or export the journal
 *   pos-terminal journal adopt --yes take a restored journal as this terminal's (see journal check)
 *   pos-terminal hash-pin            make the scrypt hash of a supervisor PIN for the config
 *   pos-terminal keys load           load the terminal master key from its components (see README)
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Command } from 'commander';
import type { TerminalApp } from '../app/compose.js';
import { withEmbeddedServices } from '../app/embedded-services.js';
import {
  ConfigError,
  EX_CONFIG,
  formatConfigError,
  loadConfig,
  loadConfigOrExit,
  type PosConfig,
} from '../config/index.js';
import { registerJournalCommand } from './journal-command.js';
import { registerBatchCommands } from './journal-batches.js';
import { registerJournalRecordCommands } from './journal-adopt.js';
import { registerSetAsideCommands } from './journal-set-aside.js';
import { registerKeysCommand } from './keys-command.js';
import { Journal, JournalError } from '../journal/index.js';
import { FilePermissionError, secureDataDir } from '../security/file-permissions.js';
import { EmbeddedPortTakenError } from '../util/port-taken.js';
import { systemClock } from '../../hal/clock.js';
import { connectServiceManager } from '../service/service-manager.js';

const EX_SOFTWARE = 70;

function fail(message: string, code: number): never {
  process.stderr.write(`pos-terminal: ${message}\n`);
  process.exit(code);
}

async function start(config: PosConfig, demo: boolean): Promise<void> {
  // Data directory and journal private to this account (created so; refused with exit 78 when loosened since).
  try {
    secureDataDir(config.dataDir, join(config.dataDir, 'journal.sqlite'));
  } catch (err) {
    if (err instanceof FilePermissionError) fail(`cannot start: ${err.message}`, EX_CONFIG);
    fail(`cannot prepare data directory ${config.dataDir}: ${(err as Error).message}`, EX_SOFTWARE);
  }
  // Loaded here, not at the top: `journal` and `hash-pin` need none of the terminal (machines, MQTT, broker).
  const [{ startTerminalApp }, { VaultError }] = await Promise.all([
    import('../app/compose.js'),
    import('../durability/card-vault.js'),
  ]);
  // systemd (Type=notify): the watchdog pings from here on, READY once the boot self-test has run.
  const service = connectServiceManager({
    clock: systemClock,
    onError: (err) => process.stderr.write(`pos-terminal: service manager: ${err.message}\n`),
  });
  let app: TerminalApp;
  try {
    app = await startTerminalApp(config);
  } catch (err) {
    if (err instanceof VaultError) fail(`cannot start: ${err.message}`, EX_CONFIG);
    // A configuration checked only at start (an API beyond loopback without tokens).
    if (err instanceof ConfigError) fail(`config error:\n${formatConfigError(err)}`, EX_CONFIG);
    // A journal that cannot be opened: the message names its files (kept as they are) and the recovery steps.
    if (err instanceof JournalError) fail(`cannot start: ${err.message}`, EX_SOFTWARE);
    // The message names the port and what to set.
    if (err instanceof EmbeddedPortTakenError) fail(`cannot start: ${err.message}`, EX_SOFTWARE);
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      fail(`${(err as Error).message}: is another pos-terminal running? (set POS_ECR_PORT)`, EX_SOFTWARE);
    fail((err as Error).message, EX_SOFTWARE);
  }
  const shutdown = async (exitCode: number) => {
    await service.stopping();
    await app.stop();
    service.close();
    process.exit(exitCode);
  };
  process.once('SIGINT', () => void shutdown(0));
  process.once('SIGTERM', () => void shutdown(0));

  if (demo) {
    const { runDemo } = await import('../app/demo.js');
    const steps = await runDemo(app.ecr.port, '1234', process.stdout);
    const failed = steps.filter((s) => !s.ok);
    process.stdout.write(
      `\n${steps.length - failed.length}/${steps.length} steps as expected; journal: ${join(config.dataDir, 'journal.sqlite')}\n`,
    );
    await shutdown(failed.length === 0 ? 0 : 1);
    return;
  }
  await service.ready(`state ${app.terminal.status().state}`);
  process.stdout.write(
    `pos-terminal ready: ECR on 127.0.0.1:${app.ecr.port}${app.ecr.socketPath ? ` and ${app.ecr.socketPath}` : ''}, state ${app.terminal.status().state}\n`,
  );
  if (process.stdin.isTTY) {
    const { runConsole } = await import('../app/console.js');
    await runConsole(app, process.stdin, process.stdout);
    await shutdown(0);
  }
}

const program = new Command()
  .name('pos-terminal')
  .description('Payment terminal: transaction machine, devices, acquirer link, journal and ECR API')
  .option('--config <file>', 'configuration overlay (default: config/default.json only, or POS_CONFIG)')
  .option('--demo', 'run a scripted tour on the simulator, print a summary table and exit')
  .action(async (opts: { config?: string; demo?: boolean }) => {
    // A host or broker named in the environment is the real one: no embedded simulator or broker in its place.
    let config = withEmbeddedServices(loadConfigOrExit(opts.config ? { path: opts.config } : {}));
    // Checked before anything is created, like a bad config key (pino loads only on this path).
    try {
      (await import('../util/log.js')).logFormat();
    } catch (err) {
      process.stderr.write(`config error: ${(err as Error).message}\n`);
      process.exit(EX_CONFIG);
    }
    if (opts.demo) {
      // The tour runs on a fresh journal and free ports so it can run beside a running terminal.
      config = {
        ...config,
        dataDir: mkdtempSync(join(tmpdir(), 'pos-demo-')),
        // The table is the demo's output; anomalies it provokes on purpose are in its journal, not on the console.
        log: { level: process.env['POS_LOG_LEVEL'] ? config.log.level : 'error' },
        host: { ...config.host, address: '127.0.0.1:0', simulator: { embedded: true } },
        ecr: { ...config.ecr, port: 0, socketPath: null, tokens: [] },
        // The embedded broker on a free port too; a broker named in the environment gets the tour's telemetry.
        mqtt: config.mqtt.embeddedBroker ? { ...config.mqtt, url: 'mqtt://127.0.0.1:0' } : config.mqtt,
        hal: {
          ...config.hal,
          cardReader: { driver: 'mock' },
          printer: { ...config.hal.printer, driver: 'mock' },
          network: { driver: 'mock', interface: null },
        },
      };
    }
    await start(config, opts.demo ?? false);
  });

program
  .command('hash-pin')
  .description('read a supervisor PIN from standard input and print its scrypt hash for supervisor.pinHash')
  .action(async () => {
    const rl = createInterface({ input: process.stdin, terminal: false });
    const pin = await new Promise<string>((resolve) =>
      rl.once('line', (line) => {
        rl.close();
        resolve(line.trim());
      }),
    );
    if (!/^\d{4,12}$/.test(pin)) fail('a supervisor PIN is 4 to 12 digits', 2);
    const { hashPin } = await import('../security/pin.js');
    process.stdout.write(`${hashPin(pin)}\n`);
  });

function dataDirOf(opts: { config?: string }): string {
  try {
    return loadConfig(opts.config ? { path: opts.config } : {}).config.dataDir;
  } catch (err) {
    if (err instanceof ConfigError) fail(`config error:\n${formatConfigError(err)}`, EX_CONFIG);
    throw err;
  }
}

const journalCommand = registerJournalCommand(program, (opts) =>
  // Read-only: the terminal may be running and owns the file.
  Journal.open(join(dataDirOf(opts), 'journal.sqlite'), { readonly: true }),
);
registerJournalRecordCommands(journalCommand, dataDirOf);
registerBatchCommands(journalCommand, (opts) =>
  Journal.open(join(dataDirOf(opts), 'journal.sqlite'), { readonly: true }),
);
registerSetAsideCommands(
  journalCommand,
  (opts) => Journal.open(join(dataDirOf(opts), 'journal.sqlite'), { readonly: true }),
  // The one write support makes beside a running terminal: a small commit, waiting out the terminal's own.
  (opts) => Journal.open(join(dataDirOf(opts), 'journal.sqlite')),
);
registerKeysCommand(program, (opts) => {
  try {
    return loadConfig(opts.config ? { path: opts.config } : {}).config;
  } catch (err) {
    if (err instanceof ConfigError) fail(`config error:\n${formatConfigError(err)}`, EX_CONFIG);
    throw err;
  }
});

program.parseAsync().catch((err: unknown) => fail((err as Error).message, EX_SOFTWARE));
