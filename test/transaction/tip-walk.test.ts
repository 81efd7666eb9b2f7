/**
 * The tip state of the transaction machine, walked as a model over the PIN pad's answers to the tip prompt. Every
 * path ends in the card prompt (with the tip added, or none) or cancelled, and never with money asked of the host.
 * The same flows run on the assembled terminal in test/app/tip-entry.test.ts.
 */
import { getSimplePaths } from '@xstate/graph';
import { describe, expect, it } from 'vitest';
import { DeviceFaultError } from '../../hal/fault.js';
import { transactionMachine } from '../../src/transaction/machine.js';
import type { TransactionInput } from '../../src/transaction/types.js';

const limits = { minAmount: 1, maxAmount: 10_000, readRetries: 0, cardWaitTimeoutMs: 30_000 };
const base: TransactionInput = {
  txnRef: 'T-TIP',
  kind: 'sale',
  amount: 8_000,
  currency: '978',
  limits,
  supervisor: false,
  tipEntry: { maxPercent: 30, timeoutMs: 60_000 },
};
const fault = (code: string) => new DeviceFaultError('pin-pad', code as never, code);
const EVENTS = [
  { type: 'xstate.done.actor.enterTip', output: 0 },
  { type: 'xstate.done.actor.enterTip', output: 1_200 },
  { type: 'xstate.error.actor.enterTip', error: fault('cancelled') },
  { type: 'xstate.error.actor.enterTip', error: fault('timeout') },
  { type: 'xstate.error.actor.enterTip', error: fault('not-connected') },
  { type: 'CANCEL' },
];

function walk(input: TransactionInput) {
  return getSimplePaths(transactionMachine, { input, events: EVENTS as never }).map((path) => ({
    steps: path.steps.map((s) => s.event.type),
    last: path.steps.at(-1)!.event as (typeof EVENTS)[number],
    state: String(path.state.value),
    context: path.state.context,
  }));
}

describe('transaction machine: the tip prompt', () => {
  it('every answer of the pad leads to the card prompt or to cancelled, with the tip added only when one was typed', () => {
    const paths = walk(base);
    const keyOf = (e: { type: string; output?: number; error?: DeviceFaultError<string> }) =>
      `${e.type}:${JSON.stringify(e.output ?? e.error?.code ?? '')}`;
    const ends = new Map(paths.map((p) => [keyOf(p.last), p]));
    expect(ends.get('xstate.done.actor.enterTip:1200')).toMatchObject({
      state: 'waitingForCard',
      context: { amount: 9_200, tip: 1_200 },
    });
    for (const key of ['xstate.done.actor.enterTip:0', 'xstate.error.actor.enterTip:"timeout"']) {
      const end = ends.get(key)!;
      expect(end.state, key).toBe('waitingForCard');
      expect(end.context.amount, key).toBe(8_000);
      expect(end.context.tip, key).toBeUndefined();
      expect(end.context.anomalies, key).toEqual([]);
    }
    // A pad that fails is journaled as such, and the sale goes on without a tip (the PIN may still be needed).
    expect(ends.get('xstate.error.actor.enterTip:"not-connected"')).toMatchObject({
      state: 'waitingForCard',
      context: { amount: 8_000, anomalies: [expect.objectContaining({ name: expect.any(String) })] },
    });
    expect(ends.get('xstate.error.actor.enterTip:"cancelled"')?.state).toBe('ended');
    expect(ends.get('CANCEL:""')?.state).toBe('ended');
    // Nothing reaches the host from here: every path rests at the prompt, the card prompt or the end.
    for (const p of paths)
      expect(['enteringTip', 'waitingForCard', 'ended'].includes(p.state), p.steps.join(' > ')).toBe(true);
  });

  it('is not entered for a sale that brought its tip, for a refund, or without tip entry', () => {
    for (const input of [
      { ...base, tip: 500, amount: 8_500 },
      { ...base, kind: 'refund' as const, supervisor: true },
      { ...base, tipEntry: undefined },
    ] as TransactionInput[]) {
      const states = new Set(walk(input).map((p) => p.state));
      expect(states.has('enteringTip')).toBe(false);
    }
  });
});
