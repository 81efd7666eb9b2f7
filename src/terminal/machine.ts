/**
 * The terminal machine: boot → recovery → self-test → ready, degraded (sales work with a named limitation) or
 * locked (a supervisor must clear it), with an online/offline region fed by the host link and the network
 * monitor. It owns at most one transaction at a time, as a child actor. Pure: effects are provided.
 */
import { assign, fromPromise, sendTo, setup } from 'xstate';
import type { AnomalyName } from '../anomaly/taxonomy.js';
import { transactionMachine } from '../transaction/machine.js';
import type { TransactionInput, TransactionOutput } from '../transaction/types.js';

export interface SelfTestSummary {
  /** Limitations that leave sales possible (e.g. "no printer: receipts pending"). */
  limitations: string[];
  /** Faults that make sales impossible. */
  lockReasons: string[];
  /** Lock reasons from devices' own reports that the self-test did not check (kept as they are). */
  deviceLockReasons?: string[];
}

/** A lock reason from a device's own report: replaced by the next self-test that checks the device, or its next report. */
export const DEVICE_LOCK_PREFIX = 'device: ';
/** Written when boot recovery fails; the idle screen translates it (reason-text.ts). */
export const RECOVERY_FAILED = 'recovery failed: storage needs attention';

export interface RecoverySummary {
  recovered: number;
}

export interface TerminalContext {
  limitations: string[];
  lockReasons: string[];
  hostUp: boolean;
  networkUp: boolean;
  lastTransaction?: TransactionOutput;
}

export type TerminalEvent =
  | { type: 'START_TRANSACTION'; input: TransactionInput }
  | { type: 'CANCEL'; by?: 'operator' | 'ecr' }
  | { type: 'CONFIRM'; by?: 'operator' | 'ecr' }
  | { type: 'SELF_TEST' }
  | { type: 'LOCK'; reason: string }
  | { type: 'UNLOCK' }
  | { type: 'HOST_UP' }
  | { type: 'HOST_DOWN' }
  | { type: 'NETWORK_UP' }
  | { type: 'NETWORK_DOWN' }
  /** A device reported its health: its old reasons go (`remove`), its new ones (if any) come in. */
  | { type: 'DEVICE_HEALTH'; device: string; remove: string[]; limitations: string[]; lockReasons: string[] };

