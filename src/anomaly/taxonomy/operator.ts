/**
 * Anomalies E4xx: the cashier's or customer's side: a bad amount or input, no card in time, a cancel, a card left
 * in the reader or swiped too early.
 */
import type { AnomalyShape } from './vocabulary.js';

export const OPERATOR = [
  {
    code: 'E401',
    name: 'bad-amount',
    class: 'operator-error',
    severity: 'warning',
    title: 'Invalid amount',
    message: 'The amount is not allowed',
    action: 'check-amount',
    actionText: 'Check the amount and enter it again',
    support:
      'The amount is outside the configured minimum and maximum. Adjust the limits in the configuration if they are wrong.',
  },
  {
    code: 'E402',
    name: 'card-timeout',
    class: 'operator-error',
    severity: 'info',
    title: 'No card',
    message: 'No card was presented in time',
    action: 'retry',
    actionText: 'Start the payment again',
    support: 'Nobody presented a card within the card wait timeout. Not a fault.',
  },
  {
    code: 'E403',
    name: 'cancelled-by-operator',
    class: 'operator-error',
    severity: 'info',
    title: 'Cancelled',
    message: 'The payment was cancelled',
    action: 'none',
    actionText: 'No action needed',
    support: 'Cancelled by the cashier or the cash register. If the request had reached the host, a reversal was sent.',
  },
  {
    code: 'E404',
    name: 'busy',
    class: 'operator-error',
    severity: 'warning',
    title: 'Terminal busy',
    message: 'Another payment is in progress',
    action: 'wait',
    actionText: 'Finish or cancel the current payment first',
    support:
      'A new request arrived while a transaction was running. Repeated: the cash register does not wait for results.',
  },
  {
    code: 'E405',
    name: 'unknown-original',
    class: 'operator-error',
    severity: 'warning',
    title: 'Not found',
    message: 'The original payment was not found',
    action: 'retry',
    actionText: 'Check the receipt STAN and try again',
    support:
      'A void named a STAN with no approved transaction in the journal. Use `pos-terminal journal transactions` to find it.',
  },
  {
    code: 'E406',
    name: 'invalid-input',
    class: 'operator-error',
    severity: 'warning',
    title: 'Invalid entry',
    message: 'The entry was not accepted',
    action: 'retry',
    actionText: 'Check the entry and try again',
    support: 'A request with a malformed or missing field. The journal detail names the field.',
  },
  {
    code: 'E407',
    name: 'card-left-in-reader',
    class: 'operator-error',
    severity: 'warning',
    title: 'Card left in',
    message: 'The card was left in the reader',
    action: 'none',
    actionText: 'Take the card out of the reader',
    support:
      'The payment was over and its result sent, but the card stayed in the reader past transaction.cardRemovalAnomalyMs. The terminal takes no new payment until it is out; it never reads that card again without a new insertion. If no card is in, the reader card sensor is faulty: see E310.',
  },
  {
    code: 'E408',
    name: 'stale-swipe',
    class: 'operator-error',
    severity: 'info',
    title: 'Swipe again',
    message: 'A swipe made before the payment was ignored',
    action: 'retry',
    actionText: 'Swipe the card again now',
    support:
      'The magnetic reader delivered a swipe made before the payment started (while idle). It is discarded unread, never charged. Frequent: cardholders swipe too early, or something types into the reader.',
  },
  {
    code: 'E409',
    name: 'preauth-expired',
    class: 'operator-error',
    severity: 'warning',
    title: 'Pre-auth expired',
    message: 'A pre-authorization expired without completion',
    action: 'none',
    actionText: 'Nothing was charged; pre-authorize again if needed',
    support:
      'A pre-authorization stayed open longer than preauth.expiryDays. Its hold was released by a reversal of its 0100 (owed until the host acknowledges it); no money moved. Completing it is refused from now on.',
  },
  {
    code: 'E410',
    name: 'drawer-opened',
    class: 'operator-error',
    severity: 'info',
    title: 'Drawer opened',
    message: 'The cash drawer was opened without a sale',
    action: 'none',
    actionText: 'No action needed',
    support:
      'A manual drawer open (drawer.open from the register or `drawer` at the console), journaled for the cash audit with who asked. Many of them in a day: check the till with the shop.',
  },
] as const satisfies readonly AnomalyShape[];
