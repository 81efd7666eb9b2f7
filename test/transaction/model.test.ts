/**
 * Model-based tests of the transaction machine: @xstate/graph walks every simple path of the machine definition,
 * and each path is then replayed against the real effects (mock reader, mock printer, mock display, SQLite
 * journal, a scripted acquirer) on a simulated clock. Every step must land in the state the model predicts, and
 * every path's end is checked in the journal, on the display and in the host messages sent.
 */
import { getSimplePaths } from '@xstate/graph';
import { createActor, fromPromise, type AnyEventObject } from 'xstate';
import { describe, expect, it } from 'vitest';
import { MockCardReader } from '../../hal/card-reader/mock.js';
import { ManualClock } from '../../hal/clock.js';
import { MockDisplay } from '../../hal/display/mock.js';
import { DeviceFaultError } from '../../hal/fault.js';
import { MockPrinter } from '../../hal/printer/mock.js';
import { anomalyByName, type AnomalyName } from '../../src/anomaly/index.js';
import { AnomalyRecorder } from '../../src/anomaly/recorder.js';
import { SensitiveCard } from '../../src/card/sensitive-card.js';
import { HostError, type AcquirerClient, type HostReply } from '../../src/acquirer/acquirer-client.js';
import { pack, unpack, type IsoMessage } from '../../src/iso8583/index.js';
import { Journal } from '../../src/journal/index.js';
import { testCard } from '../../src/card/test-cards.js';
import { provideTransactionEffects } from '../../src/terminal/effects/index.js';
import { transactionMachine } from '../../src/transaction/machine.js';
import {
  AuthorizationFailure,
  type Authorization,
  type CardAssessment,
  type TransactionInput,
} from '../../src/transaction/types.js';
import { createLogger } from '../../src/util/log.js';
import { CardVault } from '../../src/durability/card-vault.js';
import type { OfflineLimits } from '../../src/durability/offline-policy.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CARD_WAIT_MS = 30_000;
const READ_MS = 100;
const REMOVAL_ALERT_MS = 10_000;
const REMOVAL_ANOMALY_MS = 60_000;
const limits = {
  minAmount: 1,
  maxAmount: 1_000_000,
  readRetries: 1,
  cardWaitTimeoutMs: CARD_WAIT_MS,
  confirmTimeoutMs: 60_000,
  cardRemovalAlertMs: REMOVAL_ALERT_MS,
  cardRemovalAnomalyMs: REMOVAL_ANOMALY_MS,
};
const card = testCard('visa')!;
/** Another card, swiped while the terminal was idle before the sale: it must never be read. */
const idleSwipe = { ...testCard('visa')!, pan: '5413330089020011', entryMode: 'swipe' as const };

const approved: Authorization = {
  stan: 1,
  responseCode: '00',
  responseText: 'approved',
  approved: true,
  approvalCode: 'A00001',
  rrn: '000000000001',
};
const declined: Authorization = { stan: 1, responseCode: '51', responseText: 'insufficient funds', approved: false };
// The host cannot be reached: the terminal decides by its store-and-forward rules.
const offlineApproved: Authorization = {
  stan: 1,
  responseCode: 'Y1',
  responseText: 'approved offline',
  approved: true,
  offline: true,
  approvalCode: 'Y10001',
};
const offlineDeclined: Authorization = {
  responseCode: 'Z3',
  responseText: 'declined offline',
  approved: false,
  offline: true,
};
// The host approved part of the amount (code 10): smaller than every input's amount.
const PARTIAL_AMOUNT = 100;
const partiallyApproved: Authorization = {
  stan: 1,
  responseCode: '10',
  responseText: 'partial',
  approved: true,
  approvalCode: 'A00001',
  rrn: '000000000001',
  approvedAmount: PARTIAL_AMOUNT,
};

