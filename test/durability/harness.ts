/**
 * The assembled terminal in-process for the durability tests: a temp data directory, the embedded host simulator on
 * loopback sharing a ManualClock with the terminal, and an ECR client driving sales. Time moves only through
 * `clock.advance`; `until` only waits for socket I/O on loopback.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { ManualClock } from '../../hal/clock.js';
import { startTerminalApp, type TerminalApp } from '../../src/app/compose.js';
import { loadConfig, type PosConfig } from '../../src/config/index.js';
import { EcrClient, type EcrMessage } from '../../src/ecr/client.js';
import type { LedgerEntry } from '../../src/acquirer-sim/simulator.js';
import { createLogger } from '../../src/util/log.js';
import { until } from '../support/wait.js';

/** The PAN of the approving `visa` test card (also `swipe-visa`): it must never be stored in clear. */
export const VISA_PAN = '4761739001010010';

/** Misbehaviour amounts of the host simulator (minor units). */
export const AMOUNT = {
  delay: 200_001,
  silent: 200_002,
  close: 200_003,
  garbled: 200_004,
  late: 200_005,
  twice: 200_006,
  wrongStan: 200_007,
  wrongAmount: 200_008,
} as const;

export const RESPONSE_TIMEOUT_MS = 30_000;
export const FORWARDING = { initialDelayMs: 1_000, maxDelayMs: 8_000, intervalMs: 60_000 } as const;

export type OfflineOverrides = Partial<PosConfig['offline']>;

const dataDirs: string[] = [];

/** A fresh data directory, removed by stopAll. */
export function newDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pos-durability-'));
  dataDirs.push(dir);
  return dir;
}

export function journalPath(dataDir: string): string {
  return join(dataDir, 'journal.sqlite');
}

/** The test configuration: embedded simulator on a free port, ECR on a free port, offline on, short forwarding. */
export function durabilityConfig(dataDir: string, offline: OfflineOverrides = {}): PosConfig {
  const { config } = loadConfig({ env: {} });
  return {
    ...config,
    dataDir,
    log: { ...config.log, level: 'silent' },
    host: {
      ...config.host,
      address: '127.0.0.1:0',
      responseTimeoutMs: RESPONSE_TIMEOUT_MS,
      simulator: { embedded: true },
    },
    // These rigs move the simulated clock by hours before the register's first request: no idle close meanwhile.
    ecr: { ...config.ecr, port: 0, socketPath: null, idleTimeoutMs: 2_147_483_647 },
    mqtt: { ...config.mqtt, url: 'mqtt://127.0.0.1:0' },
    offline: { ...config.offline, enabled: true, keyFile: 'keys/saf.key', createKeyIfMissing: true, ...offline },
    forwarding: { ...FORWARDING },
  };
}

export interface Rig {
  app: TerminalApp;
  client: EcrClient;
  clock: ManualClock;
  dataDir: string;
  config: PosConfig;
  /** Every message the host received and sent, from its ledger file (the embedded simulator keeps none in memory). */
  ledger(): LedgerEntry[];
  /** Requests the host received with this MTI, in arrival order. */
  received(mti: string): LedgerEntry[];
  /** Starts a sale (presenting `card` when the terminal asks for it); resolves with the final ECR reply. */
  sale(amount: number, card?: string): Promise<EcrMessage>;
  /** Starts a refund the same way. */
  refund(amount: number, card?: string): Promise<EcrMessage>;
  /** Status as the cash register reads it. */
  status(): Promise<EcrMessage>;
  stop(): Promise<void>;
}

const rigs: Rig[] = [];