export const terminalMachine = setup({
  types: {
    context: {} as TerminalContext,
    events: {} as TerminalEvent,
  },
  actors: {
    recover: fromPromise<RecoverySummary>(async () => ({ recovered: 0 })),
    selfTest: fromPromise<SelfTestSummary>(async () => ({ limitations: [], lockReasons: [] })),
    transaction: transactionMachine,
  },
  actions: {
    /** Journal and show a terminal-level state (provided). */
    enteredState: (_, _params: { state: string }) => {},
    /** Deliver a finished transaction's result to whoever asked for it (provided). */
    transactionFinished: (_, _params: { output: TransactionOutput }) => {},
    /** Report a terminal-level fault, e.g. a recovery that failed (provided). */
    terminalFault: (_, _params: { name: AnomalyName; reason: string }) => {},
    applyDeviceHealth: assign(({ context, event }) => {
      if (event.type !== 'DEVICE_HEALTH') return {};
      const keep = (r: string) => !event.remove.includes(r);
      return {
        limitations: [...new Set([...context.limitations.filter(keep), ...event.limitations])],
        lockReasons: [...new Set([...context.lockReasons.filter(keep), ...event.lockReasons])],
      };
    }),
    addLockReason: assign({
      lockReasons: ({ context, event }) =>
        event.type === 'LOCK' ? [...new Set([...context.lockReasons, event.reason])] : context.lockReasons,
    }),
  },
  guards: {
    locked: ({ context }) => context.lockReasons.length > 0,
    limited: ({ context }) => context.limitations.length > 0,
  },
}).createMachine({
  id: 'terminal',
  type: 'parallel',
  context: { limitations: [], lockReasons: [], hostUp: false, networkUp: true },
  states: {
    operation: {
      initial: 'booting',
      states: {
        booting: {
          entry: [{ type: 'enteredState', params: { state: 'booting' } }],
          always: { target: 'recovering' },
        },
        recovering: {
          entry: [{ type: 'enteredState', params: { state: 'recovering' } }],
          invoke: {
            id: 'recover',
            src: 'recover',
            onDone: { target: 'selfTesting' },
            onError: {
              target: 'selfTesting',
              actions: [
                {
                  type: 'terminalFault',
                  params: ({ event }) => ({
                    name: 'storage-fault',
                    reason: `recovery failed: ${String((event.error as Error)?.message ?? event.error)}`,
                  }),
                },
                assign({
                  lockReasons: ({ context }) => [...context.lockReasons, RECOVERY_FAILED],
                }),
              ],
            },
          },
        },
        selfTesting: {
          entry: [{ type: 'enteredState', params: { state: 'selfTesting' } }],
          invoke: {
            id: 'selfTest',
            src: 'selfTest',
            onDone: {
              target: 'evaluating',
              actions: assign({
                limitations: ({ event }) => event.output.limitations,
                // Locks from outside the self-test (policy, recovery) stay until a supervisor clears them.
                lockReasons: ({ context, event }) => [
                  ...new Set([
                    ...context.lockReasons.filter(
                      (r) => !r.startsWith('self-test:') && !r.startsWith(DEVICE_LOCK_PREFIX),
                    ),
                    ...event.output.lockReasons.map((r) => `self-test: ${r}`),
                    ...(event.output.deviceLockReasons ?? []),
                  ]),
                ],
              }),
            },
            onError: {
              target: 'evaluating',
              actions: assign({
                lockReasons: ({ context, event }) => [
                  ...context.lockReasons,
                  `self-test: ${String((event.error as Error)?.message ?? event.error)}`,
                ],
              }),
            },
          },
        },
        evaluating: {
          always: [
            { guard: 'locked', target: 'locked' },
            { guard: 'limited', target: 'degraded' },
            { target: 'ready' },
          ],
        },
        ready: {
          entry: [{ type: 'enteredState', params: { state: 'ready' } }],
          on: {
            START_TRANSACTION: { target: 'transacting' },
            SELF_TEST: { target: 'selfTesting' },
            LOCK: { target: 'locked', actions: 'addLockReason' },
            DEVICE_HEALTH: { target: 'evaluating', actions: 'applyDeviceHealth' },
          },
        },
        degraded: {
          entry: [{ type: 'enteredState', params: { state: 'degraded' } }],
          on: {
            START_TRANSACTION: { target: 'transacting' },
            SELF_TEST: { target: 'selfTesting' },
            LOCK: { target: 'locked', actions: 'addLockReason' },
            DEVICE_HEALTH: { target: 'evaluating', actions: 'applyDeviceHealth' },
          },
        },
        transacting: {
          entry: [{ type: 'enteredState', params: { state: 'transacting' } }],
          invoke: {
            id: 'transaction',
            src: 'transaction',
            input: ({ event }) => {
              if (event.type !== 'START_TRANSACTION') throw new Error('transaction started without input');
              return event.input;
            },
            onDone: {
              target: 'evaluating',
              actions: [
                assign({ lastTransaction: ({ event }) => event.output }),
                { type: 'transactionFinished', params: ({ event }) => ({ output: event.output }) },
              ],
            },
            onError: {
              target: 'evaluating',
              actions: [
                {
                  type: 'terminalFault',
                  params: ({ event }) => ({
                    name: 'system-fault',
                    reason: `transaction crashed: ${String((event.error as Error)?.message ?? event.error)}`,
                  }),
                },
              ],
            },
          },
          on: {
            CANCEL: { actions: sendTo('transaction', ({ event }) => event) },
            CONFIRM: { actions: sendTo('transaction', ({ event }) => event) },
          },
        },
        locked: {
          entry: [{ type: 'enteredState', params: { state: 'locked' } }],
          on: {
            UNLOCK: { target: 'selfTesting', actions: assign({ lockReasons: [] }) },
            // A device that caused the lock came back: the terminal opens by itself unless another reason holds.
            DEVICE_HEALTH: { target: 'evaluating', actions: 'applyDeviceHealth' },
          },
        },
      },
      // A lock never interrupts a transaction: the reason is kept and takes effect when the transaction ends.
      on: { LOCK: { actions: 'addLockReason' }, DEVICE_HEALTH: { actions: 'applyDeviceHealth' } },
    },
    connectivity: {
      initial: 'unknown',
      states: {
        unknown: {},
        online: {},
        offline: {},
      },
      on: {
        HOST_UP: { target: '.online', actions: assign({ hostUp: true }) },
        HOST_DOWN: { target: '.offline', actions: assign({ hostUp: false }) },
        NETWORK_UP: { actions: assign({ networkUp: true }) },
        NETWORK_DOWN: { target: '.offline', actions: assign({ networkUp: false }) },
      },
    },
  },
});