/** The abstract events the model may take; each maps to a stimulus of the real devices below. */
const MODEL_EVENTS: AnyEventObject[] = [
  { type: 'CANCEL' },
  { type: 'xstate.done.actor.waitForCard', output: { entryMode: 'chip' } },
  {
    type: 'xstate.error.actor.waitForCard',
    error: new DeviceFaultError('card-reader', 'not-connected', 'reader unplugged'),
  },
  { type: 'xstate.after.cardTimeout.transaction.waitingForCard' },
  { type: 'xstate.done.actor.readCard', output: new SensitiveCard(card) },
  { type: 'xstate.error.actor.readCard', error: new DeviceFaultError('card-reader', 'read-failed', 'bad read') },
  { type: 'xstate.error.actor.readCard', error: new DeviceFaultError('card-reader', 'tamper', 'tamper switch') },
  { type: 'xstate.done.actor.assessCard', output: { action: 'continue', cardKey: 'k1' } },
  {
    type: 'xstate.done.actor.assessCard',
    output: {
      action: 'confirm-duplicate',
      cardKey: 'k1',
      anomaly: { name: 'duplicate-transaction' },
      earlier: { at: 0, stan: 7, txnRef: 'T-OLD' },
    },
  },
  {
    type: 'xstate.done.actor.assessCard',
    output: { action: 'ask-other-method', anomaly: { name: 'suspected-fraud-fallback', reason: 'chip card swiped' } },
  },
  {
    type: 'xstate.done.actor.assessCard',
    output: { action: 'decline', anomaly: { name: 'suspected-fraud-luhn', reason: 'check digit' } },
  },
  {
    type: 'xstate.done.actor.assessCard',
    output: { action: 'lock', anomaly: { name: 'card-testing', reason: '5 cards in 60 s' } },
  },
  { type: 'CONFIRM' },
  { type: 'xstate.after.confirmTimeout.transaction.confirmingDuplicate' },
  { type: 'xstate.done.actor.authorize', output: approved },
  { type: 'xstate.done.actor.authorize', output: declined },
  { type: 'xstate.error.actor.authorize', error: new AuthorizationFailure('timeout', 'no answer', true, 1) },
  { type: 'xstate.done.actor.authorize', output: offlineApproved },
  { type: 'xstate.done.actor.authorize', output: offlineDeclined },
  { type: 'xstate.done.actor.authorize', output: partiallyApproved },
  { type: 'xstate.after.partialTimeout.transaction.confirmingPartial' },
  { type: 'xstate.done.actor.printReceipts', output: { warnings: [] } },
  {
    type: 'xstate.error.actor.printReceipts',
    error: new DeviceFaultError('printer', 'paper-out', 'paper out', { linesPrinted: 2 }),
  },
  { type: 'xstate.done.actor.waitForRemoval' },
];

/**
 * A card left in the reader after the outcome: the alert, then the anomaly. Not in the model's events (each would
 * multiply every path through the end states); walked as a variant of every sale path that waits for the removal.
 */
const CARD_LEFT_IN_EVENTS: AnyEventObject[] = [
  { type: 'xstate.after.removalAlert.transaction.removingCard.waiting' },
  { type: 'xstate.after.removalAnomaly.transaction.removingCard.alerted' },
];

/** What was in the reader before the transaction started, or the card left in after it: the world of one walk. */
type Before = 'empty' | 'swiped-while-idle' | 'card-left-in' | 'left-in-after';

type Mode = 'approve' | 'partial' | 'decline' | 'timeout' | 'unsent' | 'hang';
const CONFIRM_MS = 60_000;

/** Stands in for the acquirer: answers as the path says, and keeps every message it was given. */
class ScriptedAcquirer {
  mode: Mode = 'approve';
  readonly sent: IsoMessage[] = [];
  async send(request: IsoMessage, options: { signal?: AbortSignal } = {}): Promise<HostReply> {
    this.sent.push(unpack(pack(request))); // what would be on the wire
    const stan = Number(request.fields[11]);
    const reply = (responseCode: string): HostReply => ({
      mti: '0210',
      stan,
      terminalId: 'TERM0001',
      responseCode,
      amount: responseCode === '10' ? PARTIAL_AMOUNT : Number(request.fields[4]),
      ...(responseCode === '00' || responseCode === '10' ? { approvalCode: 'A00001', rrn: '000000000001' } : {}),
      message: { mti: '0210', fields: {} },
    });
    switch (this.mode) {
      case 'approve':
        return reply('00');
      case 'partial':
        return reply('10');
      case 'decline':
        return reply('51');
      case 'timeout':
        throw new HostError('timeout', 'no response within 30000 ms', true);
      case 'unsent':
        throw new HostError('not-connected', 'host not reachable', false);
      case 'hang':
        return new Promise((_, reject) =>
          options.signal?.addEventListener('abort', () => reject(new HostError('cancelled', 'cancelled', true))),
        );
    }
  }
}