/** Stops every rig booted by the test and removes the data directories (call from afterEach). */
export async function stopAll(): Promise<void> {
  for (const rig of rigs.splice(0)) await rig.stop();
  for (const dir of dataDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

function transaction(client: EcrClient, command: Record<string, unknown>, card: string): Promise<EcrMessage> {
  return client.call(command, (m) => {
    if (m.type === 'state' && m['state'] === 'waitingForCard') void client.call({ cmd: 'sim.card', name: card });
    // The same card and amount again is a suspected duplicate: these tests are about durability, so the cashier confirms.
    if (m.type === 'state' && m['state'] === 'confirmingDuplicate') void client.call({ cmd: 'confirm' });
  });
}

export async function bootRig(
  options: { dataDir?: string; offline?: OfflineOverrides; clock?: ManualClock; waitForHost?: boolean } = {},
): Promise<Rig> {
  const dataDir = options.dataDir ?? newDataDir();
  const clock = options.clock ?? new ManualClock();
  const config = durabilityConfig(dataDir, options.offline);
  const ledgerPath = join(dataDir, 'host-ledger.jsonl');
  const app = await startTerminalApp(config, { clock, log: createLogger('silent'), hostLedgerPath: ledgerPath });
  let client: EcrClient;
  try {
    client = await EcrClient.connect({ port: app.ecr.port });
  } catch (err) {
    await app.stop();
    throw err;
  }
  const ledger = (): LedgerEntry[] =>
    existsSync(ledgerPath)
      ? readFileSync(ledgerPath, 'utf8')
          .split('\n')
          .filter((line) => line.trim() !== '')
          .map((line) => JSON.parse(line) as LedgerEntry)
      : [];
  const rig: Rig = {
    app,
    client,
    clock,
    dataDir,
    config,
    ledger,
    received: (mti) => ledger().filter((e) => e.dir === 'in' && e.mti === mti),
    sale: (amount, card = 'visa') => transaction(client, { cmd: 'sale', amount }, card),
    refund: (amount, card = 'visa') => transaction(client, { cmd: 'refund', amount, supervisorPin: '1234' }, card),
    status: () => client.call({ cmd: 'status' }),
    stop: async () => {
      await client.close();
      await app.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  rigs.push(rig);
  if (options.waitForHost ?? true) await until(() => app.terminal.status().hostUp, 'host link up');
  return rig;
}

/** Waits until the host has received a request with this MTI and amount (the request has left the terminal). */
/** The host process is gone: the link drops and the next request cannot connect. */
export async function hostDown(rig: Rig): Promise<void> {
  await rig.app.hostSim!.stop();
  await until(() => !rig.app.terminal.status().hostUp, 'host link down');
}

/** The host is back: the link reconnects on its backoff (clock time) and the forwarder is kicked. */
export async function hostBack(rig: Rig): Promise<void> {
  await rig.app.hostSim!.start();
  for (let i = 0; i < 60 && !rig.app.terminal.status().hostUp; i++) {
    await rig.clock.advance(1_000);
    await new Promise((resolve) => setTimeout(resolve, 3));
  }
  expect(rig.app.terminal.status().hostUp).toBe(true);
}

export async function hostReceived(rig: Rig, mti: string, amount: number, count = 1): Promise<LedgerEntry> {
  await until(
    () => rig.received(mti).filter((e) => e.amount === amount).length >= count,
    `host received ${mti} of ${amount}`,
  );
  return rig.received(mti).filter((e) => e.amount === amount)[count - 1]!;
}

/** Lets the clock run by `ms` then waits for the I/O it started to settle (`condition`). */
export async function advanceUntil(rig: Rig, ms: number, condition: () => boolean, what: string): Promise<void> {
  await rig.clock.advance(ms);
  await until(condition, what);
}

/** The reversal of `txnRef` reached the host: the forwarder sends it at the next tick and the host acknowledges it. */
export async function reversalAcknowledged(rig: Rig, txnRef: string): Promise<void> {
  for (let i = 0; i < 50 && rig.app.journal.reversals.forTransaction(txnRef)?.state !== 'acknowledged'; i++) {
    await rig.clock.advance(0);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  expect(rig.app.journal.reversals.forTransaction(txnRef)?.state).toBe('acknowledged');
}

/** Ledger time (the ManualClock's) as ms since the epoch. */
export function at(entry: LedgerEntry): number {
  return Date.parse(entry.at);
}

/** The codes of anomalies journaled for one transaction, in order. */
export function anomalyCodes(rig: Rig, txnRef?: string): string[] {
  return rig.app.journal.anomalies
    .list()
    .filter((a) => txnRef === undefined || a.txnRef === txnRef)
    .map((a) => a.code);
}

/** Text of every printed receipt line. */
export function printedText(rig: Rig): string {
  return rig.app.mocks
    .printer!.printed.flatMap((doc) => doc.lines)
    .map((line) => ('text' in line ? line.text : ''))
    .join('\n');
}
