/**
 * The checks before any card: a refund or void needs supervisor rights, a void (or a completion, increment, cancel or
 * tip adjust) its original, a sale a valid amount.
 */
import { and, assign } from 'xstate';
import { transactionSetup } from './setup.js';

export const checking = transactionSetup.createStateConfig({
  entry: [{ type: 'recordState', params: { state: 'checking' } }],
  always: [
    { guard: { type: 'refersToOriginal' }, target: 'checkingVoid' },
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
    { guard: and(['amountValid', 'asksForTip']), target: 'enteringTip' },
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
      guard: 'voidWithoutRights',
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
          params: ({ context }) => ({
            name: 'unknown-original',
            reason:
              context.kind === 'void'
                ? 'no approved transaction with that STAN'
                : 'no open pre-authorization or approved sale of that reference',
          }),
        },
      ],
    },
    {
      // A void takes back and a cancel releases the whole original.
      guard: 'takesOriginalAmount',
      target: 'authorizing',
      actions: assign({
        amount: ({ context }) => context.original!.amount,
        currency: ({ context }) => context.original!.currency,
      }),
    },
    {
      // An increment, completion or tip adjust brings its own amount, in the original's currency.
      guard: { type: 'amountValid' },
      target: 'authorizing',
      actions: assign({ currency: ({ context }) => context.original!.currency }),
    },
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
