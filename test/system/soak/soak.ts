/**
 * The soak: the whole terminal in one process on the simulated clock (mock HAL, the embedded host simulator on
 * loopback, a real Mosquitto for telemetry, the journal on disk), driven over the ECR API by a seeded random
 * workload of sales, refunds and voids with faults mixed in: host timeouts, link drops, garbled, late and doubled
 * answers, printer and card-read faults, cancels, offline periods and broker outages, and the chip's branches
 * (chip-steps.ts: online PIN right and wrong, contactless under and over its limits, approvals the card refuses or
 * does not finish, issuer scripts, offline approvals by the card, fallback to the stripe, a host answer whose MAC
 * fails). Every financial message is MACed (host.mac "required" by default). Between transactions the clock moves
 * 20–60 s, so health reports, echo tests, periodic self-tests and the forwarder all run as in the field.
 *
 * While it runs, every log line, ECR message, telemetry payload and printed receipt is scanned for card data (and the
 * PINs the cardholders type, in clear or as a clear PIN block) and then dropped, so the process keeps nothing it does
 * not have to; heap and RSS are sampled after a forced GC at the end of warm-up and at the end. Afterwards the caller
 * reconciles the host ledger with the journal.
 */
import { readFileSync, rmSync, statSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { connect as mqttConnect } from 'mqtt';
import { ManualClock } from '../../../hal/clock.js';
import { startTerminalApp, type TerminalApp } from '../../../src/app/compose.js';
import { loadConfig, type PosConfig } from '../../../src/config/index.js';
import { Journal } from '../../../src/journal/index.js';
import { EcrClient, type EcrMessage } from '../../../src/ecr/client.js';
import { testCard } from '../../../src/card/test-cards.js';
import { createLogger } from '../../../src/util/log.js';
import { startMosquitto, type Mosquitto } from '../../support/mosquitto.js';
import { prng } from '../../support/prng.js';
import { CHIP_STEPS, Cardholder, type ChipLimits, type ChipStepKind, PIN_CARDS, SOAK_PIN } from './chip-steps.js';
import { type DaySettlement, endOfDay } from './end-of-day.js';
import { cardSecrets, DECLINE_CARDS, HOST_AMOUNT, MIX, SOAK_EMV_FLOOR_LIMIT, type StepKind } from './soak-mix.js';

export interface SoakOptions {
  transactions: number;
  seed: number;
  /** Log level of the terminal while soaking (every line is scanned). */
  logLevel?: 'trace' | 'debug' | 'info';
  /** Called every `progressEvery` transactions. */
  onProgress?: (done: number, report: { elapsedS: number; heapMb: number }) => void;
  progressEvery?: number;
}

export interface SoakReport {
  name: 'soak';
  seed: number;
  transactions: number;
  durationS: number;
  transactionsPerSecond: number;
  simulatedDays: number;
  /** Steps by kind; a chip step that needs a new sale for its next PIN counts once, its sales count each. */
  steps: Record<string, number>;
  results: Record<string, number>;
  /** Outcomes of the chip steps' sales, by step (e.g. chip-pin-retry: declined 55 then approved). */
  chipResults: Record<string, Record<string, number>>;
  /** Wall-clock milliseconds spent in each kind of step (the transaction itself, not the time between customers). */
  stepMs: Record<string, number>;
  /** Sales refused because the terminal had locked itself, by reason; the soak then unlocks as a supervisor. */
  lockReasons: Record<string, number>;
  /** Heap after a forced GC, at the end of warm-up (10% of the run, at least 500 transactions) and at the end. */
  heapWarmupMb: number;
  heapEndMb: number;
  heapGrowthMb: number;
  rssWarmupMb: number;
  rssEndMb: number;
  rssGrowthMb: number;
  journalBytes: number;
  journalRows: number;
  journalBytesPer1000: number;
  scanned: { logLines: number; ecrMessages: number; telemetryMessages: number; receipts: number; screens: number };
  /** Where card data was found in clear (must be empty). */
  leaks: string[];
}

export interface SoakRun {
  report: SoakReport;
  /** The terminal's data directory (journal, host ledger); removed by cleanup(). */
  dataDir: string;
  journalPath: string;
  ledgerPath: string;
  /** STANs (6 digits) of offline sales on cards the host declines: their advices are set aside, money not collected. */
  expectedSetAside: string[];
  /** Each simulated day's settlement and the last one after the drain, with the host's record of each. */
  settlements: DaySettlement[];
  /** What the closed batches counted, by STAN (read before the terminal stopped). */
  counted: Array<{ stan: number; kind: string; amount: number }>;
  /** The app, stopped; its journal is closed. Open the journal read-only to reconcile. */
  cleanup(): void;
}

/** A forced full GC without starting node with --expose-gc. */
function gcFunction(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

function soakConfig(dataDir: string, mqttUrl: string, logLevel: PosConfig['log']['level']): PosConfig {
  const { config } = loadConfig({ env: {} });
  return {
    ...config,
    dataDir,
    log: { ...config.log, level: logLevel },
    host: { ...config.host, address: '127.0.0.1:0', responseTimeoutMs: 30_000, simulator: { embedded: true } },
    ecr: { ...config.ecr, port: 0, socketPath: null },
    mqtt: {
      ...config.mqtt,
      url: mqttUrl,
      embeddedBroker: false,
      reconnect: { initialDelayMs: 1_000, maxDelayMs: 30_000 },
    },
    offline: { ...config.offline, enabled: true, keyFile: 'keys/saf.key', createKeyIfMissing: true },
    emv: { ...config.emv, floorLimit: SOAK_EMV_FLOOR_LIMIT },
    forwarding: { initialDelayMs: 1_000, maxDelayMs: 8_000, intervalMs: 30_000 },
  };
}

export async function runSoak(options: SoakOptions): Promise<SoakRun> {
  const random = prng(options.seed);
  const gc = gcFunction();
  const dataDir = mkdtempSync(join(tmpdir(), 'pos-soak-'));
  const journalPath = join(dataDir, 'journal.sqlite');
  const ledgerPath = join(dataDir, 'host-ledger.jsonl');
  const secrets = cardSecrets();
  const leaks = new Set<string>();
  const scan = (where: string, text: string) => {
    for (const secret of secrets) if (text.includes(secret)) leaks.add(`${where}: ${secret.slice(0, 6)}…`);
  };
  const scanned = { logLines: 0, ecrMessages: 0, telemetryMessages: 0, receipts: 0, screens: 0 };

  const broker: Mosquitto = await startMosquitto();
  const consumer = mqttConnect(broker.url, { reconnectPeriod: 200, clientId: `soak-consumer-${options.seed}` });
  consumer.on('error', () => {});
  consumer.on('connect', () => consumer.subscribe('pos/v1/#', { qos: 1 }));
  consumer.on('message', (_topic, payload) => {
    scanned.telemetryMessages += 1;
    scan('telemetry', payload.toString('latin1'));
  });

  const clock = new ManualClock();
  const config = soakConfig(dataDir, broker.url, options.logLevel ?? 'debug');
  // Every log line passes the scan and is dropped: nothing is kept in memory or on disk.
  const log = createLogger(config.log.level, {
    write: (line: string) => {
      scanned.logLines += 1;
      scan('log', line);
    },
  });
  let app: TerminalApp | undefined;
  let client: EcrClient | undefined;
  const steps: Record<string, number> = {};
  const results: Record<string, number> = {};
  const chipResults: Record<string, Record<string, number>> = {};
  const stepMs: Record<string, number> = {};
  const lockReasons: Record<string, number> = {};
  const started = Date.now();
  const startedAt = clock.now();
  let heapWarmup = 0;
  let rssWarmup = 0;
  const warmup = Math.min(options.transactions, Math.max(500, Math.floor(options.transactions / 10)));

  try {
    app = await startTerminalApp(config, { clock, log, hostLedgerPath: ledgerPath, hostSim: { maxRemembered: 5_000 } });
    const ecr = await EcrClient.connect({ port: app.ecr.port });
    client = ecr;
    const mocks = app.mocks;
    // The issuer's books: the soak's PIN cards have a PIN the leak scan can look for (chip-steps.ts).
    for (const name of PIN_CARDS) app.hostSim!.setPin(testCard(name)!.pan, SOAK_PIN);
    const limits: ChipLimits = {
      contactlessCvmLimit: config.emv.contactlessCvmLimit,
      contactlessTransactionLimit: config.emv.contactlessTransactionLimit,
      floorLimit: config.emv.floorLimit,
    };

    /** Scans what the mock printer and display kept since the last call, then lets it go. */
    const drainDevices = () => {
      for (const doc of mocks.printer!.printed.splice(0)) {
        scanned.receipts += 1;
        scan('receipt', doc.lines.map((line) => ('text' in line ? line.text : JSON.stringify(line))).join('\n'));
      }
      for (const screen of mocks.display!.history.splice(0)) {
        scanned.screens += 1;
        scan('display', JSON.stringify(screen));
      }
      for (const message of ecr.stray.splice(0)) scan('ecr', JSON.stringify(message));
    };

    /**
     * Moves simulated time, letting a self-test that a timer started finish its real I/O (an fsync, an echo on
     * loopback) before time moves on: otherwise one jump would pass the self-test's 2 s limit while its disk write
     * is still in flight, which no real clock does.
     */
    const pass = (ms: number) => clock.advance(ms, () => app!.terminal.settled());

    /**
     * Waits for the final reply. An ordinary sale answers in milliseconds over loopback; when it does not (the host
     * is silent, late or slow), simulated time moves in 5 s steps until the terminal's own timers decide.
     */
    const settle = async (reply: Promise<EcrMessage>): Promise<EcrMessage> => {
      let final: EcrMessage | undefined;
      void reply.then((m) => (final = m));
      const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
      await Promise.race([reply, wait(25)]);
      for (let pumps = 0; final === undefined; pumps++) {
        if (pumps > 400) throw new Error('a transaction did not finish within 2,000 simulated seconds');
        await pass(5_000);
        await Promise.race([reply, wait(2)]);
      }
      return final;
    };

    /** One transaction: the cardholder gives its next card at each card prompt and its next PIN at each PIN prompt. */
    const transact = (command: Record<string, unknown>, cardholder: Cardholder, cancel = false) =>
      settle(
        ecr.call(command, (m) => {
          scanned.ecrMessages += 1;
          scan('ecr', JSON.stringify(m));
          if (m.type !== 'state') return;
          if (m['state'] === 'waitingForCard')
            void ecr.call(cancel ? { cmd: 'cancel' } : { cmd: 'sim.card', name: cardholder.nextCard() });
          if (m['state'] === 'enteringPin') void ecr.call({ cmd: 'sim.pin', pin: cardholder.nextPin() });
          if (m['state'] === 'confirmingDuplicate') void ecr.call({ cmd: 'confirm' });
        }),
      );

    // STANs as the ECR protocol gives them: integers.
    const recentApproved: number[] = [];
    const expectedSetAside: string[] = [];
    let offlineLeft = 0;
    let brokerDownLeft = 0;
    let last: { amount: number; card: string } = { amount: 1_000, card: 'visa' };
    const settlements: DaySettlement[] = [];
    const dayOf = (ms: number) => Math.floor(ms / 86_400_000);
    let day = dayOf(clock.now());

    for (let done = 0; done < options.transactions; done++) {
      const r = random() * 1000;
      let kind: StepKind = 'sale';
      for (let acc = 0, i = 0; i < MIX.length; i++) {
        acc += MIX[i]![1];
        if (r < acc) {
          kind = MIX[i]![0];
          break;
        }
      }
      // During an offline period or broker outage, ordinary sales only: the fault is the period itself.
      // Chip steps go on while only the broker is down: telemetry has no part in them.
      const chipKind = kind in CHIP_STEPS;
      if (
        (offlineLeft > 0 || brokerDownLeft > 0) &&
        kind !== 'sale' &&
        kind !== 'decline' &&
        !(chipKind && offlineLeft === 0)
      )
        kind = 'sale';
      const chipStep = kind in CHIP_STEPS ? CHIP_STEPS[kind as ChipStepKind] : undefined;
      steps[kind] = (steps[kind] ?? 0) + 1;

      if (kind === 'offline-period') {
        offlineLeft = 5 + Math.floor(random() * 20);
        await ecr.call({ cmd: 'sim.fault', device: 'network', code: 'down' });
      }
      if (kind === 'broker-outage') {
        brokerDownLeft = 5 + Math.floor(random() * 30);
        await broker.stop();
      }

      const amount =
        chipStep?.amount(random, limits) ??
        HOST_AMOUNT[kind] ??
        100 + Math.floor(random() * (offlineLeft > 0 ? 20_000 : 50_000));
      // Offline, only cards the issuer refuses for good: an advice answered 91 is retried until the issuer is back,
      // and this host never brings it back for that card, so the day would not close.
      const declineCards = offlineLeft > 0 ? DECLINE_CARDS.filter((c) => c !== 'issuer-unavailable') : DECLINE_CARDS;
      const card =
        kind === 'decline'
          ? declineCards[Math.floor(random() * declineCards.length)]!
          : random() < 0.7
            ? 'visa'
            : 'mastercard';
      let command: Record<string, unknown> = { cmd: 'sale', amount };
      let useCard = chipStep?.cards[0] ?? card;
      if (kind === 'refund') command = { cmd: 'refund', amount, supervisorPin: '1234' };
      if (kind === 'duplicate') {
        command = { cmd: 'sale', amount: last.amount };
        useCard = last.card;
      }
      if (kind === 'void') {
        const stan = recentApproved.pop();
        command = stan ? { cmd: 'void', stan, supervisorPin: '1234' } : command;
      }
      if (kind === 'printer-fault') {
        const code = random() < 0.5 ? 'paper-out' : 'cover-open';
        await ecr.call({ cmd: 'sim.fault', device: 'printer', code, atStep: 1 + Math.floor(random() * 4) });
      }
      if (kind === 'read-failure')
        await ecr.call({ cmd: 'sim.fault', device: 'card-reader', code: 'read-failed', times: 1 });

      const cardholder = chipStep ? new Cardholder(chipStep.cards, chipStep.pins) : new Cardholder([useCard]);
      // The next 0210 is MACed wrong or not at all: an approval the terminal cannot trust is reversed.
      if (chipStep?.badMac)
        app.hostSim!.macFaultOnce({ mti: '0200', fault: random() < 0.5 ? 'wrong-mac' : 'missing-mac' });
      const once = async () => {
        let r = await transact(command, cardholder, kind === 'cancel');
        if (r.type === 'error' && r['code'] === 'not-allowed') {
          // A lockout (e.g. repeated suspected fraud) is a supervisor's call; the soak plays the supervisor.
          const reason = String(r['message']).replace(/\d+/g, 'N');
          lockReasons[reason] = (lockReasons[reason] ?? 0) + 1;
          await ecr.call({ cmd: 'unlock', supervisorPin: '1234' });
          r = await transact(command, cardholder, kind === 'cancel');
        }
        const key = r.type === 'result' ? String(r['outcome']) : `error:${String(r['code'])}`;
        results[key] = (results[key] ?? 0) + 1;
        if (chipStep) {
          const mine = chipResults[kind] ?? {};
          chipResults[kind] = mine;
          const code = r['responseCode'] === '55' || r['responseCode'] === '75' ? ` ${String(r['responseCode'])}` : '';
          mine[`${key}${code}`] = (mine[`${key}${code}`] ?? 0) + 1;
        }
        return r;
      };
      const stepStarted = Date.now();
      let result = await once();
      // A wrong PIN answered 55 ends that sale here: the cardholder starts a new one for the next PIN of the step
      // (a terminal that asks again within the sale has used the sequence up already). Each such sale counts.
      while (
        cardholder.pinsLeft > 0 &&
        result.type === 'result' &&
        result['responseCode'] === '55' &&
        done + 1 < options.transactions
      ) {
        done += 1;
        result = await once();
      }
      if (
        result.type === 'result' &&
        result['outcome'] === 'approved' &&
        command['cmd'] === 'sale' &&
        typeof result['stan'] === 'number'
      ) {
        recentApproved.push(result['stan']);
        if (recentApproved.length > 20) recentApproved.shift();
      }
      // The terminal cannot know offline that the issuer will decline this card: the host refuses the advice later.
      if (
        result.type === 'result' &&
        result['outcome'] === 'offline-approved' &&
        DECLINE_CARDS.includes(useCard) &&
        typeof result['stan'] === 'number'
      ) {
        expectedSetAside.push(String(result['stan']).padStart(6, '0'));
      }
      last = { amount: Number(command['amount'] ?? amount), card: useCard };
      stepMs[kind] = (stepMs[kind] ?? 0) + Date.now() - stepStarted;

      if (kind === 'printer-fault') {
        await ecr.call({ cmd: 'sim.fault', device: 'printer', code: 'clear' });
        if (result['receipt'] === 'pending' && result['stan'] !== undefined)
          await ecr.call({ cmd: 'reprint', stan: result['stan'] });
      }
      if (kind === 'read-failure') await ecr.call({ cmd: 'sim.fault', device: 'card-reader', code: 'clear' });
      if (chipStep?.badMac) app.hostSim!.clearOverrides();
      if (offlineLeft > 0 && --offlineLeft === 0) await ecr.call({ cmd: 'sim.fault', device: 'network', code: 'up' });
      if (brokerDownLeft > 0 && --brokerDownLeft === 0) await broker.start();

      // Between customers: 20–60 s of simulated time, so every periodic timer of the terminal runs.
      await pass(20_000 + Math.floor(random() * 40_000));
      // The merchant closes the day once a new one has begun, when the host is reachable (offline the settlement
      // would wait for the advices the period queued).
      if (dayOf(clock.now()) !== day && offlineLeft === 0) {
        day = dayOf(clock.now());
        settlements.push(await endOfDay(app, ecr, clock));
        drainDevices();
      }

      // After every transaction: the mock display keeps only its last 1,000 screens, and every one must be scanned.
      drainDevices();
      if (done + 1 === warmup) {
        drainDevices();
        gc();
        heapWarmup = process.memoryUsage().heapUsed;
        rssWarmup = process.memoryUsage().rss;
      }
      if (options.onProgress && (done + 1) % (options.progressEvery ?? 1_000) === 0) {
        options.onProgress(done + 1, {
          elapsedS: (Date.now() - started) / 1000,
          heapMb: process.memoryUsage().heapUsed / 2 ** 20,
        });
      }
    }

    // End of the day: the network and broker come back and the terminal drains what it owes.
    if (offlineLeft > 0) await ecr.call({ cmd: 'sim.fault', device: 'network', code: 'up' });
    if (brokerDownLeft > 0) await broker.start();
    for (let i = 0; i < 200; i++) {
      const status = await ecr.call({ cmd: 'status' });
      const queue = status['offlineQueue'] as { count: number };
      if (status['pendingReversals'] === 0 && queue.count === 0) break;
      await pass(10_000);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    settlements.push(await endOfDay(app, ecr, clock));
    const counted = settlements.flatMap((d) =>
      app!.journal.batches
        .uploadItems(d.batchNumber, 0, 1_000_000)
        .map((i) => ({ stan: i.stan, kind: i.kind, amount: i.amount })),
    );
    drainDevices();
    gc();
    const heapEnd = process.memoryUsage().heapUsed;
    const rssEnd = process.memoryUsage().rss;
    const durationS = (Date.now() - started) / 1000;

    await ecr.close();
    client = undefined;
    await app.stop();
    app = undefined;
    const journalBytes = ['', '-wal']
      .map((s) => journalPath + s)
      .filter((p) => existsSync(p))
      .reduce((n, p) => n + statSync(p).size, 0);
    // The journal on disk, bytes and all (rows, WAL frames, free pages), must hold no card data either.
    for (const file of [journalPath, `${journalPath}-wal`].filter((p) => existsSync(p)))
      scan('journal file', readFileSync(file).toString('latin1'));
    const journal = Journal.open(journalPath, { readonly: true });
    const journalRows = journal.transactions.list({ limit: 10_000_000 }).length;
    journal.close();
    const mb = (bytes: number) => Math.round((bytes / 2 ** 20) * 100) / 100;

    const report: SoakReport = {
      name: 'soak',
      seed: options.seed,
      transactions: options.transactions,
      durationS: Math.round(durationS * 10) / 10,
      transactionsPerSecond: Math.round(options.transactions / durationS),
      simulatedDays: Math.round(((clock.now() - startedAt) / 86_400_000) * 10) / 10,
      steps,
      results,
      chipResults,
      stepMs,
      lockReasons,
      heapWarmupMb: mb(heapWarmup),
      heapEndMb: mb(heapEnd),
      heapGrowthMb: mb(heapEnd - heapWarmup),
      rssWarmupMb: mb(rssWarmup),
      rssEndMb: mb(rssEnd),
      rssGrowthMb: mb(rssEnd - rssWarmup),
      journalBytes,
      journalRows,
      journalBytesPer1000: Math.round((journalBytes / Math.max(1, journalRows)) * 1000),
      scanned,
      leaks: [...leaks],
    };
    return {
      report,
      dataDir,
      journalPath,
      ledgerPath,
      expectedSetAside,
      settlements,
      counted,
      cleanup: () => rmSync(dataDir, { recursive: true, force: true }),
    };
  } finally {
    await client?.close();
    await app?.stop();
    consumer.end(true);
    await broker.kill();
  }
}
