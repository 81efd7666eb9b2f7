/**
 * Field 39 response codes (ISO 8583:1987 table, with the meanings acquirers commonly use), each in exactly one class
 * (REFERENCE.md, "field 39 by class"):
 * - approved: money moved as asked;
 * - partially-approved: money moved for a smaller amount (code 10; the approved amount in field 4 or 54);
 * - declined: final answer for this card;
 * - refer: the issuer wants a voice referral (the terminal takes none, so it ends as a decline);
 * - pick-up: declined, keep the card (a fraud signal);
 * - retry-later: transient host-side trouble, the same transaction may be tried again later;
 * - error: a fault in the request or terminal set-up. A code the table does not know is of this class too, and is
 *   not trusted at all: whoever meets one reverses rather than guesses (`known` is false).
 */
export const RESPONSE_CLASSES = [
  'approved',
  'partially-approved',
  'declined',
  'refer',
  'pick-up',
  'retry-later',
  'error',
] as const;
export type ResponseClass = (typeof RESPONSE_CLASSES)[number];

export interface ResponseCodeInfo {
  code: string;
  meaning: string;
  class: ResponseClass;
}

export const RESPONSE_CODES: readonly ResponseCodeInfo[] = Object.freeze(
  (
    [
      ['00', 'Approved', 'approved'],
      ['01', 'Refer to card issuer', 'refer'],
      ['02', 'Refer to card issuer, special condition', 'refer'],
      ['03', 'Invalid merchant', 'error'],
      ['04', 'Pick up card', 'pick-up'],
      ['05', 'Do not honour', 'declined'],
      ['06', 'Error', 'error'],
      ['07', 'Pick up card, special condition', 'pick-up'],
      ['08', 'Honour with identification', 'approved'],
      ['10', 'Approved for partial amount', 'partially-approved'],
      ['11', 'Approved (VIP)', 'approved'],
      ['12', 'Invalid transaction', 'declined'],
      ['13', 'Invalid amount', 'declined'],
      ['14', 'Invalid card number', 'declined'],
      ['15', 'No such issuer', 'declined'],
      ['16', 'Approved, update track 3', 'approved'],
      ['19', 'Re-enter transaction', 'retry-later'],
      ['21', 'No action taken', 'error'],
      ['25', 'Unable to locate record on file', 'error'],
      ['30', 'Format error', 'error'],
      ['33', 'Expired card, pick up', 'pick-up'],
      ['34', 'Suspected fraud, pick up', 'pick-up'],
      ['35', 'Card acceptor contact acquirer, pick up', 'pick-up'],
      ['36', 'Restricted card, pick up', 'pick-up'],
      ['37', 'Card acceptor call acquirer security, pick up', 'pick-up'],
      ['38', 'Allowable PIN tries exceeded, pick up', 'pick-up'],
      ['41', 'Lost card, pick up', 'pick-up'],
      ['43', 'Stolen card, pick up', 'pick-up'],
      ['51', 'Insufficient funds', 'declined'],
      ['54', 'Expired card', 'declined'],
      ['55', 'Incorrect PIN', 'declined'],
      ['56', 'No card record', 'declined'],
      ['57', 'Transaction not permitted to cardholder', 'declined'],
      ['58', 'Transaction not permitted to terminal', 'declined'],
      ['59', 'Suspected fraud', 'declined'],
      ['61', 'Exceeds withdrawal amount limit', 'declined'],
      ['62', 'Restricted card', 'declined'],
      ['63', 'Security violation', 'declined'],
      ['65', 'Exceeds withdrawal frequency limit', 'declined'],
      ['67', 'Hard capture, pick up', 'pick-up'],
      ['68', 'Response received too late', 'error'],
      ['75', 'Allowable number of PIN tries exceeded', 'declined'],
      ['76', 'Unable to locate previous message (no match on original)', 'error'],
      ['90', 'Cut-off in progress', 'retry-later'],
      ['91', 'Issuer or switch inoperative', 'retry-later'],
      ['92', 'Financial institution or intermediate network facility cannot be found for routing', 'retry-later'],
      ['94', 'Duplicate transmission', 'error'],
      ['95', 'Reconcile error', 'error'],
      ['96', 'System malfunction', 'retry-later'],
      // Offline EMV decisions carried in advices.
      ['Y1', 'Approved offline', 'approved'],
      ['Y3', 'Approved offline (unable to go online)', 'approved'],
      ['Z1', 'Declined offline', 'declined'],
      ['Z3', 'Declined offline (unable to go online)', 'declined'],
    ] as const
  ).map(([code, meaning, cls]) => Object.freeze({ code, meaning, class: cls as ResponseClass })),
);

const BY_CODE: ReadonlyMap<string, ResponseCodeInfo> = new Map(RESPONSE_CODES.map((r) => [r.code, r]));

/** The table's entry, or undefined for a code it does not know. */
export function describeResponseCode(code: string): ResponseCodeInfo | undefined {
  return BY_CODE.get(code);
}

/** The class of any field 39 value; a code the table does not know is an error (and `isKnownResponseCode` is false). */
export function responseClass(code: string): ResponseClass {
  return BY_CODE.get(code)?.class ?? 'error';
}

export function isKnownResponseCode(code: string): boolean {
  return BY_CODE.has(code);
}

/** Money moved at the host: approved in full or for part of the amount. The one test every caller uses. */
export function isApprovedClass(code: string): boolean {
  const cls = responseClass(code);
  return cls === 'approved' || cls === 'partially-approved';
}
