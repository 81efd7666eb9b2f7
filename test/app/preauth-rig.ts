/**
 * A terminal on mocks with the embedded host simulator on one ManualClock, driven over the ECR wire, for the
 * pre-authorization and tip tests. The host simulator's holds and books are read directly: they are the truth.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ManualClock } from '../../hal/clock.js';
import type { LedgerEntry } from '../../src/acquirer-sim/simulator.js';
import { startTerminalApp, type TerminalApp } from '../../src/app/compose.js';
import type { PosConfig } from '../../src/config/index.js';
import { EcrClient, type EcrMessage } from '../../src/ecr/client.js';
import { createLogger } from '../../src/util/log.js';
import { durabilityConfig, newDataDir } from '../durability/harness.js';
import { until } from '../support/wait.js';

export interface PreauthRig {
  app: TerminalApp;
  client: EcrClient;
  clock: ManualClock;
  terminalId: string;
  ledger(): LedgerEntry[];
  /** A command that reads a card (sale, preauth): the test card is presented when the terminal asks. */
  withCard(command: Record<string, unknown>, card?: string): Promise<EcrMessage>;
  /** A card-less command (increment, completion, cancel, tip adjust). */
  call(command: Record<string, unknown>): Promise<EcrMessage>;
  stop(): Promise<void>;
}

const rigs: PreauthRig[] = [];

export async function stopRigs(): Promise<void> {
  for (const rig of rigs.splice(0)) await rig.stop();
}

export async function bootPreauthRig(adjust: (config: PosConfig) => PosConfig = (c) => c): Promise<PreauthRig> {
  const dataDir = newDataDir();
  const clock = new ManualClock();
  const config = adjust(durabilityConfig(dataDir));
  const ledgerPath = join(dataDir, 'host-ledger.jsonl');
  const app = await startTerminalApp(config, { clock, log: createLogger('silent'), hostLedgerPath: ledgerPath });
  const client = await EcrClient.connect({ port: app.ecr.port });
  const rig: PreauthRig = {
    app,
    client,
    clock,
    terminalId: config.terminal.id,
    ledger: () =>
      existsSync(ledgerPath)
        ? readFileSync(ledgerPath, 'utf8')
            .split('\n')
            .filter((line) => line.trim() !== '')
            .map((line) => JSON.parse(line) as LedgerEntry)
        : [],
    withCard: (command, card = 'visa') =>
      client.call(command, (m) => {
        if (m.type === 'state' && m['state'] === 'waitingForCard') void client.call({ cmd: 'sim.card', name: card });
        if (m.type === 'state' && m['state'] === 'confirmingDuplicate') void client.call({ cmd: 'confirm' });
      }),
    call: (command) => client.call(command),
    stop: async () => {
      await client.close();
      await app.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  rigs.push(rig);
  await until(() => app.terminal.status().hostUp, 'host link up');
  return rig;
}

let ids = 0;
/** A fresh request id. */
export function nextId(): string {
  ids += 1;
  return `pa-${ids}`;
}