async function harness(input: TransactionInput, before: Before = 'empty') {
  const clock = new ManualClock();
  const reader = new MockCardReader(clock, { readDurationMs: READ_MS });
  const printer = new MockPrinter(clock);
  const display = new MockDisplay();
  await reader.open();
  await printer.open();
  const discardedSwipes: unknown[] = [];
  reader.on('swipe-discarded', (e) => discardedSwipes.push(e));
  if (before === 'swiped-while-idle') reader.present(idleSwipe);
  if (before === 'card-left-in') {
    // The last sale's card: read, and still inserted when this one starts.
    reader.present(card);
    const read = reader.read();
    await clock.advance(READ_MS);
    await read;
  }
  await clock.advance(5_000);
  /** What the register was told, and whether the card was still in the reader then. */
  const told: Array<{ outcome: string; cardIn: boolean }> = [];
  const journal = Journal.open(':memory:', { now: () => clock.now() });
  const acquirer = new ScriptedAcquirer();
  const log = createLogger('silent');
  const anomalies = new AnomalyRecorder(journal, display, log);
  const vault = CardVault.open(join(mkdtempSync(join(tmpdir(), 'pos-vault-')), 'saf.key'), { createIfMissing: true });
  const offline: OfflineLimits = {
    enabled: false,
    floorLimit: 100_000,
    maxCount: 10,
    maxTotal: 1_000_000,
    maxAgeMs: 86_400_000,
    entryModes: ['chip', 'contactless'],
    allowRefunds: true,
  };
  const machine = provideTransactionEffects({
    vault,
    offline,
    reader,
    printer,
    display,
    journal,
    anomalies,
    clock,
    log,
    acquirer: acquirer as unknown as AcquirerClient,
    merchant: { label: 'Test Shop', addressLines: [], terminalId: 'TERM0001', merchantId: 'MERCHANT0000001' },
    responseTimeoutMs: 30_000,
    listener: () => undefined,
    onOutcome: (output) => told.push({ outcome: output.outcome, cardIn: reader.cardInReader !== undefined }),
  });
  journal.transactions.begin({
    txnRef: input.txnRef,
    kind: input.kind,
    amount: input.amount,
    currency: input.currency,
  });
  // The card checks are scripted per path (their rules have their own tests in test/risk).
  // Armed outcomes are queued in path order; 'hang' holds the check until the path cancels it.
  const script: { assessments: Array<CardAssessment | 'hang'> } = { assessments: [] };
  const scripted = machine.provide({
    actors: {
      assessCard: fromPromise(async ({ signal }) => {
        const next = script.assessments.shift() ?? { action: 'continue' as const };
        if (next !== 'hang') return next;
        return new Promise<CardAssessment>((_, reject) =>
          signal.addEventListener('abort', () => reject(new Error('aborted'))),
        );
      }),
    },
  });
  const actor = createActor(scripted, {
    input,
    clock: {
      setTimeout: (fn: (...a: unknown[]) => void, ms: number) => clock.setTimeout(fn, ms),
      clearTimeout: (h: unknown) => (h as { cancel(): void }).cancel(),
    },
  });
  return { clock, reader, printer, display, journal, acquirer, actor, offline, script, told, discardedSwipes };
}

type Harness = Awaited<ReturnType<typeof harness>>;

/** Prepare the devices so the actor about to be invoked produces this event. Runs before entering the state. */
function arm(h: Harness, event: AnyEventObject, sourceState: string): void {
  const error = event['error'] as { code?: string } | undefined;
  switch (event.type) {
    case 'xstate.error.actor.readCard':
      h.reader.inject({ op: 'read', code: error!.code as 'read-failed' | 'tamper' });
      break;
    case 'xstate.done.actor.authorize': {
      const output = event['output'] as Authorization;
      h.offline.enabled = output.offline === true && output.approved;
      h.acquirer.mode = output.offline
        ? 'unsent'
        : output.approvedAmount !== undefined
          ? 'partial'
          : output.approved
            ? 'approve'
            : 'decline';
      break;
    }
    case 'xstate.error.actor.authorize':
      h.acquirer.mode = 'timeout';
      break;
    case 'xstate.done.actor.assessCard':
      h.script.assessments.push(event['output'] as CardAssessment);
      break;
    case 'xstate.error.actor.printReceipts':
      h.printer.inject({ op: 'print-line', code: 'paper-out', atStep: 3 });
      break;
    case 'CANCEL':
      if (sourceState === 'authorizing') h.acquirer.mode = 'hang';
      if (sourceState === 'checkingCard') h.script.assessments.push('hang');
      break;
  }
}

