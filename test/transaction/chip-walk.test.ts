/**
 * The chip's states of the transaction machine, walked as a model: @xstate/graph enumerates every simple path of a
 * chip sale over the chip's events (the kernel's first decision, the PIN, the host's answer, the card's second
 * decision), and each path's end is judged by the money rules. The other paths of the machine are the model test's
 * (model.test.ts); the same branches run against the real kernel, PIN pad and host in test/app/chip-sale.test.ts.
 */
import { getSimplePaths } from '@xstate/graph';
import type { AnyEventObject } from 'xstate';
import { describe, expect, it } from 'vitest';
import { DeviceFaultError } from '../../hal/fault.js';
import { SensitiveCard } from '../../src/card/sensitive-card.js';
import { testCard } from '../../src/card/test-cards.js';
import { transactionMachine } from '../../src/transaction/machine.js';
import { AuthorizationFailure, type Authorization, type TransactionInput } from '../../src/transaction/types.js';

const chipCard = new SensitiveCard(testCard('emv-online-pin')!);
const input: TransactionInput = {
  txnRef: 'T-CHIP',
  kind: 'sale',
  amount: 1250,
  currency: '978',
  limits: { minAmount: 1, maxAmount: 1_000_000, readRetries: 0, cardWaitTimeoutMs: 30_000 },
  supervisor: false,
  emv: true,
  onlinePinTries: 3,
};
const approved: Authorization = { stan: 1, responseCode: '00', responseText: 'approved', approved: true };
const declined: Authorization = { stan: 1, responseCode: '05', responseText: 'do not honour', approved: false };
const wrongPin: Authorization = { stan: 1, responseCode: '55', responseText: 'incorrect PIN', approved: false };
const partial: Authorization = {
  stan: 1,
  responseCode: '10',
  responseText: 'partial approval',
  approved: true,
  requestedAmount: 1250,
  approvedAmount: 500,
};
const offlineY1: Authorization = {
  stan: 1,
  responseCode: 'Y1',
  responseText: 'offline',
  approved: true,
  offline: true,
};
const offlineZ3: Authorization = { responseCode: 'Z3', responseText: 'offline', approved: false, offline: true };
const start = (decision: string, cvm = 'signature', reason?: string) => ({
  type: 'xstate.done.actor.startChip',
  output: { decision, cvm, card: chipCard, ...(reason ? { reason } : {}) },
});

const EVENTS: AnyEventObject[] = [
  { type: 'xstate.done.actor.waitForCard', output: { entryMode: 'chip' } },
  { type: 'xstate.done.actor.readCard', output: chipCard },
  { type: 'xstate.done.actor.assessCard', output: { action: 'continue' } },
  start('ARQC', 'online-pin'),
  start('ARQC'),
  start('TC'),
  start('AAC', 'signature', 'card-declined'),
  start('AAC', 'signature', 'try-another-interface'),
  { type: 'xstate.error.actor.startChip', error: new DeviceFaultError('card-reader', 'chip-error', 'chip failed') },
  { type: 'xstate.error.actor.startChip', error: new DeviceFaultError('card-reader', 'card-removed', 'removed') },
  { type: 'xstate.done.actor.enterPin', output: chipCard },
  { type: 'xstate.error.actor.enterPin', error: new DeviceFaultError('pin-pad', 'cancelled', 'cancel pressed') },
  { type: 'xstate.error.actor.enterPin', error: new DeviceFaultError('pin-pad', 'timeout', 'no PIN') },
  { type: 'xstate.done.actor.authorize', output: approved },
  { type: 'xstate.done.actor.authorize', output: declined },
  { type: 'xstate.done.actor.authorize', output: offlineY1 },
  { type: 'xstate.done.actor.authorize', output: offlineZ3 },
  { type: 'xstate.error.actor.authorize', error: new AuthorizationFailure('timeout', 'no answer', true, 1) },
  { type: 'xstate.done.actor.completeChip', output: { decision: 'TC', card: chipCard } },
  { type: 'xstate.done.actor.completeChip', output: { decision: 'AAC', reason: 'card-declined', card: chipCard } },
  {
    type: 'xstate.done.actor.completeChip',
    output: { decision: 'AAC', interrupted: true, reason: 'card-removed', card: chipCard },
  },
  { type: 'xstate.done.actor.printReceipts', output: { warnings: [] } },
  { type: 'xstate.done.actor.waitForRemoval' },
  { type: 'CANCEL' },
];

/** The second walk's events: a wrong PIN asked again, and a partial approval the card keeps (fewer, so it stays small). */
const RETRY_EVENTS: AnyEventObject[] = [
  ...EVENTS.slice(0, 3),
  start('ARQC', 'online-pin'),
  start('ARQC'),
  { type: 'xstate.done.actor.enterPin', output: chipCard },
  { type: 'xstate.done.actor.authorize', output: wrongPin },
  { type: 'xstate.done.actor.authorize', output: partial },
  { type: 'xstate.done.actor.authorize', output: approved },
  { type: 'xstate.done.actor.retryPin' },
  { type: 'xstate.error.actor.retryPin', error: new Error('journal refused') },
  { type: 'xstate.done.actor.completeChip', output: { decision: 'TC', card: chipCard } },
  { type: 'xstate.done.actor.completeChip', output: { decision: 'AAC', reason: 'card-declined', card: chipCard } },
  { type: 'CONFIRM' },
  { type: 'CANCEL' },
  { type: 'xstate.done.actor.printReceipts', output: { warnings: [] } },
  { type: 'xstate.done.actor.waitForRemoval' },
];

