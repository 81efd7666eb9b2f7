/**
 * The crash campaign: pos-terminal runs as a child process against pos-host-sim (another process) under a mixed
 * workload (approvals, declines, host timeouts, link drops, garbled and late answers, offline sales; chip sales with
 * online PIN, contactless under and over the CVM limit, approvals the card refuses or does not finish) and is killed
 * with SIGKILL, then restarted. At the end it drains, and the host's ledger is reconciled with the terminal's
 * journal: every approved sale captured exactly once, every unconfirmed authorization reversed exactly once, every
 * offline sale forwarded exactly once, nothing left pending, and what the register was told is what the journal says.
 *
 * Each kill round targets one phase, planned from the seed, and waits for an outside sign that the terminal is in it:
 *   boot           in the first journal commit of a boot (recovery's), or at any instant before the ready line;
 *   authorizing    the request is at the host (host ledger) and its answer is not out yet;
 *   armed-unsent   the armed reversal is committed and the request has left the terminal, but not reached the host:
 *                  the relay holds it back, and the journal read after the kill still has the reversal armed;
 *   answered-uncommitted  the host's answer (0210 to a sale, 0410 to a reversal) reached the terminal's socket and
 *                  the kill follows at once: the journal read after the kill has not committed it (reversal still
 *                  armed, or pending);
 *   journal-write  inside a journal write or fsync (/proc) that follows an ECR state event or the card;
 *   drain          queued offline advices are reaching the host (host ledger) and not all of them have yet; the
 *                  journal read after the kill tells how many the host had answered that were not yet committed;
 *   self-test      the ECR `selftest` command has not answered and its storage file or echo is seen;
 *   chip           inside a chip sale's own states: the PIN prompt up (`enteringPin`, no request sent), the 0200 with
 *                  fields 55 and 52 at the host unanswered, or the host's approval committed while the card has not
 *                  said TC (`completingChip`: the reversal is still armed, or owed after an AAC or a removed card);
 *   settlement     a `settle` between its 0500 and the commit of the 0510: the relay holds the 0500 back (the host
 *                  never sees it), drops the host's 0510 (the host decided, maybe closed its batch), or kills the
 *                  instant the 0510 reaches the terminal's socket; the journal read after the kill has the batch still
 *                  settling. The host is sometimes told (its --control lines) to disagree, so the 0510 says 95;
 *   upload         a batch upload with some transactions uploaded and some not: the host is told to lose approved
 *                  sales or to disagree, and the kill comes at the nth 0320 held back, at the nth 0330 dropped or at
 *                  the terminal's socket, or in the journal write after that 0330; the journal after the kill has the
 *                  batch uploading with transactions left;
 *   random         an instant in a running workload.
 * A kill counts for its phase only when the sign was there at the kill; the per-phase histogram is printed and every
 * phase must have kills. No hook in src/ is needed: the signs are ECR events, the host ledger, stdout, the data
 * directory (inotify), the kernel's view of the process (/proc/<pid>/syscall), the frames the relay passes and the
 * journal as the kill left it. After the final drain the shared reconcile (test/support/reconcile.ts) settles the
 * ledger with the journal, and each targeted instant gets its own check of what must have followed it. After a
 * settlement or upload kill the next start settles first, and the campaign ends with a settlement of the last batch:
 * each must close in balance with the host's own batch books (the host's `batch` and `settlements` control answers:
 * its batch of the terminal empty, nothing lost, every batch the journal closed agreed with the host's totals), and no
 * STAN reaches the host twice as a 0320 (a 0321 is the protocol's repeat of a resumed upload, one per such kill).
 * The watching (host ledger, relay, /proc) and the step-driving of a kill on a sign are in outside.ts.
 *
 * POS_CRASH_KILLS sets the number of kills (CI default 55); POS_CRASH_SEED makes a campaign repeatable;
 * POS_CRASH_VERBOSE prints one line per kill; POS_CRASH_PHASES (e.g. `boot,drain`) limits the campaign to some phases.
 */
import { mkdirSync, mkdtempSync, readdirSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EcrClient, type EcrMessage } from '../../../src/ecr/client.js';
import { Journal } from '../../../src/journal/index.js';
import { reconcile, type LedgerLine } from '../../support/reconcile.js';
import { startCli, type RunningCli } from '../../support/cli.js';
import { loadMasterKeyWithCli, masterKeyFixture } from '../../support/mac-keys.js';
import { prng } from '../../support/prng.js';
import { until } from '../../support/wait.js';

const KILLS = Number(process.env['POS_CRASH_KILLS'] ?? 55);
const SEED = Number(process.env['POS_CRASH_SEED'] ?? Date.now() % 1_000_000);
const VERBOSE = Boolean(process.env['POS_CRASH_VERBOSE']);

const ALL_PHASES = [
  'boot',
  'authorizing',
  'armed-unsent',
  'answered-uncommitted',
  'journal-write',
  'drain',
  'self-test',
  'random',
  'chip',
  'settlement',
  'upload',
] as const;
type Phase = (typeof ALL_PHASES)[number];
const PHASES: readonly Phase[] = process.env['POS_CRASH_PHASES']
  ? ALL_PHASES.filter((p) => process.env['POS_CRASH_PHASES']!.split(',').includes(p))
  : ALL_PHASES;
/** Every phase is planned about KILLS/11 times; at least half of those must land (2 of 5 with the CI default). */
const MIN_LANDED = Math.max(KILLS >= PHASES.length ? 1 : 0, Math.floor(Math.floor(KILLS / PHASES.length) / 2));

/** Each block of rounds visits every phase once, in a seeded order: the counts stay even for any seed. */
function phasePlan(random: () => number, rounds: number): Phase[] {
  if (PHASES.length === 0) throw new Error(`POS_CRASH_PHASES names none of ${ALL_PHASES.join(', ')}`);
  const plan: Phase[] = [];
  while (plan.length < rounds) {
    const block = [...PHASES];
    for (let i = block.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [block[i], block[j]] = [block[j]!, block[i]!];
    }
    plan.push(...block);
  }
  return plan.slice(0, rounds);
}

const dir = mkdtempSync(join(tmpdir(), 'pos-crash-'));
const ledgerPath = join(dir, 'host-ledger.jsonl');
const configPath = join(dir, 'terminal.json');
const dataDir = join(dir, 'data');
const children: RunningCli[] = [];

