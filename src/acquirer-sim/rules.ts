/**
 * The simulator's deterministic rules, as an acquirer's test host publishes them: magic card numbers and magic
 * amounts pick the answer, so a test (or a person at the simulator) gets the same outcome every time.
 * Documented in the README under "Acquirer host simulator".
 */

import { luhnValidPan } from '../util/pan.js';

/** What the host does with a request, beyond the response code. */
export type Misbehaviour =
  | 'none'
  | 'delay' // answer after delayMs
  | 'silent' // never answer
  | 'close' // close the connection instead of answering
  | 'garbled' // answer with bytes that do not decode
  | 'late' // answer after lateMs (longer than the terminal's response timeout)
  | 'twice' // answer the same response twice
  | 'wrong-stan' // answer with another STAN
  | 'wrong-amount'; // answer with another amount

export const MISBEHAVIOURS: readonly Misbehaviour[] = [
  'none',
  'delay',
  'silent',
  'close',
  'garbled',
  'late',
  'twice',
  'wrong-stan',
  'wrong-amount',
];

/** Cards 4000 0000 0000 RR0C (C = Luhn digit) decline with response code RR. */
export const DECLINE_CARDS: Readonly<Record<string, string>> = {
  '4000000000000507': '05', // do not honour
  '4000000000005100': '51', // insufficient funds
  '4000000000005407': '54', // expired card
  '4000000000006108': '61', // exceeds amount limit
  '4000000000009102': '91', // issuer or switch inoperative
  '4000000000004301': '43', // stolen card
  '4000000000005704': '57', // not permitted to cardholder
  '4000000000009607': '96', // system malfunction
};

/** Approving test cards (any other Luhn-valid card approves too). */
export const APPROVE_CARDS: readonly string[] = ['4761739001010010', '5413330089020011'];

/** Amounts 1000.00 to 1000.99 (minor units 100000..100099) answer response code = the last two digits. */
export const RESPONSE_CODE_AMOUNT_BASE = 100_000;

/** Amounts 2000.01 to 2000.08 (minor units 200001..200008) make the host misbehave on that request. */
export const MISBEHAVIOUR_AMOUNT_BASE = 200_000;
const MISBEHAVIOUR_BY_AMOUNT: readonly Misbehaviour[] = [
  'none',
  'delay',
  'silent',
  'close',
  'garbled',
  'late',
  'twice',
  'wrong-stan',
  'wrong-amount',
];

export interface Decision {
  responseCode: string;
  misbehaviour: Misbehaviour;
}

/** Decide the answer to a financial request (0200/0100/0220) from card and amount. */
export function decideFinancial(pan: string | undefined, amount: number | undefined): Decision {
  let misbehaviour: Misbehaviour = 'none';
  if (amount !== undefined) {
    const offset = amount - MISBEHAVIOUR_AMOUNT_BASE;
    if (offset >= 1 && offset < MISBEHAVIOUR_BY_AMOUNT.length) misbehaviour = MISBEHAVIOUR_BY_AMOUNT[offset] ?? 'none';
    const code = amount - RESPONSE_CODE_AMOUNT_BASE;
    if (code >= 0 && code <= 99) return { responseCode: String(code).padStart(2, '0'), misbehaviour };
  }
  if (pan !== undefined && DECLINE_CARDS[pan]) return { responseCode: DECLINE_CARDS[pan]!, misbehaviour };
  if (pan !== undefined && !luhnValidPan(pan)) return { responseCode: '14', misbehaviour };
  return { responseCode: '00', misbehaviour };
}