const CHIP_STATES = ['choosingPath', 'startingChip', 'enteringPin', 'completingChip'];

describe('the chip states of the transaction machine, model-based', () => {
  const paths = getSimplePaths(transactionMachine, { input, events: EVENTS as never });
  const seen = new Set<string>();
  const transitions = new Set<string>();

  it('ends every path by the money rules', () => {
    expect(paths.length).toBeGreaterThan(20);
    for (const path of paths) {
      const steps = path.steps as ReadonlyArray<{ event: AnyEventObject; state: { value: unknown } }>;
      const nameOf = (value: unknown) => (typeof value === 'string' ? value : 'removingCard');
      const names = [...steps.map((s) => nameOf(s.state.value)), nameOf(path.state.value)];
      names.forEach((n, i) => {
        seen.add(n);
        if (i > 0 && names[i - 1] !== n) transitions.add(`${names[i - 1]} -> ${n}`);
      });
      const context = path.state.context as {
        outcome?: string;
        anomalies: Array<{ name: string }>;
        chip?: { decision: string };
        authorization?: Authorization;
      };
      const events = steps.map((s) => s.event);
      const completion = events.find((e) => e.type === 'xstate.done.actor.completeChip')?.['output'] as
        | { decision: string; interrupted?: boolean }
        | undefined;
      const where = names.join(' > ');
      // The PIN is asked only when the card's first decision asked for an online PIN.
      if (names.includes('enteringPin'))
        expect(
          events.some((e) => e['output']?.cvm === 'online-pin'),
          where,
        ).toBe(true);
      // The card's second decision comes only after an online answer from the host.
      if (names.includes('completingChip')) expect(context.authorization?.offline, where).not.toBe(true);
      if (context.outcome === undefined) continue;
      // An approval the card refused or did not finish is never an approved sale.
      if (context.authorization?.approved && completion && completion.decision !== 'TC') {
        expect(context.outcome, where).toBe('declined');
        expect(context.anomalies.at(-1)?.name, where).toBe(
          completion.interrupted ? 'card-removed-before-completion' : 'card-declined-after-approval',
        );
      }
      // An online chip approval stands only once the card said TC.
      if (context.outcome === 'approved' && context.chip?.decision === 'ARQC')
        expect(completion?.decision, where).toBe('TC');
      // Declined offline by the card: nothing was sent.
      if (context.chip?.decision === 'AAC' && context.outcome === 'declined')
        expect(
          events.some((e) => e.type.endsWith('actor.authorize')),
          where,
        ).toBe(false);
    }
  });

  it('reached every chip state and the transitions out of them', () => {
    for (const state of CHIP_STATES.filter((s) => s !== 'choosingPath')) expect(seen, state).toContain(state);
    // Outcome states (approved, declined, failed, cancelled) are passed through: a walk is seen in the next one.
    for (const t of [
      'checkingCard -> startingChip',
      'startingChip -> enteringPin',
      'startingChip -> authorizing',
      'startingChip -> printing',
      'startingChip -> waitingForCard',
      'startingChip -> removingCard',
      'enteringPin -> authorizing',
      'enteringPin -> removingCard',
      'authorizing -> completingChip',
      'completingChip -> printing',
    ])
      expect(transitions, t).toContain(t);
  });
});

describe('a wrong PIN asked again, and a partial approval on the chip, model-based', () => {
  const paths = getSimplePaths(transactionMachine, { input, events: RETRY_EVENTS as never });

  it('asks again only after a 55 to a PIN, and gives a partial approval to the card before the register', () => {
    const reached = new Set<string>();
    for (const path of paths) {
      const steps = path.steps as ReadonlyArray<{ event: AnyEventObject; state: { value: unknown } }>;
      const names = [...steps.map((s) => String(s.state.value)), String(path.state.value)];
      for (const n of names) reached.add(n);
      const events = steps.map((s) => s.event);
      const where = names.join(' > ');
      const context = path.state.context as { pinRetries: number; outcome?: string; stan?: number };
      const at = names.indexOf('retryingPin');
      if (at >= 0) {
        // The answer that led here was the host's 55 to a PIN the card asked for.
        const answers = events.slice(0, at + 1).filter((e) => e.type === 'xstate.done.actor.authorize');
        expect((answers.at(-1)?.['output'] as Authorization | undefined)?.responseCode, where).toBe('55');
        expect(names.slice(0, at), where).toContain('enteringPin');
        // The next attempt starts without the old STAN.
        const contexts = [...steps.map((s) => s.state), path.state].map(
          (x) => (x as unknown as { context: { stan?: number } }).context,
        );
        if (names[at + 1] === 'startingChip') expect(contexts[at + 1]?.stan, where).toBeUndefined();
      }
      const partialAt = names.indexOf('confirmingPartial');
      if (partialAt >= 0) {
        expect(names.slice(0, partialAt), where).toContain('completingChip');
        const completion = events.slice(0, partialAt + 1).findLast((e) => e.type === 'xstate.done.actor.completeChip');
        expect((completion?.['output'] as { decision: string } | undefined)?.decision, where).toBe('TC');
      }
      // A partial approval the card refused is never approved.
      if (
        context.outcome === 'approved' &&
        events.some((e) => (e['output'] as Authorization | undefined)?.responseCode === '10')
      )
        expect(names, where).toContain('confirmingPartial');
    }
    expect(reached).toContain('retryingPin');
    expect(reached).toContain('confirmingPartial');
  });
});