afterAll(async () => {
  for (const child of children)
    if (child.child.exitCode === null && child.child.signalCode === null) child.child.kill('SIGKILL');
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Terminals are started one ahead with their modules loaded (warm-start.mjs), and released on `go`. */
const WARM_START = {
  NODE_OPTIONS:
    `${process.env['NODE_OPTIONS'] ?? ''} --import=${new URL('./warm-start.mjs', import.meta.url).href}`.trim(),
};
let spare: RunningCli | undefined;

/** The next terminal, released now; another one is loaded meanwhile unless this is the last. */
function releaseTerminal(last = false): RunningCli {
  const next = spare ?? startCli('pos-terminal', ['--config', configPath], WARM_START);
  if (!spare) children.push(next);
  spare = undefined;
  if (!last) {
    spare = startCli('pos-terminal', ['--config', configPath], WARM_START);
    children.push(spare);
  }
  next.child.stdin.write('go\n');
  return next;
}

import {
  awaitJournalIo,
  HostControl,
  killAtHost,
  killNow,
  killOnRelay,
  type LedgerEntry,
  LedgerTail,
  nudge,
  procShowsSyscalls,
  Relay,
  waitFor,
} from './outside.js';

// ---- The campaign ----

/** `holdPin`: the cardholder never types the PIN (a kill comes at the prompt); otherwise the test PIN is typed. */
type Step = { amount: number; card: string; offline?: boolean; cancel?: boolean; holdPin?: boolean };

/** pos-host-sim's PIN for every test card (src/acquirer-sim/pin-check.ts DEFAULT_TEST_PIN). */
const TEST_PIN = '1234';
/** config/default.json emv.contactlessCvmLimit: over it a tap asks for the online PIN. */
const CONTACTLESS_CVM_LIMIT = 5_000;

/** Chip sales of the workload: online PIN, taps under and over the CVM limit, approvals the card refuses or leaves. */
function pickChipStep(random: () => number): Step {
  const amount = 100 + Math.floor(random() * 20_000);
  const r = random();
  if (r < 0.35) return { amount, card: 'emv-online-pin' };
  if (r < 0.5) return { amount: 100 + Math.floor(random() * CONTACTLESS_CVM_LIMIT), card: 'emv-contactless' };
  if (r < 0.65) return { amount: CONTACTLESS_CVM_LIMIT + 1 + Math.floor(random() * 15_000), card: 'emv-contactless' };
  if (r < 0.83) return { amount, card: 'emv-decline-after-approval' };
  return { amount, card: 'emv-removed' };
}

function pickStep(random: () => number): Step {
  const r = random();
  if (r < 0.18) return { amount: 100 + Math.floor(random() * 20_000), card: 'visa' };
  if (r < 0.32) return pickChipStep(random);
  if (r < 0.4) return { amount: 100 + Math.floor(random() * 20_000), card: 'insufficient-funds' };
  if (r < 0.48) return { amount: 200_002, card: random() < 0.5 ? 'visa' : 'emv-online-pin' }; // host silent: timeout, reversal
  if (r < 0.55) return { amount: 200_003, card: 'visa' }; // link drop
  if (r < 0.6) return { amount: 200_004, card: 'visa' }; // garbled answer
  if (r < 0.65) return { amount: 200_005, card: 'visa' }; // late answer
  if (r < 0.7) return { amount: 200_006, card: 'mastercard' }; // answered twice
  if (r < 0.75) return { amount: 200_002, card: 'visa', cancel: true }; // cancelled while waiting
  return { amount: 100 + Math.floor(random() * 20_000), card: random() < 0.8 ? 'visa' : 'mastercard', offline: true };
}

/** What the host saw of the chip sales (its answers' facts): field 55, PINs verified, cryptograms refused. */
function chipFacts(lines: LedgerLine[]): string {
  const entries = lines as Array<LedgerLine & Record<string, unknown>>;
  const answers = entries.filter((e) => e.dir === 'out' && e.mti === '0210');
  const chip = answers.filter((e) => e['field55'] === true);
  return [
    `${chip.length} with field 55`,
    `${chip.filter((e) => e['cryptogramValid'] !== true).length} cryptograms refused`,
    `${answers.filter((e) => e['pinPresent'] === true).length} with a PIN (${answers.filter((e) => e['pinVerified'] === true).length} verified)`,
  ].join(', ');
}

interface Kill {
  phase: Phase;
  /** The outside sign of the phase was there at the kill. */
  landed: boolean;
  /** Where in the phase, for the histogram (e.g. the boot state, the self-test sign). */
  detail: string;
  /** The main thread was inside a journal write or sync at the kill. */
  journalIo: boolean;
}

/** A settlement killed in its settlement or upload phase, and what the next start's `settle` and the host said. */
interface SettlementKill {
  phase: Phase;
  batchNumber: number;
  detail: string;
  /** The ECR answer of the `settle` after the restart. */
  reply: EcrMessage;
  /** The host's open batch of this terminal right after it. */
  host: { totals: Record<string, unknown>; uploads: number; lost: number };
}

/** config/default.json terminal.id: the host keeps its batch books under it. */
const TERMINAL_ID = 'SIM00001';

interface Round {
  terminal: RunningCli;
  client: EcrClient;
}

describe(`crash campaign: ${KILLS} SIGKILLs (seed ${SEED})`, () => {
  it(
    'loses nothing and duplicates nothing, whatever phase a kill lands in',
    async () => {
      const random = prng(SEED);
      const plan = phasePlan(random, KILLS);
      const began = Date.now();
      writeFileSync(ledgerPath, '');
      const ledger = new LedgerTail(ledgerPath);
      const ledgerWatch = watch(ledgerPath, nudge);
      // 'delay' (2000.01) answers within the terminal's 400 ms timeout, so a kill can land while an approval is on its way.
      // Every financial message MACed: the host holds the master key the terminal loads below.
      const keys = masterKeyFixture(dir);
      const host = startCli('pos-host-sim', [
        '--master-keys',
        keys.keysFile,
        '--port',
        '0',
        '--ledger',
        ledgerPath,
        '--late-ms',
        '700',
        '--delay-ms',
        '150',
        '--control',
      ]);
      children.push(host);
      await until(() => host.stdout().includes('listening'), 'host simulator');
      host.child.stdout.on('data', nudge);
      const hostControl = new HostControl(host);
      const hostPort = (JSON.parse(host.stdout().split('\n')[0]!) as { port: number }).port;
      const relay = new Relay(hostPort);
      await relay.up();
      writeFileSync(
        configPath,
        JSON.stringify({
          dataDir,
          log: { level: 'error' },
          host: {
            address: `127.0.0.1:${relay.port}`,
            simulator: { embedded: false },
            responseTimeoutMs: 400,
            connectTimeoutMs: 1000,
            reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
          },
          ecr: { port: 0, socketPath: null },
          mqtt: { url: 'mqtt://127.0.0.1:0' },
          forwarding: { initialDelayMs: 20, maxDelayMs: 200, intervalMs: 100 },
          transaction: { cardWaitTimeoutMs: 5000 },
          // A settlement message without an answer in time is tried again soon (the default pause is a minute).
          settlement: { attempts: 5, retryDelayMs: 200 },
        }),
      );
      loadMasterKeyWithCli(keys.components, ['--config', configPath]);

      let sales = 0;
      let readyMs = 600;
      /** What the register was told, by txnRef: the journal must end up saying the same. */
      const reported = new Map<string, string>();
      /** STANs whose request was at the host, unanswered, at a kill: each must be reversed exactly once. */
      const midAuthorization = new Set<string>();
      /** STANs of offline sales whose drain was cut by a kill. */
      const midDrain = new Set<string>();
      /** STANs whose request the relay held back after their reversal was armed: never at the host, reversed. */
      const armedUnsent = new Set<string>();
      /** STANs killed with the host's answer at the terminal and not committed, by what was answered. */
      const answeredUncommitted = new Map<string, 'financial' | 'reversal'>();
      /** Drain kills that left advices the host had answered still queued in the journal. */
      let drainAnsweredUncommitted = 0;
      /** Chip sales killed at the PIN prompt, by txnRef: nothing reached the host, nothing approved. */
      const killedAtPin = new Set<string>();
      /** STANs of chip sales killed with the host's approval committed and the card's TC not: each must end reversed. */
      const chipUnconfirmed = new Map<string, string>();
      /** STANs of chip sales killed with their 0200 (fields 55 and 52) at the host, unanswered. */
      const chipAtHost = new Set<string>();
      let chipRounds = Math.floor(random() * 3);
      /** Settlements killed (settlement and upload phases): each must be finished by the next start, in balance. */
      const settlementKills: SettlementKill[] = [];
      let settlementRounds = Math.floor(random() * 3);
      /** A settlement a kill interrupted (the batch left settling or uploading): the next start settles first. */
      let settlementKilled: Omit<SettlementKill, 'reply' | 'host'> | undefined;
      let uploadRounds = Math.floor(random() * 4);

      /** The journal as a kill left it (read once the terminal is gone). */
      function journalAfterKill<T>(read: (journal: Journal) => T): T {
        const journal = Journal.open(join(dataDir, 'journal.sqlite'), { readonly: true });
        try {
          return read(journal);
        } finally {
          journal.close();
        }
      }
      const reversalStateOf = (stan: string) =>
        journalAfterKill((j) => {
          const row = j.transactions.findByStan(Number(stan));
          return row ? j.reversals.forTransaction(row.txnRef)?.state : undefined;
        });

      async function startTerminal(last = false): Promise<Round> {
        const started = Date.now();
        const terminal = releaseTerminal(last);
        await until(
          () => /ECR on 127\.0\.0\.1:\d+/.test(terminal.stdout()) || terminal.child.exitCode !== null,
          'terminal ready',
          20_000,
        );
        if (terminal.child.exitCode !== null) throw new Error(`terminal exited: ${terminal.stderr()}`);
        readyMs = (readyMs * 3 + (Date.now() - started)) / 4;
        const client = await EcrClient.connect({
          port: Number(/ECR on 127\.0\.0\.1:(\d+)/.exec(terminal.stdout())![1]),
        });
        if (settlementKilled) await settleAfterRestart(client, settlementKilled);
        settlementKilled = undefined;
        return { terminal, client };
      }

      const kill = killNow;

      /** One sale, driven as a register does (card on request, duplicate confirmed); onState sees every state event. */
      async function sale(client: EcrClient, step: Step, onState?: (state: string) => void): Promise<EcrMessage> {
        if (step.offline) await client.call({ cmd: 'sim.fault', device: 'network', code: 'down' });
        const result = await client.call({ cmd: 'sale', amount: step.amount }, (m) => {
          if (m.type !== 'state') return;
          const state = String(m['state']);
          if (state === 'waitingForCard') void client.call({ cmd: 'sim.card', name: step.card });
          if (state === 'enteringPin' && !step.holdPin) void client.call({ cmd: 'sim.pin', pin: TEST_PIN });
          if (step.cancel && state === 'authorizing') void client.call({ cmd: 'cancel' });
          if (state === 'confirmingDuplicate') void client.call({ cmd: 'confirm' });
          onState?.(state);
        });
        if (step.offline) await client.call({ cmd: 'sim.fault', device: 'network', code: 'up' });
        if (result.type === 'result') {
          sales += 1;
          if (!result['replayed']) reported.set(String(result['txnRef']), String(result['outcome']));
        }
        return result;
      }

      /** Sales the host approves by its rules (amounts under 2000.00 on these cards), so the batch has items. */
      async function approvedSales(client: EcrClient, count: number): Promise<void> {
        for (let i = 0; i < count; i++)
          await sale(client, {
            amount: 100 + Math.floor(random() * 20_000),
            card: random() < 0.7 ? 'visa' : 'mastercard',
          });
      }

      /**
       * The start after a killed settlement: `settle` again goes on (or starts over) and must close the batch in
       * balance with the host's own books: its batch empty afterwards, nothing it was told to lose still lost.
       */
      async function settleAfterRestart(client: EcrClient, killed: Omit<SettlementKill, 'reply' | 'host'>) {
        // As a register would: a host that did not answer in time is asked again, a few times.
        let reply = await client.call({ cmd: 'settle' });
        for (let i = 0; i < 3 && reply['code'] === 'host-unavailable'; i++)
          reply = await client.call({ cmd: 'settle' });
        settlementKills.push({ ...killed, reply, host: await hostControl.batch(TERMINAL_ID) });
      }

      const rounds: Record<Exclude<Phase, 'boot'>, (r: Round) => Promise<Kill>> = {
        // A request sent, its answer not back: 2000.01 answers after 150 ms, 2000.02 never, 2000.05 after the timeout.
        authorizing: async ({ terminal, client }) => {
          const amount = [200_001, 200_002, 200_005][Math.floor(random() * 3)]!;
          const card = ['visa', 'visa', 'mastercard', 'emv-online-pin'][Math.floor(random() * 4)]!;
          const hold = Math.floor(random() * 130);
          // States after `authorizing` mean the terminal has its answer or gave up waiting.
          const after: string[] = [];
          let authorizing = false;
          const drive = () =>
            sale(client, { amount, card }, (state) => {
              if (authorizing) after.push(state);
              else authorizing = state === 'authorizing';
            });
          const { request, answered, journalIo } = await killAtHost(ledger, terminal, '0200', drive, hold);
          const landed = request !== undefined && !answered && after.length === 0;
          if (landed) midAuthorization.add(request.stan!);
          return { phase: 'authorizing', landed, detail: `amount ${amount}`, journalIo };
        },

        // The request leaves the terminal and the relay keeps it: the terminal dies with its reversal armed and the
        // host never saw the request, which is what a kill between the armed-reversal commit and the send leaves.
        'armed-unsent': async ({ terminal, client }) => {
          const step = { amount: 100 + Math.floor(random() * 20_000), card: random() < 0.7 ? 'visa' : 'mastercard' };
          const { stan: held, journalIo } = await killOnRelay(relay, terminal, { hold: '0200' }, () =>
            sale(client, step),
          );
          if (held === undefined) return { phase: 'armed-unsent', landed: false, detail: 'no request seen', journalIo };
          const state = reversalStateOf(held);
          const atHost = ledger.poll().some((e) => e.dir === 'in' && e.mti === '0200' && e.stan === held);
          const landed = state === 'armed' && !atHost;
          if (landed) armedUnsent.add(held);
          return {
            phase: 'armed-unsent',
            landed,
            detail: landed ? 'reversal armed, request held back' : `reversal ${state}, at the host: ${atHost}`,
            journalIo,
          };
        },

        // The host's answer reaches the terminal's socket and the kill follows in the same instant, before the terminal
        // can commit it: a sale's 0210 (its reversal still armed) or, after a silent host, a reversal's 0410 (pending).
        'answered-uncommitted': async ({ terminal, client }) => {
          const toReversal = random() < 0.4;
          const mti = toReversal ? '0410' : '0210';
          const amount = toReversal ? 200_002 : 100 + Math.floor(random() * 20_000);
          const step = { amount, card: random() < 0.7 ? 'visa' : 'mastercard' };
          const { stan: answered, journalIo } = await killOnRelay(relay, terminal, { after: mti }, () =>
            sale(client, step),
          );
          if (answered === undefined)
            return { phase: 'answered-uncommitted', landed: false, detail: `no ${mti} seen`, journalIo };
          const state = reversalStateOf(answered);
          const atHost = ledger.poll().some((e) => e.dir === 'out' && e.mti === mti && e.stan === answered);
          const landed = atHost && state === (toReversal ? 'pending' : 'armed');
          if (landed) answeredUncommitted.set(answered, toReversal ? 'reversal' : 'financial');
          return {
            phase: 'answered-uncommitted',
            landed,
            detail: landed ? `${mti} not committed` : `${mti}: reversal ${state}`,
            journalIo,
          };
        },

        // A sale's states are each committed before their ECR event goes out, and the terminal goes straight on to the
        // next commits: after `authorizing`, the STAN, `sending` and the armed reversal (online) or the offline approval
        // with its queued advice; after `approved`/`declined`, `printing`; after the card is presented (our own action,
        // so never seen late), `reading`, `checkingCard`, `authorizing` and on. From the trigger the main thread is spun
        // on until it is inside its nth journal write or fsync, so the kill lands in a commit rather than between them.
        // An event that arrives late (the terminal already done) finds no commit to land in: that kill is a miss.
        'journal-write': async ({ terminal, client }) => {
          const burst = 1 + Math.floor(random() * 3);
          const target = Math.floor(random() * burst);
          const trigger = (['card', 'authorizing', 'decided'] as const)[Math.floor(random() * 3)]!;
          // How many journal writes to let pass: about as many as follow the trigger in every kind of sale.
          const nth = Math.floor(random() * { card: 6, authorizing: 3, decided: 2 }[trigger]);
          let outcome: Kill | undefined;
          const killed = () => outcome !== undefined; // read through a call: set inside the event callback
          for (let i = 0; i < burst && !killed(); i++) {
            const offline = random() < 0.5;
            const card = offline
              ? random() < 0.8
                ? 'visa'
                : 'mastercard'
              : ['visa', 'mastercard', 'insufficient-funds', 'emv-online-pin', 'emv-decline-after-approval'][
                  Math.floor(random() * 5)
                ]!;
            // The last state the terminal committed and reported before it died: the kill landed in a commit after it.
            let last = '';
            await sale(client, { amount: 100 + Math.floor(random() * 20_000), card, offline }, (state) => {
              last = state;
              if (i !== target || killed()) return;
              const fires =
                trigger === 'card'
                  ? state === 'waitingForCard'
                  : trigger === 'authorizing'
                    ? state === 'authorizing'
                    : state === 'approved' || state === 'declined';
              if (!fires) return;
              const inCommit = awaitJournalIo(terminal.child.pid, nth, 100);
              kill(terminal);
              outcome = {
                phase: 'journal-write',
                landed: procShowsSyscalls ? inCommit : true,
                detail: '',
                journalIo: inCommit,
              };
            });
            if (outcome) {
              outcome.detail = `${offline ? 'offline' : 'online'} sale, after ${last}`;
              // Without /proc, a kill counts when the sale had not finished.
              if (!procShowsSyscalls) outcome.landed = last !== 'done';
            }
          }
          return (
            outcome ?? { phase: 'journal-write', landed: false, detail: 'trigger not seen', journalIo: kill(terminal) }
          );
        },

        // Offline sales queue up behind a cut link; the link comes back and the kill lands once the host has some of
        // their advices but not all.
        drain: async ({ terminal, client }) => {
          await relay.cut();
          const queued: string[] = [];
          const count = 3 + Math.floor(random() * 10);
          for (let i = 0; i < count; i++) {
            const result = await sale(client, {
              amount: 100 + Math.floor(random() * 20_000),
              card: random() < 0.8 ? 'visa' : 'mastercard',
              offline: true,
            });
            if (result['outcome'] === 'offline-approved') queued.push(String(result['stan']).padStart(6, '0'));
          }
          const target = 1 + Math.floor(random() * Math.max(1, queued.length - 1));
          const mark = ledger.poll().length;
          const arrived = () =>
            new Set(
              ledger
                .poll()
                .slice(mark)
                .filter((e) => e.dir === 'in' && (e.mti === '0220' || e.mti === '0221') && queued.includes(e.stan!))
                .map((e) => e.stan),
            ).size;
          await relay.up();
          await waitFor(() => (arrived() >= target ? true : undefined), 5_000);
          const atKill = arrived();
          const journalIo = kill(terminal);
          const landed = atKill >= 1 && atKill < queued.length;
          if (landed) for (const stan of queued) midDrain.add(stan);
          // Answers the host sent that the journal had not committed when the kill came (acknowledgements go in groups).
          await terminal.exited;
          const answered = new Set(
            ledger
              .poll()
              .slice(mark)
              .filter((e) => e.dir === 'out' && e.mti === '0230' && queued.includes(e.stan!))
              .map((e) => e.stan!),
          );
          const stillQueued = journalAfterKill(
            (j) => new Set(j.saf.queue().map((item) => String(item.stan).padStart(6, '0'))),
          );
          const uncommitted = [...answered].filter((stan) => stillQueued.has(stan)).length;
          if (landed && uncommitted > 0) drainAnsweredUncommitted += 1;
          const where = uncommitted > 0 ? 'mid-drain, answers not committed' : 'mid-drain, answers committed';
          return {
            phase: 'drain',
            landed,
            detail: landed ? where : `${atKill} of ${queued.length} at the host`,
            journalIo,
          };
        },

        // The storage check writes and fsyncs a .selftest-*.tmp file in the data directory; the host check sends an echo.
        'self-test': async ({ terminal, client }) => {
          await sale(client, pickStep(random));
          const sign = random() < 0.5 ? 'storage file' : 'echo at the host';
          const mark = ledger.poll().length;
          let tmpFile = false;
          let answered = false;
          const dirWatch = watch(dataDir, (_event, name) => {
            if (!name?.startsWith('.selftest-')) return;
            tmpFile = true;
            nudge();
          });
          const pending = client.request({ cmd: 'selftest' }, () => {
            answered = true;
            nudge();
          });
          const seen = await waitFor(() => {
            if (answered) return 'answered';
            if (sign === 'storage file') return tmpFile ? sign : undefined;
            return ledger
              .poll()
              .slice(mark)
              .some((e) => e.dir === 'in' && e.mti === '0800')
              ? sign
              : undefined;
          }, 5_000);
          const journalIo = kill(terminal);
          dirWatch.close();
          const landed = seen === sign && !answered;
          await pending;
          return { phase: 'self-test', landed, detail: landed ? sign : `${sign}: ${seen ?? 'not seen'}`, journalIo };
        },

        // Inside a chip sale: at the PIN prompt (the PIN never typed), with the 0200 (field 55, and 52 after the PIN) at
        // the host and its answer held back (2000.01 answers after 150 ms, 2000.02 never), or in the commits after the
        // host's approval reached the terminal (its own commit, the card's second decision, the TC's commit).
        chip: async ({ terminal, client }) => {
          // The three instants in turn, so a campaign of a few chip rounds has each of them.
          const target = (['enteringPin', 'authorizing', 'completingChip'] as const)[chipRounds++ % 3]!;
          if (target === 'enteringPin') {
            const card = random() < 0.6 ? 'emv-online-pin' : 'emv-contactless';
            const amount =
              card === 'emv-online-pin' ? 100 + Math.floor(random() * 20_000) : 6_000 + Math.floor(random() * 9_000);
            let prompted = false;
            let journalIo = false;
            const pending = sale(client, { amount, card, holdPin: true }, (state) => {
              if (state !== 'enteringPin' || prompted) return;
              prompted = true;
              journalIo = kill(terminal);
            });
            await waitFor(() => (prompted ? true : undefined), 5_000);
            if (!prompted) journalIo = kill(terminal);
            await pending;
            await terminal.exited;
            const atPrompt = journalAfterKill((j) =>
              j.transactions.inFlight().filter((r) => r.state === 'enteringPin'),
            );
            const landed = prompted && atPrompt.length === 1;
            if (landed) killedAtPin.add(atPrompt[0]!.txnRef);
            return {
              phase: 'chip',
              landed,
              detail: landed ? `PIN prompt (${card})` : 'PIN prompt not seen',
              journalIo,
            };
          }
          if (target === 'authorizing') {
            const amount = random() < 0.5 ? 200_001 : 200_002;
            // Inserted, not tapped: these amounts are over the contactless transaction limit.
            const card = 'emv-online-pin';
            const { request, answered, journalIo } = await killAtHost(ledger, terminal, '0200', () =>
              sale(client, { amount, card }),
            );
            const landed = request !== undefined && !answered;
            if (landed) chipAtHost.add(request.stan!);
            return {
              phase: 'chip',
              landed,
              detail: landed ? `0200 at the host (${card})` : 'answered first',
              journalIo,
            };
          }
          // The 0210 reaches the terminal; the kill lands in one of the journal writes that follow it.
          const card = ['emv-online-pin', 'emv-contactless', 'emv-decline-after-approval', 'emv-removed'][
            Math.floor(random() * 4)
          ]!;
          const nth = Math.floor(random() * 3);
          const amount =
            card === 'emv-contactless' ? 6_000 + Math.floor(random() * 9_000) : 100 + Math.floor(random() * 20_000);
          const { stan: answered, journalIo } = await killOnRelay(
            relay,
            terminal,
            { after: '0210' },
            () => sale(client, { amount, card }),
            { atMatch: () => awaitJournalIo(terminal.child.pid, nth, 100) },
          );
          if (answered === undefined) return { phase: 'chip', landed: false, detail: 'no 0210 seen', journalIo };
          const stan = answered;
          const left = journalAfterKill((j) => {
            const row = j.transactions.findByStan(Number(stan));
            return { row, reversal: row ? j.reversals.forTransaction(row.txnRef)?.state : undefined };
          });
          const approvedAtHost = ledger
            .poll()
            .some((e) => e.dir === 'out' && e.mti === '0210' && e.stan === stan && e.responseCode === '00');
          // The host's approval is committed (its response code in the row) and the reversal is still armed (no TC
          // yet) or owed (the card refused or left): the instant between the host's answer and the card's.
          const landed =
            approvedAtHost &&
            left.row?.responseCode === '00' &&
            left.row.outcome !== 'approved' &&
            (left.reversal === 'armed' || left.reversal === 'pending');
          if (landed) chipUnconfirmed.set(stan, `${card}, reversal ${left.reversal}`);
          return {
            phase: 'chip',
            landed,
            detail: landed
              ? `approval committed, no TC (reversal ${left.reversal})`
              : `after 0210: ${left.row?.state}, response ${left.row?.responseCode}, reversal ${left.reversal}`,
            journalIo,
          };
        },

        // A settlement killed between its 0500 and the commit of the 0510: the request held back by the relay (the host
        // never saw it), the host's answer dropped on its way (the host has decided, maybe closed its batch), or the
        // answer at the terminal's socket and the kill at once. Sometimes the host was told to disagree (95).
        settlement: async ({ terminal, client }) => {
          await approvedSales(client, 1 + Math.floor(random() * 2));
          const variant = (['held', 'dropped', 'answered'] as const)[settlementRounds++ % 3]!;
          const disagree = random() < 0.35;
          if (disagree) await hostControl.say('settle-disagree once');
          const spec =
            variant === 'held' ? { hold: '0500' } : variant === 'dropped' ? { drop: '0510' } : { after: '0510' };
          const { stan, journalIo } = await killOnRelay(relay, terminal, spec, () => client.call({ cmd: 'settle' }));
          const host = ledger.poll();
          const atHost = host.some((e) => e.dir === 'in' && e.mti === '0500' && e.stan === stan);
          const answer = host.find((e) => e.dir === 'out' && e.mti === '0510' && e.stan === stan);
          const batch = journalAfterKill((j) => j.batches.current());
          const sign = variant === 'held' ? stan !== undefined && !atHost : answer !== undefined;
          const landed = sign && (batch.state === 'settling' || batch.state === 'uploading');
          const detail = landed
            ? `0500 ${variant}${answer ? ` (host answered ${answer.responseCode})` : ''}`
            : `${variant}: 0500 ${stan ?? 'not seen'}, batch ${batch.state}`;
          if (batch.state !== 'open') settlementKilled = { phase: 'settlement', batchNumber: batch.number, detail };
          return { phase: 'settlement', landed, detail, journalIo };
        },

        // A batch upload killed with some transactions uploaded and some not: the host was told to lose approved sales
        // (or to disagree), so the settlement uploads; the kill comes at the nth 0320 held back by the relay (never at the
        // host), at the nth 0330 dropped (the host took it, the terminal never heard), at the nth 0330 at the terminal's
        // socket, or in the journal write that follows that 0330 (the upload's progress being committed).
        upload: async ({ terminal, client }) => {
          const losing = random() < 0.6;
          const count = 3 + Math.floor(random() * 3);
          if (losing) await hostControl.say(`lose-approved ${1 + Math.floor(random() * 2)}`);
          else await hostControl.say('settle-disagree once');
          await approvedSales(client, count);
          const variant = (['held', 'dropped', 'answered', 'committing'] as const)[uploadRounds++ % 4]!;
          const nth = 1 + Math.floor(random() * (count - 2));
          const mark = ledger.poll().length;
          const spec =
            variant === 'held'
              ? { hold: '0320', nth }
              : variant === 'dropped'
                ? { drop: '0330', nth }
                : { after: '0330', nth };
          const { stan, journalIo } = await killOnRelay(relay, terminal, spec, () => client.call({ cmd: 'settle' }), {
            atMatch: () => variant === 'committing' && awaitJournalIo(terminal.child.pid, 0, 100),
          });
          const atHost = new Set(
            ledger
              .poll()
              .slice(mark)
              .filter((e) => e.dir === 'in' && (e.mti === '0320' || e.mti === '0321'))
              .map((e) => e.stan),
          );
          const left = journalAfterKill((j) => {
            const batch = j.batches.current();
            return { batch, items: j.batches.uploadItems(batch.number, 0, 1_000_000).length };
          });
          const landed =
            stan !== undefined &&
            left.batch.state === 'uploading' &&
            atHost.size >= 1 &&
            atHost.size < left.items &&
            (variant === 'committing' ? journalIo : true);
          const detail = landed
            ? `${variant} at upload ${nth + 1} of ${left.items} (${left.batch.uploaded} committed)`
            : `${variant}: ${stan ?? 'no upload seen'}, batch ${left.batch.state}, ${atHost.size} of ${left.items} at the host`;
          if (left.batch.state !== 'open')
            settlementKilled = { phase: 'upload', batchNumber: left.batch.number, detail };
          // A round that missed leaves the host's told disagreement or lost sales for the next settlement to resolve.
          return { phase: 'upload', landed, detail, journalIo };
        },

        random: async ({ terminal, client }) => {
          const stop = { killed: false };
          const running = (async () => {
            while (!stop.killed) if ((await sale(client, pickStep(random)))['code'] === 'disconnected') break;
          })();
          // A random instant: during boot recovery and draining, mid-sale, mid-journal-write, mid-forwarding.
          await sleep(Math.floor(random() * 1_200));
          const journalIo = kill(terminal);
          stop.killed = true;
          await running;
          return { phase: 'random', landed: true, detail: 'any', journalIo };
        },
      };

      // Kill before the ready line. The data directory shows how far boot got (inotify; the log is buffered and comes
      // too late): the run marker is rewritten as telemetry starts, shortly before recovery; journal commits after it
      // are recovery's batch or the forwarder's first try at what is owed; a .selftest file means recovery is over and
      // the boot self-test runs. Half the rounds kill in the first journal write or fsync after the marker (spun on as
      // above), half at an instant up to a usual start time (mostly before the journal is even open).
      async function bootRound(): Promise<Kill> {
        const inCommit = random() < 0.5;
        const at = Math.floor(random() * readyMs);
        mkdirSync(dataDir, { recursive: true, mode: 0o700 });
        const seen = { marker: false, commit: false, selfTest: false };
        const dirWatch = watch(dataDir, (_event, name) => {
          if (name?.startsWith('run-marker')) seen.marker = true;
          else if (name === 'journal.sqlite-wal' && seen.marker) seen.commit = true;
          else if (name?.startsWith('.selftest-')) seen.selfTest = true;
          else return;
          nudge();
        });
        const terminal = releaseTerminal();
        terminal.child.stdout.on('data', nudge);
        const ready = () => /ECR on/.test(terminal.stdout());
        let caught = false;
        if (inCommit) {
          await waitFor(() => (seen.marker || ready() || terminal.child.exitCode !== null ? true : undefined), 20_000);
          caught = awaitJournalIo(terminal.child.pid, 0, 300);
        } else await sleep(at);
        // A write caught by the spin may have returned a microsecond later: the kill is still inside that commit.
        const journalIo = kill(terminal) || caught;
        await terminal.exited;
        await sleep(5); // the data directory's last events, from before the kill
        dirWatch.close();
        if (terminal.child.signalCode === null) throw new Error(`terminal exited by itself: ${terminal.stderr()}`);
        const where = ready()
          ? 'after ready'
          : seen.selfTest
            ? 'boot self-test'
            : journalIo
              ? 'boot commit'
              : seen.commit
                ? 'recovery'
                : seen.marker
                  ? 'before recovery'
                  : 'starting';
        return { phase: 'boot', landed: !ready(), detail: where, journalIo };
      }

      const kills: Kill[] = [];
      for (let round = 0; round < KILLS; round++) {
        const phase = plan[round]!;
        const roundStarted = Date.now();
        let outcome: Kill;
        if (phase === 'boot') outcome = await bootRound();
        else {
          const started = await startTerminal();
          try {
            outcome = await rounds[phase](started);
          } finally {
            relay.intercept = undefined;
            started.terminal.child.kill('SIGKILL');
            await started.terminal.exited;
            await started.client.close();
            await relay.up();
          }
        }
        kills.push(outcome);
        if (VERBOSE)
          console.info(
            `kill ${round + 1}/${KILLS} ${phase}: ${outcome.landed ? 'landed' : 'missed'} (${outcome.detail}${outcome.journalIo ? ', in journal I/O' : ''}); ${sales} sales so far; ${Date.now() - roundStarted} ms`,
          );
      }

      // Last start: let it recover and drain everything it owes the host.
      const finalStarted = Date.now();
      const { terminal, client } = await startTerminal(true);
      let status: Record<string, unknown> = {};
      const drained = async () => {
        status = await client.call({ cmd: 'status' });
        const queue = status['offlineQueue'] as { count: number };
        return (
          status['pendingReversals'] === 0 &&
          queue.count === 0 &&
          (status['journal'] as { inFlight: number }).inFlight === 0
        );
      };
      const started = Date.now();
      while (!(await drained())) {
        if (Date.now() - started > 60_000) throw new Error(`terminal did not drain: ${JSON.stringify(status)}`);
        await sleep(100);
      }
      // The day ends: the last batch settles with the host, whatever the kills left of it.
      const finalSettle = await client.call({ cmd: 'settle' });
      const finalHostBatch = await hostControl.batch(TERMINAL_ID);
      const hostSettlements = await hostControl.settlements();
      await client.close();
      terminal.child.kill('SIGTERM');
      await terminal.exited;
      ledgerWatch.close();
      if (VERBOSE)
        console.info(
          `final start, drain and stop: ${Date.now() - finalStarted} ms (ready in ${Math.round(readyMs)} ms on average)`,
        );

      // ---- Reconciliation ----
      const entries = ledger.poll();
      /** The requests the host received for a STAN, repeats included (the ledger's order, not its duplicate flag). */
      const received = (stan: string, mtis: string[]) =>
        entries.filter((e) => e.dir === 'in' && e.stan === stan && mtis.includes(String(e.mti))).length;

      const journal = Journal.open(join(dataDir, 'journal.sqlite'), { readonly: true });
      try {
        expect(journal.integrityCheck()).toEqual(['ok']);
        const rows = journal.transactions.list({ limit: 1_000_000 });
        const byStan = new Map(rows.filter((r) => r.stan !== null).map((r) => [String(r.stan).padStart(6, '0'), r]));
        // The host's ledger is the truth: amounts, one row per STAN, repeats, reversals, advices, nothing owed.
        const settled = reconcile(entries, journal);
        const problems = [...settled.problems];
        const tally = settled.tally;

        // Killed with the request at the host and no answer back: never approved, reversed exactly once.
        for (const stan of midAuthorization) {
          const row = byStan.get(stan);
          const reversals = received(stan, ['0400', '0401']);
          if (
            !row ||
            row.outcome === 'approved' ||
            reversals === 0 ||
            journal.reversals.forTransaction(row.txnRef)?.state !== 'acknowledged'
          ) {
            problems.push(
              `STAN ${stan} (killed while authorizing): outcome ${row?.outcome}, ${reversals} reversals at the host, reversal ${row ? journal.reversals.forTransaction(row.txnRef)?.state : 'none'}`,
            );
          }
        }
        // Killed with the reversal armed and the request held back: the host never had it, the reversal still went
        // (the terminal cannot know the request did not arrive), and the sale was not approved.
        for (const stan of armedUnsent) {
          const row = byStan.get(stan);
          if (
            !row ||
            row.outcome === 'approved' ||
            received(stan, ['0200']) !== 0 ||
            received(stan, ['0400', '0401']) === 0 ||
            journal.reversals.forTransaction(row.txnRef)?.state !== 'acknowledged'
          ) {
            problems.push(
              `STAN ${stan} (killed with its reversal armed, request not at the host): outcome ${row?.outcome}, ${received(stan, ['0200'])} requests and ${received(stan, ['0400', '0401'])} reversals at the host`,
            );
          }
        }
        // Killed with the answer at the terminal, uncommitted: an approval it never recorded is reversed, and a reversal
        // answer it never recorded is sent again as a repeat (0401), once acknowledged.
        for (const [stan, what] of answeredUncommitted) {
          const row = byStan.get(stan);
          const reversal = row ? journal.reversals.forTransaction(row.txnRef) : undefined;
          const ok =
            what === 'financial'
              ? row !== undefined &&
                row.outcome !== 'approved' &&
                reversal?.state === 'acknowledged' &&
                received(stan, ['0400', '0401']) >= 1
              : reversal?.state === 'acknowledged' && received(stan, ['0401']) >= 1;
          if (!ok)
            problems.push(
              `STAN ${stan} (killed with its ${what} answer uncommitted): outcome ${row?.outcome}, reversal ${reversal?.state}, ${received(stan, ['0400', '0401'])} reversals at the host`,
            );
        }
        // Killed at the PIN prompt: no request reached the host, and the sale did not stand.
        const byTxnRef = new Map(rows.map((r) => [r.txnRef, r]));
        for (const txnRef of killedAtPin) {
          const row = byTxnRef.get(txnRef);
          const requests = row?.stan ? received(String(row.stan).padStart(6, '0'), ['0200']) : 0;
          if (!row || row.outcome === 'approved' || row.outcome === null || requests !== 0)
            problems.push(
              `${txnRef} (killed at the PIN prompt): outcome ${row?.outcome}, ${requests} requests at the host`,
            );
        }
        // Killed with the chip's 0200 at the host, or with the host's approval committed before the card's TC: an
        // approval the card never confirmed ends reversed, exactly once acknowledged.
        for (const [stan, what] of [
          ...[...chipAtHost].map((stan) => [stan, 'request at the host'] as const),
          ...[...chipUnconfirmed].map(([stan, why]) => [stan, `approved, no TC: ${why}`] as const),
        ]) {
          const row = byStan.get(stan);
          const reversal = row ? journal.reversals.forTransaction(row.txnRef) : undefined;
          if (
            !row ||
            row.outcome === 'approved' ||
            reversal?.state !== 'acknowledged' ||
            received(stan, ['0400', '0401']) === 0
          )
            problems.push(
              `STAN ${stan} (chip sale killed, ${what}): outcome ${row?.outcome}, reversal ${reversal?.state}, ${received(stan, ['0400', '0401'])} reversals at the host`,
            );
        }
        // The chip's 0200s carried field 55, and field 52 after an online PIN (the host's facts on its answer).
        for (const stan of chipAtHost) {
          const facts = entries.find((e) => e.dir === 'out' && e.mti === '0210' && e.stan === stan) as
            | (LedgerEntry & { field55?: boolean })
            | undefined;
          if (facts && facts.field55 !== true)
            problems.push(`STAN ${stan} (chip sale killed at the host): no field 55`);
        }
        // Killed in the middle of their drain: each still forwarded and taken exactly once.
        for (const stan of midDrain) {
          if (byStan.get(stan)?.outcome !== 'offline-approved' || received(stan, ['0220', '0221']) === 0)
            problems.push(`STAN ${stan} (drain killed): no advice at the host`);
        }
        // Each killed settlement was finished by the next start's `settle`, and the host's books agreed: its batch of
        // this terminal left empty, nothing it was told to lose still lost. So was the day's last settlement.
        for (const k of [
          ...settlementKills,
          { phase: 'final', batchNumber: 0, detail: 'last batch', reply: finalSettle, host: finalHostBatch },
        ]) {
          if (k.reply.type !== 'done' || Object.keys(k.host.totals).length > 0 || k.host.lost > 0)
            problems.push(
              `${k.phase} kill (${k.detail}): the settlement after the restart answered ${JSON.stringify(k.reply)}; the host's batch ${JSON.stringify(k.host)}`,
            );
        }
        const landedSettlementKills = kills.filter(
          (k) => k.landed && (k.phase === 'settlement' || k.phase === 'upload'),
        );
        if (settlementKills.length < landedSettlementKills.length)
          problems.push(
            `${landedSettlementKills.length} settlements killed, ${settlementKills.length} settled after the restart`,
          );
        // Every batch the journal closed is one the host agreed to, with the host's own totals equal to the journal's.
        const batches = journal.batches.list(1_000_000);
        for (const b of batches.filter((x) => x.state === 'closed')) {
          const sent = (b.terminalTotals as { currencies?: Array<{ currency: string; reconciliation: unknown }> })
            .currencies;
          for (const c of sent ?? []) {
            const agreed = hostSettlements.find(
              (r) => r.batchNumber === b.number && r.currency === c.currency && r.responseCode === '00',
            );
            if (!agreed || JSON.stringify(agreed.hostTotals) !== JSON.stringify(c.reconciliation))
              problems.push(
                `batch ${b.number} ${c.currency}: closed with ${JSON.stringify(c.reconciliation)}, the host agreed to ${JSON.stringify(agreed?.hostTotals)}`,
              );
          }
        }
        const notClosed = batches.filter((b) => b.state !== 'closed' && b.state !== 'open');
        if (notClosed.length > 0) problems.push(`batches left ${notClosed.map((b) => `${b.number} ${b.state}`)}`);
        // No transaction uploaded twice: one 0320 per STAN at most. A 0321 is the protocol's repeat (the first record
        // of a resumed upload, or a try after no answer), which the host answers from its books when it has it.
        const uploads = new Map<string, { first: number; repeats: number }>();
        for (const e of entries.filter((x) => x.dir === 'in' && (x.mti === '0320' || x.mti === '0321'))) {
          const u = uploads.get(e.stan!) ?? { first: 0, repeats: 0 };
          if (e.mti === '0320') u.first += 1;
          else u.repeats += 1;
          uploads.set(e.stan!, u);
        }
        for (const [stan, u] of uploads)
          if (u.first > 1) problems.push(`STAN ${stan} uploaded ${u.first} times as 0320 (and ${u.repeats} as 0321)`);
        // What the register was told is what the journal says.
        const byRef = new Map(rows.map((r) => [r.txnRef, r]));
        for (const [txnRef, outcome] of reported) {
          if (byRef.get(txnRef)?.outcome !== outcome)
            problems.push(
              `${txnRef}: the register was told ${outcome}, the journal says ${byRef.get(txnRef)?.outcome}`,
            );
        }
        expect(problems).toEqual([]);

        // The campaign must have exercised what it claims to (a campaign of boot kills alone has no sales).
        if (PHASES.length === ALL_PHASES.length) {
          expect(tally.approved).toBeGreaterThan(0);
          expect(tally.reversed).toBeGreaterThan(0);
          expect(tally.offline).toBeGreaterThan(0);
        }
        const histogram = PHASES.map((phase) => {
          const mine = kills.filter((k) => k.phase === phase);
          const landed = mine.filter((k) => k.landed);
          const details = new Map<string, number>();
          for (const k of landed) details.set(k.detail, (details.get(k.detail) ?? 0) + 1);
          return {
            phase,
            planned: mine.length,
            landed: landed.length,
            inJournalIo: mine.filter((k) => k.journalIo).length,
            where: [...details]
              .sort((a, b) => b[1] - a[1])
              .map(([d, n]) => `${d} ${n}`)
              .join(', '),
          };
        });
        const leftovers = readdirSync(dataDir).filter((name) => name.startsWith('.selftest-')).length;
        console.info(
          [
            `crash campaign seed ${SEED}: ${KILLS} kills in ${Math.round((Date.now() - began) / 1000)} s, ${sales} completed sales, ${rows.length} transactions journaled, ${JSON.stringify(tally)}`,
            `kills reconciled: ${midAuthorization.size} STANs killed while authorizing, ${armedUnsent.size} with the reversal armed and the request held back, ${answeredUncommitted.size} with the answer uncommitted, ${midDrain.size} offline sales in killed drains (${drainAnsweredUncommitted} drains with answers uncommitted), ${reported.size} register results; ${leftovers} self-test files left behind`,
            `chip kills reconciled: ${killedAtPin.size} at the PIN prompt, ${chipAtHost.size} with the 0200 (55/52) at the host, ${chipUnconfirmed.size} with the approval committed before the TC`,
            `chip sales at the host: ${chipFacts(entries)}`,
            `money: host ${settled.money.host}, journal ${settled.money.journal}, not collected ${settled.money.notCollected}; ${settled.ledgerEntries} ledger entries`,
            'phase                  planned landed  in-journal-I/O  where',
            ...histogram.map(
              (h) =>
                `${h.phase.padEnd(22)} ${String(h.planned).padStart(7)} ${String(h.landed).padStart(6)} ${String(h.inJournalIo).padStart(15)}  ${h.where}`,
            ),
          ].join('\n'),
        );
        // The final start's self-test removed the probe files that killed self-tests left behind.
        expect(leftovers).toBe(0);
        // Every phase was really hit, not only planned.
        expect(
          histogram.filter((h) => h.landed < MIN_LANDED).map((h) => `${h.phase}: ${h.landed} of ${h.planned} landed`),
        ).toEqual([]);
        // The instants that matter were hit, each with its own check above: a landed kill is one such instant.
        if (PHASES.includes('armed-unsent')) expect(armedUnsent.size).toBeGreaterThan(0);
        if (PHASES.includes('answered-uncommitted')) expect(answeredUncommitted.size).toBeGreaterThan(0);
        if (PHASES.includes('drain')) expect(drainAnsweredUncommitted).toBeGreaterThan(0);
        if (PHASES.includes('chip'))
          expect(killedAtPin.size + chipAtHost.size + chipUnconfirmed.size).toBeGreaterThan(0);
      } finally {
        journal.close();
        host.child.kill('SIGTERM');
        await host.exited;
      }
    },
    Math.max(600_000, KILLS * 5_000),
  );
});