/** Events that happen only when the test acts (a card, time, a key); the others follow from an armed effect. */
function needsStimulus(event: AnyEventObject): boolean {
  return [
    'xstate.done.actor.waitForCard',
    'xstate.error.actor.waitForCard',
    'xstate.after.cardTimeout.transaction.waitingForCard',
    'xstate.done.actor.readCard',
    'CANCEL',
    'CONFIRM',
    'xstate.after.confirmTimeout.transaction.confirmingDuplicate',
    'xstate.after.partialTimeout.transaction.confirmingPartial',
    'xstate.done.actor.waitForRemoval',
    ...CARD_LEFT_IN_EVENTS.map((e) => e.type),
  ].includes(event.type);
}

/** Make the event happen in the world (a card presented, time passing, the operator pressing cancel). */
async function fire(h: Harness, event: AnyEventObject): Promise<void> {
  switch (event.type) {
    case 'xstate.done.actor.waitForCard':
      h.reader.present(card);
      break;
    case 'xstate.error.actor.waitForCard':
      // The reader is unplugged while the terminal waits for a card.
      await h.reader.close();
      break;
    case 'xstate.after.cardTimeout.transaction.waitingForCard':
      await h.clock.advance(CARD_WAIT_MS);
      break;
    case 'xstate.done.actor.readCard':
      await h.clock.advance(READ_MS);
      break;
    case 'CANCEL':
      h.actor.send({ type: 'CANCEL' });
      break;
    case 'CONFIRM':
      h.actor.send({ type: 'CONFIRM' });
      break;
    case 'xstate.after.confirmTimeout.transaction.confirmingDuplicate':
    case 'xstate.after.partialTimeout.transaction.confirmingPartial':
      await h.clock.advance(CONFIRM_MS);
      break;
    case 'xstate.done.actor.waitForRemoval':
      h.reader.remove();
      break;
    case 'xstate.after.removalAlert.transaction.removingCard.waiting':
      await h.clock.advance(REMOVAL_ALERT_MS);
      break;
    case 'xstate.after.removalAnomaly.transaction.removingCard.alerted':
      await h.clock.advance(REMOVAL_ANOMALY_MS - REMOVAL_ALERT_MS);
      break;
  }
  await h.clock.advance(0);
}

const INPUTS: Array<{ name: string; input: TransactionInput }> = [
  { name: 'sale', input: { txnRef: 'T-SALE', kind: 'sale', amount: 1250, currency: '978', limits, supervisor: false } },
  {
    name: 'refund',
    input: { txnRef: 'T-REFUND', kind: 'refund', amount: 500, currency: '978', limits, supervisor: true },
  },
  {
    name: 'refund by a cashier',
    input: { txnRef: 'T-REFUND2', kind: 'refund', amount: 500, currency: '978', limits, supervisor: false },
  },
  {
    name: 'sale with a bad amount',
    input: { txnRef: 'T-BAD', kind: 'sale', amount: 0, currency: '978', limits, supervisor: false },
  },
  {
    name: 'void with supervisor',
    input: {
      txnRef: 'T-VOID',
      kind: 'void',
      amount: 0,
      currency: '978',
      limits,
      supervisor: true,
      original: { txnRef: 'T-OLD', stan: 7, amount: 1250, currency: '978', maskedPan: '476173******0010' },
    },
  },
  {
    name: 'void without supervisor',
    input: { txnRef: 'T-VOID2', kind: 'void', amount: 0, currency: '978', limits, supervisor: true },
  },
  {
    name: 'void by a cashier',
    input: {
      txnRef: 'T-VOID3',
      kind: 'void',
      amount: 0,
      currency: '978',
      limits,
      supervisor: false,
      original: { txnRef: 'T-OLD', stan: 7, amount: 1250, currency: '978' },
    },
  },
];

