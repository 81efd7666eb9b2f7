/**
 * The composition root: the one place where configuration, HAL drivers, the journal, the host link, the
 * machines and the ECR API meet. Reading this file tells how the terminal is put together.
 */
import { merchantInfoOf } from './merchant-info.js';
import { mkdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { systemClock, type Clock } from '../../hal/clock.js';
import type { Display } from '../../hal/display/contract.js';
import type { PinPad } from '../../hal/pin-pad/contract.js';
import { TcpHostLink } from '../../hal/acquirer-link/tcp.js';
import { AnomalyRecorder } from '../anomaly/recorder.js';
import { parseHostAddress, type PosConfig } from '../config/index.js';
import { LockoutFile } from '../ecr/index.js';
import { openVaultAtBoot, type CardVault } from '../durability/card-vault.js';
import { Forwarder } from '../durability/forwarder.js';
import { AcquirerClient, isoCorrelator } from '../acquirer/acquirer-client.js';
import { MacSession } from '../acquirer/mac-session.js';
import { HostAvailability } from '../acquirer/host-availability.js';
import { RiskControls } from '../risk/controls.js';
import type { AcquirerHostSimulator, HostSimOptions } from '../acquirer-sim/simulator.js';
import { openRecordedJournal, type Journal } from '../journal/index.js';
import { HostProbe } from '../selftest/host-probe.js';
import { runSelfTest } from '../selftest/selftest.js';
import { OperatorConfirmations } from '../selftest/health-levels.js';
import { startTelemetry, type Telemetry } from './telemetry-wiring.js';
import { FLEET_COMMAND_REFUSED } from '../telemetry/command-intake.js';
import { Terminal } from '../terminal/terminal.js';
import { createLogger, type Logger } from '../util/log.js';
import { listenEmbedded } from '../util/port-taken.js';
import { CommandService } from './commands.js';
import { startEcr } from './ecr-wiring.js';
import { startSettlement } from './settlement-wiring.js';
import { startMacKeys } from './mac-wiring.js';
import { messageProfileOf } from './message-profile.js';
import { PreauthExpiry } from '../terminal/preauth-expiry.js';
import type { PreauthSettings } from '../terminal/effects/index.js';
import { buildDevices } from './devices.js';
import { xstateClockFrom } from './xstate-clock.js';
import { RegisterOutput } from '../terminal/register-output.js';
import { startNexoEndpoint, type NexoEndpoint } from './nexo-wiring.js';
import type { MockDevices } from './mock-devices.js';
import { SimCommands } from './sim-commands.js';

export type { MockDevices } from './mock-devices.js';

export interface AppOptions {
  clock?: Clock;
  log?: Logger;
  /** Where the console display draws (the simulator's terminal window). */
  consoleOut?: Writable;
  /** Ledger file for the embedded host simulator. */
  hostLedgerPath?: string;
  /** Options of the embedded host simulator (a soak keeps its repeat memory small). */
  hostSim?: Pick<HostSimOptions, 'maxRemembered'>;
}

export interface TerminalApp {
  config: PosConfig;
  terminal: Terminal;
  journal: Journal;
  probe: HostProbe;
  hostSim: AcquirerHostSimulator | undefined;
  mocks: MockDevices;
  ecr: { port: number; socketPath: string | null };
  display: Display;
  log: Logger;
  telemetry: Telemetry;
  /** What every front end calls: the ECR API, the console. */
  commands: CommandService;
  simulator: SimCommands;
  /** The nexo endpoint, when `ecr.nexo.enabled`. */
  nexo: NexoEndpoint | undefined;
  stop(): Promise<void>;
}

export async function startTerminalApp(config: PosConfig, options: AppOptions = {}): Promise<TerminalApp> {
  const clock = options.clock ?? systemClock;
  const log = options.log ?? createLogger(config.log.level);
  const dataDir = resolve(config.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });

  // Checked against its outside record; a journal that cannot be opened throws, naming its files and what to do.
  const recorded = openRecordedJournal(dataDir, { now: () => clock.now() });
  const { journal } = recorded;
  const heldLocks: string[] = recorded.fault
    ? [`storage fault: ${recorded.fault.cause}: ${recorded.fault.message}`]
    : [];
  if (recorded.fault) log.error({ cause: recorded.fault.cause }, recorded.fault.message);
  const stops: Array<() => Promise<void> | void> = [() => journal.close()];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) {
      try {
        await stop();
      } catch (err) {
        log.error({ err }, 'shutdown step failed');
      }
    }
  };

  try {
    // The acquirer: the embedded simulator on the configured address, or a real host.
    let { host, port } = parseHostAddress(config.host.address);
    let hostSim: AcquirerHostSimulator | undefined;
    if (config.host.simulator.embedded) {
      // Only the embedded simulator needs it; a terminal on a real acquirer never loads it.
      const { AcquirerHostSimulator: HostSimulator } = await import('../acquirer-sim/simulator.js');
      hostSim = new HostSimulator({
        host,
        port,
        clock,
        keepLedger: false,
        ...(options.hostLedgerPath ? { ledgerPath: options.hostLedgerPath } : {}),
        ...options.hostSim,
      });
      const sim = hostSim;
      // A taken port is an EmbeddedPortTakenError: the terminal never moves its acquirer somewhere unasked.
      ({ host, port } = await listenEmbedded('acquirer host simulator', host, port, () => sim.start()));
      stops.push(() => sim.stop());
      log.info({ host, port }, 'embedded acquirer host simulator listening');
    }
    const tls = config.host.tls;
    const hostLink = new TcpHostLink({
      host,
      port,
      clock,
      correlator: isoCorrelator,
      responseTimeoutMs: config.host.responseTimeoutMs,
      connectTimeoutMs: config.host.connectTimeoutMs,
      reconnect: config.host.reconnect,
      maxFrameBytes: config.host.maxFrameBytes,
      ...(tls.enabled
        ? {
            tls: {
              ...(tls.caFile ? { ca: readFileSync(tls.caFile) } : {}),
              ...(tls.certFile ? { cert: readFileSync(tls.certFile) } : {}),
              ...(tls.keyFile ? { key: readFileSync(tls.keyFile) } : {}),
              ...(tls.serverName ? { serverName: tls.serverName } : {}),
              rejectUnauthorized: tls.rejectUnauthorized,
            },
          }
        : {}),
    });
    hostLink.on('up', ({ remote }) => log.info({ remote }, 'host link up'));
    hostLink.on('down', ({ reason }) =>
      reason === 'link stopped' ? log.info({ reason }, 'host link down') : log.warn({ reason }, 'host link down'),
    );
    hostLink.start();
    stops.push(() => hostLink.stop());

    const { reader, printer, network, display, pinPad, mocks } = await buildDevices(config, clock, options.consoleOut);
    const anomalies = new AnomalyRecorder(journal, display, log, config.terminal.language);
    // A device that does not open is not fatal here: the self-test finds it and locks or limits sales. Both handlers
    // are attached at once: a printer failing while the reader still opens was an unhandled rejection (a crash).
    const devices: Array<[string, { open(): Promise<void> }]> = [
      ['card reader', reader],
      ['printer', printer],
      ...(pinPad ? [['PIN pad', pinPad] as [string, PinPad]] : []),
    ];
    await Promise.all(
      devices.map(([device, d]) => d.open().catch((err: unknown) => log.error({ err, device }, 'device did not open'))),
    );
    try {
      await network.start();
    } catch (err) {
      anomalies.raise('network-device-fault', { reason: (err as Error).message }, { show: false });
    }
    stops.push(
      () => network.stop(),
      () => reader.close().catch(() => {}),
      () => printer.close().catch(() => {}),
      () => pinPad?.close().catch(() => {}),
    );

    // Store-and-forward needs the card vault; an unsafe key, or a missing one with nothing sealed that may not be
    // created, refuses the start (VaultError). With sealed cards waiting, a missing or wrong key locks instead.
    const sealed = journal.sealedCards.count();
    let vault: CardVault | undefined;
    if (config.offline.enabled || sealed > 0) {
      const boot = openVaultAtBoot({
        keyFile: resolve(dataDir, config.offline.keyFile),
        createIfMissing: config.offline.createKeyIfMissing,
        sealed,
        oldest: journal.sealedCards.oldest(),
        keyCheck: journal.sealedCards.keyCheck(),
      });
      if ('fault' in boot) {
        heldLocks.push(`storage fault: vault ${boot.code}: ${boot.fault}`);
        log.error({ cause: boot.code }, boot.fault);
      } else {
        vault = boot.vault;
        if (boot.created) log.warn({ keyFile: vault.keyFile }, 'card vault key created (nothing was sealed)');
        if (heldLocks.length === 0 && journal.sealedCards.keyCheck() !== vault.keyCheckValue())
          journal.sealedCards.setKeyCheck(vault.keyCheckValue());
      }
    }
    const mac = new MacSession(config.host.mac);
    const acquirer = new AcquirerClient(hostLink, mac);
    // Probe assigned below: the echo goes through the same client, so its answer is what brings the host back.
    let echo: () => Promise<unknown> = () => Promise.resolve();
    const hostAvailability = new HostAvailability({
      clock,
      downAfterTimeouts: config.host.downAfterTimeouts,
      probeIntervalMs: config.host.downProbeIntervalMs,
      probe: () => echo(),
      onChange: (down) => {
        if (down)
          log.warn(
            { after: config.host.downAfterTimeouts },
            'host not answering: sales go offline until an echo is answered',
          );
        else {
          log.info('host answering again');
          forwarder.kick();
        }
      },
    });
    acquirer.watch((outcome) => hostAvailability.observe(outcome));
    stops.push(() => hostAvailability.stop());
    // The MAC keys: the master key from the key store, a sign-on now and whenever the key is dropped.
    const keys = { dataDir, journal, vault, mac, acquirer, hostLink, hostSim, anomalies };
    stops.push(startMacKeys({ ...keys, config, clock, log }).stop);
    // Lockouts (the supervisor PIN's, the register clients') outlive a restart: a restart must not reset the tries.
    const lockouts = new LockoutFile(resolve(dataDir, 'lockouts.json'), {
      now: () => clock.now(),
      damagedHoldMs: config.ecr.clientLockout.lockoutMs,
    });
    const risk = new RiskControls({
      now: () => clock.now(),
      pinHash: config.supervisor.pinHash,
      supervisorLockouts: lockouts.section('supervisor'),
    });
    const forwarder = new Forwarder({
      journal,
      acquirer,
      vault,
      clock,
      log,
      anomalies,
      backoff: { initialDelayMs: config.forwarding.initialDelayMs, maxDelayMs: config.forwarding.maxDelayMs },
      intervalMs: config.forwarding.intervalMs,
      responseTimeoutMs: config.host.responseTimeoutMs,
    });
    hostLink.on('unsolicited', ({ key, reason }) => {
      // A late or second answer is never honoured; it is recorded so support can see the host misbehaved.
      anomalies.raise(
        reason === 'late' ? 'late-response' : 'malformed-response',
        { reason: `${reason} response${key ? ` for ${key}` : ''}` },
        { show: false },
      );
    });

    const probe = new HostProbe({
      acquirer,
      clock,
      terminalId: config.terminal.id,
      nextStan: () => journal.counters.nextStan(),
      intervalMs: config.selftest.echoIntervalMs,
    });
    echo = () => probe.probeNow();
    const terminal = new Terminal({
      runSelfTest: () =>
        runSelfTest({
          reader,
          printer,
          acquirer,
          dataDir,
          clock,
          terminalId: config.terminal.id,
          nextStan: () => journal.counters.nextStan(),
          timeLimitMs: config.selftest.timeLimitMs,
          minFreeBytes: config.selftest.minFreeBytes,
          ...(pinPad ? { reopen: [pinPad] } : {}),
        }),
      selfTestIntervalMs: config.selftest.intervalMs,
      reader,
      printer,
      display,
      journal,
      anomalies,
      clock,
      log,
      hostLink,
      network,
      acquirer,
      forwarder,
      risk,
      hostAvailability,
      offline: config.offline,
      ...(vault ? { vault } : {}),
      heldLocks,
      merchant: merchantInfoOf(config),
      kickDrawerOnSale: config.hal.printer.drawer?.kickOnSale ?? false,
      responseTimeoutMs: config.host.responseTimeoutMs,
      messageProfile: messageProfileOf(config),
      ...(pinPad ? { pinPad } : {}),
      ...(config.emv.enabled ? { emv: config.emv } : {}),
      preauth: preauthSettingsOf(config),
      ...(config.tips.prompt ? { tips: { maxPercent: config.tips.maxPercent, timeoutMs: config.tips.timeoutMs } } : {}),
      limits: config.transaction,
      defaultCurrency: config.terminal.currency,
      ...(clock === systemClock ? {} : { xstateClock: xstateClockFrom(clock) }),
    });
    // Every front end (register, console, fleet) is served by this one command service.
    let nexo: NexoEndpoint | undefined;
    const nexoStatus = () => (nexo ? { port: nexo.port, fingerprint: nexo.fingerprint } : undefined);
    const registerOutput = new RegisterOutput({
      display,
      printer,
      anomalies,
      clock,
      log,
      status: () => terminal.status(),
      ...(config.terminal.language ? { language: config.terminal.language } : {}),
      drawer: Boolean(config.hal.printer.drawer),
    });
    let ecrLockouts: { list(): unknown[]; clear(): void } | undefined;
    const settlement = startSettlement({ config, journal, acquirer, forwarder, printer, anomalies, clock, log });
    stops.push(() => settlement.stop());
    const commands = new CommandService({
      ...{ clock, risk, terminal, journal, anomalies, config, registerOutput },
      settlement: settlement.service,
      nexo: nexoStatus,
      clientLockouts: () => ecrLockouts,
      preauth: preauthSettingsOf(config),
      health: { reader, confirmations: new OperatorConfirmations(clock), terminalId: config.terminal.id },
    });
    // Telemetry listens before boot, so recovery and the boot self-test are reported; the broker never holds up a sale.
    const telemetry = await startTelemetry({
      config,
      dataDir,
      journal,
      anomalies,
      source: terminal,
      commands,
      clock,
      log,
      network,
      probe,
    });
    stops.push(() => telemetry.stop());
    // The forwarder runs before boot recovery, so what recovery finds owed goes out at once. Not on a held lock: a
    // journal under question or sealed cards without their key send nothing (and nothing is set aside).
    if (heldLocks.length === 0) {
      forwarder.start();
      stops.push(() => forwarder.stop());
    }
    await terminal.start();
    stops.push(() => terminal.stop());
    // Holds left open past preauth.expiryDays are released (not on a held lock: nothing is written then).
    if (heldLocks.length === 0) {
      const expiry = new PreauthExpiry({
        journal,
        anomalies,
        clock,
        log,
        forwarder,
        intervalMs: config.preauth.expiryCheckIntervalMs,
        expiryDays: config.preauth.expiryDays,
      });
      expiry.start();
      stops.push(() => expiry.stop());
    }
    // The lockout policy watches every anomaly: repeated suspected fraud, tamper or a storage fault lock sales.
    // Refusals of a client's rights (class unauthorized) lock that client out (ecr-wiring.ts), never the terminal.
    anomalies.onAnomaly(({ definition, context }) => {
      // A refused fleet command is journaled and reported, never punished: publishing on the broker cannot lock.
      if (definition.class === 'unauthorized' || context.detail?.[FLEET_COMMAND_REFUSED] === true) return;
      const verdict = risk.lockout.observe(definition.name, definition.class, clock.now());
      if (verdict.lock) terminal.lock(verdict.reason);
    });
    probe.start();
    stops.push(() => probe.stop());

    const simulatorMode = Object.values(config.hal).every(
      (device) => device.driver === 'mock' || device.driver === 'console',
    );
    const simulator = new SimCommands({ mocks, hostSim, simulatorMode });
    const running = await startEcr({
      config,
      dataDir,
      clock,
      log,
      anomalies,
      commands,
      simulator,
      simulatorMode,
      lockouts,
    });
    stops.push(() => running.stop());
    ecrLockouts = running.clientLockout;
    const ecr = { port: running.port, socketPath: running.socketPath };
    log.info({ port: ecr.port, socketPath: ecr.socketPath }, 'ECR API listening');
    nexo = await startNexoEndpoint({ config, commands, journal, anomalies, clock, log });
    if (nexo) stops.push(() => nexo?.stop() ?? Promise.resolve());

    return {
      config,
      terminal,
      journal,
      probe,
      hostSim,
      mocks,
      ecr,
      display,
      log,
      telemetry,
      commands,
      simulator,
      nexo,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

function preauthSettingsOf(config: PosConfig): PreauthSettings {
  return {
    completionMessage: config.host.completionMessage,
    expiryDays: config.preauth.expiryDays,
    completionTolerancePercent: config.preauth.completionTolerancePercent,
  };
}
