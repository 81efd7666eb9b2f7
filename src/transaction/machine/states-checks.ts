/** The checks before any card: a refund or void needs supervisor rights, a void its original, a sale a valid amount. */
import { assign } from 'xstate';
import { transactionSetup } from './setup.js';

export const checking = transactionSetup.createStateConfig({
  entry: [{ type: 'recordState', params: { state: 'checking' } }],
  always: [
    { guard: { type: 'isVoid' }, target: 'checkingVoid' },
    {
      guard: 'refundWithoutRights',
      target: 'failed',
      actions: [
        {
          type: 'addAnomaly',
          params: ({ context }) => ({
            name: 'unauthorized-operation',
            reason: `a refund needs supervisor rights${context.supervisorNote ? ` (${context.supervisorNote})` : ''}`,
          }),
        },
      ],
    },
    { guard: { type: 'amountValid' }, target: 'waitingForCard' },
    {
      target: 'failed',
      actions: [
        {
          type: 'addAnomaly',
          params: ({ context }) => ({
            name: 'bad-amount',
            reason: `amount ${context.amount} outside ${context.limits.minAmount}..${context.limits.maxAmount}`,
          }),
        },
      ],
    },
  ],
});

export const checkingVoid = transactionSetup.createStateConfig({
  always: [
    {
      guard: 'missingSupervisor',
      target: 'failed',
      actions: [
        {
          type: 'addAnomaly',
          params: ({ context }) => ({
            name: 'unauthorized-operation',
            reason: `void needs supervisor rights${context.supervisorNote ? ` (${context.supervisorNote})` : ''}`,
          }),
        },
      ],
    },
    {
      guard: 'missingOriginal',
      target: 'failed',
      actions: [
        {
          type: 'addAnomaly',
          params: { name: 'unknown-original', reason: 'no approved transaction with that STAN' },
        },
      ],
    },
    {
      target: 'authorizing',
      actions: assign({
        amount: ({ context }) => context.original!.amount,
        currency: ({ context }) => context.original!.currency,
      }),
    },
  ],
});