/** The same walk, with the card left in past the alert and the anomaly before it is taken out. */
function withCardLeftIn<S extends { event: AnyEventObject; state: { value: unknown } }>(steps: readonly S[]): S[] {
  const removal = steps.findIndex((s) => s.event.type === 'xstate.done.actor.waitForRemoval');
  const waiting = steps[removal - 1]!;
  const at = (sub: string, event: AnyEventObject) =>
    ({ ...waiting, event, state: { ...waiting.state, value: { removingCard: sub } } }) as S;
  return [
    ...steps.slice(0, removal),
    at('alerted', CARD_LEFT_IN_EVENTS[0]!),
    at('overdue', CARD_LEFT_IN_EVENTS[1]!),
    ...steps.slice(removal),
  ];
}

const stateName = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));
/** The top-level state ('removingCard' for any of its sub-states). */
const topState = (value: unknown) => (typeof value === 'string' ? value : Object.keys(value as object)[0]!);
/** A reader unplugged or tampered cannot report a removal: the card-left-in timers never run after it. */
const readerGone = (event: AnyEventObject) =>
  event.type === 'xstate.error.actor.waitForCard' ||
  (event.type === 'xstate.error.actor.readCard' && (event['error'] as { code?: string }).code === 'tamper');

describe('transaction machine, model-based', () => {
  const allStates = new Set(Object.keys(transactionMachine.root.states));
  const visited = new Set<string>();
  const transitionsSeen = new Set<string>();

  for (const { name, input } of INPUTS) {
    // The machine itself is the model (the test-model wrapper refuses invoked actors; the plain traversal does not).
    // A void always needs the host: the store-and-forward rules never approve one offline.
    const events = input.kind === 'void' ? MODEL_EVENTS.filter((e) => e['output'] !== offlineApproved) : MODEL_EVENTS;
    const paths = getSimplePaths(transactionMachine, { input, events: events as never });
    // The sale's walks also run with an old swipe or the last sale's card in the reader before it starts, and with
    // its own card left in after the outcome (when the reader can still tell).
    const befores = (path: (typeof paths)[number]): Before[] => {
      if (name !== 'sale') return ['empty'];
      const steps = path.steps as ReadonlyArray<{ event: AnyEventObject }>;
      const leftIn =
        steps.some((s) => s.event.type === 'xstate.done.actor.waitForRemoval') &&
        !steps.some((s) => readerGone(s.event));
      return ['empty', 'swiped-while-idle', 'card-left-in', ...(leftIn ? (['left-in-after'] as const) : [])];
    };

    it(`${name}: the model yields paths to walk`, () => {
      expect(paths.length).toBeGreaterThan(0);
    });

    // Paths to non-final states are prefixes of longer ones; walking the complete paths covers them.
    const walks = paths
      .filter((p) => p.state.status === 'done')
      .flatMap((path) => befores(path).map((before) => ({ path, before })));
    for (const { path, before } of walks) {
      it(`${name}${before === 'empty' ? '' : ` (${before})`}: ${path.steps.map((s) => stateName(s.state.value)).join(' → ')}`, async () => {
        const h = await harness(input, before);
        const steps = before === 'left-in-after' ? withCardLeftIn(path.steps as never) : path.steps;
        // The real actor passes through states as fast as its effects settle, so the test records what it visits
        // and compares the whole walk with the model's at the end.
        const observed: string[] = [];
        h.actor.subscribe((snapshot) => {
          const value = stateName(snapshot.value);
          if (observed.at(-1) !== value) observed.push(value);
        });
        // steps[0] is the initial state (event xstate.init); each later step is one transition. A stimulus is armed
        // before the state whose effect must produce it is entered; an event that needs no stimulus from outside
        // (an effect settling at once) lets the machine run on, so the stimuli after it are armed too.
        let armed = 0;
        const armAhead = (from: number) => {
          // Arm up to and including the first step from `from` on that needs a stimulus: the steps before it follow
          // from armed effects on their own; anything after it must wait until it has been fired.
          let end = from;
          while (end < steps.length - 1 && !needsStimulus(steps[end]!.event as AnyEventObject)) end++;
          for (let j = Math.max(from, armed + 1); j <= end && j < steps.length; j++) {
            arm(h, steps[j]!.event as AnyEventObject, stateName(steps[j - 1]!.state.value));
            armed = j;
          }
        };
        armAhead(1);
        h.actor.start();
        await h.clock.advance(0);
        for (let i = 1; i < steps.length; i++) {
          armAhead(i + 1);
          await fire(h, steps[i]!.event as AnyEventObject);
        }
        const modelWalk = steps.map((s) => stateName(s.state.value)).filter((v, i, all) => all[i - 1] !== v);
        expect(observed).toEqual(modelWalk);
        const topWalk = steps.map((s) => topState(s.state.value)).filter((v, i, all) => all[i - 1] !== v);
        for (let i = 0; i < topWalk.length; i++) {
          visited.add(topWalk[i]!);
          if (i > 0) transitionsSeen.add(`${topWalk[i - 1]} -> ${topWalk[i]}`);
        }

        const snapshot = h.actor.getSnapshot();
        const expected = path.state.context as {
          outcome?: string;
          receipt: string;
          anomalies: Array<{ name: string }>;
        };
        expect(snapshot.status).toBe('done');
        const output = snapshot.output!;
        expect(output.outcome).toBe(expected.outcome);
        expect(output.receipt).toBe(expected.receipt);
        expect(output.anomalies.map((a) => a.name)).toEqual(expected.anomalies.map((a) => a.name));

        // Journal: the transaction row ends with the outcome, its last state event is the outcome's state, or the
        // card's removal when one was awaited.
        const row = h.journal.transactions.get(input.txnRef)!;
        expect(row.outcome).toBe(output.outcome);
        const events = h.journal.transactions.events(input.txnRef).map((e) => e.state);
        const awaitedRemoval = topWalk.includes('removingCard');
        const removedAtOnce = steps.some((s) => readerGone(s.event as AnyEventObject));
        const outcomeState = output.outcome === 'cancelled' || output.outcome === 'failed' ? output.outcome : 'done';
        expect(events.at(-1)).toBe(
          awaitedRemoval ? (removedAtOnce ? 'cardRemovalUnknown' : 'cardRemoved') : outcomeState,
        );
        expect(snapshot.value).toBe('ended');
        // A card presented in the transaction: the register is told the outcome while the card is still in, once,
        // the same result as the transaction's end; without one, it is told at the end.
        if (awaitedRemoval) {
          expect(h.told).toEqual([{ outcome: output.outcome, cardIn: true }]);
          const walkStates = steps.map((s) => stateName(s.state.value));
          expect(events.includes('cardRemovalAlert')).toBe(walkStates.includes('{"removingCard":"alerted"}'));
          const leftIn = walkStates.includes('{"removingCard":"overdue"}');
          expect(h.journal.anomalies.list().some((a) => a.code === anomalyByName('card-left-in-reader').code)).toBe(
            leftIn,
          );
        } else {
          expect(h.told).toEqual([]);
        }
        // Nothing in the reader before the sale is ever taken for its card: an old swipe is discarded unread, the
        // last sale's card is never read again without a new insertion.
        const waitedForCard = topWalk.includes('waitingForCard');
        expect(h.discardedSwipes).toHaveLength(before === 'swiped-while-idle' && waitedForCard ? 1 : 0);
        for (const message of h.acquirer.sent)
          expect(String(message.fields[2] ?? message.fields[35] ?? '')).not.toContain(idleSwipe.pan);
        if (output.maskedPan !== undefined && input.kind !== 'void') expect(output.entryMode).toBe('chip');
        expect(events.slice(0, 2)).toEqual(['created', 'checking']);
        // Every anomaly the machine raised is journaled with its code.
        const journaled = h.journal.anomalies.list().map((a) => a.code);
        if (output.outcome !== 'approved' && output.outcome !== 'offline-approved')
          expect(journaled.length).toBeGreaterThan(0);
        if (output.receipt === 'pending')
          expect(h.journal.anomalies.list({ class: 'hardware-fault' }).length).toBeGreaterThan(0);

        // Display: the last screen before "remove card" says how it ended.
        const removal = h.display.history.findIndex((screen) => screen.title === 'REMOVE CARD');
        const last = (removal >= 0 ? h.display.history.slice(0, removal) : h.display.history).at(-1)!;
        if (awaitedRemoval) expect(removal).toBeGreaterThan(0);
        if (output.outcome === 'approved') expect(last.title).toBe('APPROVED');
        if (output.outcome === 'cancelled') expect(last.title).toBe('CANCELLED');
        // A failed transaction ends on the error picture of the anomaly that failed it.
        if (output.outcome === 'failed')
          expect(last.code).toBe(anomalyByName(output.anomaly!.name as AnomalyName).code);

        // Host: a request went only for paths through authorizing, with the right processing code, never twice.
        const authorized = steps.some((s) => stateName(s.state.value) === 'authorizing');
        expect(h.acquirer.sent.length).toBe(authorized ? 1 : 0);
        // Durability: a request that may be at the host without an answer leaves a reversal owed; an answer or a
        // request that never left leaves none; an offline approval leaves exactly one queued advice.
        const reversal = h.journal.reversals.forTransaction(input.txnRef);
        const mayBeAtHost =
          output.anomalies.some((a) => a.name === 'host-timeout') || (output.outcome === 'cancelled' && authorized);
        if (authorized) expect(reversal?.state).toBe(mayBeAtHost ? 'pending' : 'cleared');
        else expect(reversal).toBeUndefined();
        expect(h.journal.saf.queue().length).toBe(output.outcome === 'offline-approved' ? 1 : 0);
        // A partial approval: the result carries both amounts; accepted, the journal holds the approved amount.
        const partial = steps.some((s) => stateName(s.state.value) === 'confirmingPartial');
        if (partial)
          expect(output).toMatchObject({
            requestedAmount: input.original?.amount ?? input.amount,
            approvedAmount: PARTIAL_AMOUNT,
          });
        if (partial) expect(row.amount).toBe(output.outcome === 'approved' ? PARTIAL_AMOUNT : input.amount);
        for (const message of h.acquirer.sent) {
          expect(message.mti).toBe('0200');
          expect(message.fields[3]).toBe(
            input.kind === 'refund' ? '200000' : input.kind === 'void' ? '020000' : '000000',
          );
          expect(Number(message.fields[4])).toBe(input.original?.amount ?? input.amount);
        }
        // Card data never reaches the journal in clear.
        expect(JSON.stringify(h.journal.anomalies.list())).not.toContain(card.pan);
        h.journal.close();
      });
    }
  }

  it('the walk covered every state of the machine', () => {
    // States left at once by an eventless transition are never observed at rest; they show in the journal instead.
    const transient = new Set(
      Object.entries(transactionMachine.root.states)
        .filter(([, node]) => node.always?.length)
        .map(([key]) => key),
    );
    // The chip's states are walked by chip-walk.test.ts (and run against the real kernel in test/app/chip-sale.test.ts).
    // So is the tip prompt, by tip-walk.test.ts (and on the assembled terminal in test/app/tip-entry.test.ts).
    const chip = new Set(['startingChip', 'enteringPin', 'completingChip', 'retryingPin', 'enteringTip']);
    expect([...allStates].filter((s) => !visited.has(s) && !transient.has(s) && !chip.has(s))).toEqual([]);
    expect(transient).toEqual(
      new Set(['checking', 'checkingVoid', 'choosingPath', 'approved', 'declined', 'done', 'cancelled', 'failed']),
    );
    // The outcome states (done, cancelled, failed) are passed through: a walk goes on to wait for the card's removal
    // when a card was presented, or straight to the end.
    expect([...transitionsSeen].sort()).toEqual([
      'authorizing -> confirmingPartial',
      'authorizing -> ended',
      'authorizing -> printing',
      'authorizing -> removingCard',
      'checkingCard -> authorizing',
      'checkingCard -> confirmingDuplicate',
      'checkingCard -> removingCard',
      'checkingCard -> waitingForCard',
      'confirmingDuplicate -> authorizing',
      'confirmingDuplicate -> removingCard',
      'confirmingPartial -> ended',
      'confirmingPartial -> printing',
      'confirmingPartial -> removingCard',
      'printing -> ended',
      'printing -> removingCard',
      'reading -> checkingCard',
      'reading -> removingCard',
      'reading -> waitingForCard',
      'removingCard -> ended',
      'waitingForCard -> ended',
      'waitingForCard -> reading',
      'waitingForCard -> removingCard',
    ]);
  });
});
