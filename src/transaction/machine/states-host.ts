/** The host's answer: authorizing, a partial approval the register decides on, approved or declined. */
import { assign } from 'xstate';
import { responseAnomalyName } from '../../anomaly/index.js';
import { screensIn } from '../screens.js';
import { AuthorizationFailure } from '../types.js';
import { anomalyFromError } from './anomaly-of-error.js';
import { transactionSetup } from './setup.js';

export const authorizing = transactionSetup.createStateConfig({
  entry: [
    { type: 'recordState', params: { state: 'authorizing' } },
    {
      type: 'showScreen',
      params: ({ context }) => ({
        screen: screensIn(context).authorizing(context.kind, context.amount, context.currency),
      }),
    },
  ],
  invoke: {
    id: 'authorize',
    src: 'authorize',
    input: ({ context }) => ({
      txnRef: context.txnRef,
      kind: context.kind,
      amount: context.amount,
      currency: context.currency,
      ...(context.card ? { card: context.card } : {}),
      ...(context.original ? { original: context.original } : {}),
      ...(context.tip ? { tip: context.tip } : {}),
      ...(context.chip && context.chip.decision !== 'AAC' ? { chip: context.chip.decision } : {}),
    }),
    onDone: [
      {
        // A partial approval on an online chip sale goes to the card first; the register decides once it kept it.
        guard: { type: 'partiallyApprovedOnChip', params: ({ event }) => ({ authorization: event.output }) },
        target: 'completingChip',
        actions: { type: 'keepPartialAnswer', params: ({ event }) => ({ authorization: event.output }) },
      },
      {
        guard: { type: 'partiallyApprovedByHost', params: ({ event }) => ({ authorization: event.output }) },
        target: 'confirmingPartial',
        actions: { type: 'keepPartialAnswer', params: ({ event }) => ({ authorization: event.output }) },
      },
      {
        // The card decides last on an online chip sale: the answer goes to it before the outcome is known.
        guard: { type: 'completesOnChip', params: ({ event }) => ({ authorization: event.output }) },
        target: 'completingChip',
        actions: assign({ authorization: ({ event }) => event.output, stan: ({ event }) => event.output.stan }),
      },
      {
        guard: { type: 'approvedByHost', params: ({ event }) => ({ authorization: event.output }) },
        target: 'approved',
        actions: assign({ authorization: ({ event }) => event.output, stan: ({ event }) => event.output.stan }),
      },
      {
        target: 'declined',
        actions: [
          assign({ authorization: ({ event }) => event.output, stan: ({ event }) => event.output.stan }),
          {
            type: 'addAnomaly',
            // Declined by the terminal itself because the host was out of reach: a network anomaly, not the issuer's.
            // Otherwise the classifier names it: 51 is E202, 43 E206, 91 E105, 30 E609.
            params: ({ event }) =>
              event.output.offline
                ? { name: 'network-failure', reason: event.output.responseText }
                : {
                    name: responseAnomalyName(event.output.responseCode) ?? 'declined',
                    reason: `${event.output.responseCode} ${event.output.responseText}`,
                  },
          },
        ],
      },
    ],
    onError: {
      target: 'failed',
      actions: [
        assign({
          stan: ({ event, context }) =>
            (event.error instanceof AuthorizationFailure ? event.error.stan : undefined) ?? context.stan,
        }),
        { type: 'addAnomaly', params: ({ event }) => anomalyFromError(event.error) },
      ],
    },
  },
  // A cancel while the host is deciding aborts the request; the effect layer owes the host a reversal.
  on: {
    CANCEL: {
      target: 'cancelled',
      actions: [
        {
          type: 'addAnomaly',
          params: { name: 'cancelled-by-operator', reason: 'cancelled while waiting for the host; reversal owed' },
        },
      ],
    },
  },
});

// Money moved for less than asked: the register decides. Accepted, the sale stands for the approved amount;
// refused or not answered in time (the customer did not agree), the host is owed a reversal.
export const confirmingPartial = transactionSetup.createStateConfig({
  entry: [
    {
      type: 'recordState',
      params: ({ context }) => ({ state: 'confirmingPartial', detail: { ...context.partial } }),
    },
    {
      type: 'showScreen',
      params: ({ context }) => ({
        screen: screensIn(context).confirmPartial(
          context.partial!.requestedAmount,
          context.partial!.approvedAmount,
          context.currency,
        ),
      }),
    },
    { type: 'askPartialDecision', params: ({ context }) => ({ ...context.partial!, currency: context.currency }) },
  ],
  after: {
    partialTimeout: {
      target: 'cancelled',
      actions: [
        {
          type: 'settlePartial',
          params: ({ context }) => ({
            accepted: false,
            reason: `partial approval not accepted within ${context.limits.partialApprovalTimeoutMs ?? 60_000} ms`,
          }),
        },
        {
          type: 'addAnomaly',
          params: ({ context }) => ({
            name: 'cancelled-by-operator',
            reason: `partial approval of ${context.partial!.approvedAmount} not accepted in time; reversal owed`,
          }),
        },
      ],
    },
  },
  on: {
    CONFIRM: {
      target: 'approved',
      actions: [
        assign({ amount: ({ context }) => context.partial!.approvedAmount }),
        { type: 'settlePartial', params: { accepted: true, reason: 'partial approval accepted' } },
      ],
    },
    CANCEL: {
      target: 'cancelled',
      actions: [
        {
          type: 'settlePartial',
          params: ({ event }) => ({
            accepted: false,
            reason: `partial approval refused by the ${event.by ?? 'ecr'}`,
          }),
        },
        {
          type: 'addAnomaly',
          params: ({ context }) => ({
            name: 'cancelled-by-operator',
            reason: `partial approval of ${context.partial!.approvedAmount} refused; reversal owed`,
          }),
        },
      ],
    },
  },
});

export const approved = transactionSetup.createStateConfig({
  entry: [
    assign({ outcome: ({ context }) => (context.authorization?.offline ? 'offline-approved' : 'approved') }),
    { type: 'recordState', params: { state: 'approved' } },
    {
      type: 'showScreen',
      params: ({ context }) => ({
        screen: screensIn(context).approved(
          context.kind,
          context.amount,
          context.currency,
          context.authorization?.approvalCode,
          context.authorization?.offline,
        ),
      }),
    },
  ],
  always: { target: 'printing' },
});

export const declined = transactionSetup.createStateConfig({
  entry: [
    assign({ outcome: 'declined' }),
    { type: 'recordState', params: { state: 'declined' } },
    {
      type: 'raiseAnomaly',
      params: ({ context }) => ({ ...context.anomalies[context.anomalies.length - 1]!, txnRef: context.txnRef }),
    },
  ],
  always: { target: 'printing' },
});
