/**
 * Field 39 response codes (ISO 8583:1987 table, with the meanings acquirers commonly use).
 * `outcome` is what the terminal does with the answer:
 * - approved: complete the transaction;
 * - declined: final answer for this card, show it to the cardholder;
 * - retry: transient host-side trouble, the same transaction may be tried again later;
 * - error: a fault in the request or terminal set-up, needs attention rather than a retry.
 */
export type ResponseOutcome = 'approved' | 'declined' | 'retry' | 'error';

export interface ResponseCodeInfo {
  code: string;
  meaning: string;
  outcome: ResponseOutcome;
}

export const RESPONSE_CODES: readonly ResponseCodeInfo[] = Object.freeze(
  (
    [
      ['00', 'Approved', 'approved'],
      ['01', 'Refer to card issuer', 'declined'],
      ['02', 'Refer to card issuer, special condition', 'declined'],
      ['03', 'Invalid merchant', 'error'],
      ['04', 'Pick up card', 'declined'],
      ['05', 'Do not honour', 'declined'],
      ['06', 'Error', 'error'],
      ['07', 'Pick up card, special condition', 'declined'],
      ['08', 'Honour with identification', 'approved'],
      ['11', 'Approved (VIP)', 'approved'],
      ['12', 'Invalid transaction', 'declined'],
      ['13', 'Invalid amount', 'declined'],
      ['14', 'Invalid card number', 'declined'],
      ['15', 'No such issuer', 'declined'],
      ['19', 'Re-enter transaction', 'retry'],
      ['21', 'No action taken', 'error'],
      ['25', 'Unable to locate record on file', 'error'],
      ['30', 'Format error', 'error'],
      ['33', 'Expired card, pick up', 'declined'],
      ['34', 'Suspected fraud, pick up', 'declined'],
      ['41', 'Lost card, pick up', 'declined'],
      ['43', 'Stolen card, pick up', 'declined'],
      ['51', 'Insufficient funds', 'declined'],
      ['54', 'Expired card', 'declined'],
      ['55', 'Incorrect PIN', 'declined'],
      ['56', 'No card record', 'declined'],
      ['57', 'Transaction not permitted to cardholder', 'declined'],
      ['58', 'Transaction not permitted to terminal', 'declined'],
      ['59', 'Suspected fraud', 'declined'],
      ['61', 'Exceeds withdrawal amount limit', 'declined'],
      ['62', 'Restricted card', 'declined'],
      ['63', 'Security violation', 'error'],
      ['65', 'Exceeds withdrawal frequency limit', 'declined'],
      ['68', 'Response received too late', 'retry'],
      ['75', 'Allowable number of PIN tries exceeded', 'declined'],
      ['76', 'Unable to locate previous message (no match on original)', 'error'],
      ['91', 'Issuer or switch inoperative', 'retry'],
      ['92', 'Financial institution or intermediate network facility cannot be found for routing', 'error'],
      ['94', 'Duplicate transmission', 'error'],
      ['96', 'System malfunction', 'retry'],
    ] as const
  ).map(([code, meaning, outcome]) => Object.freeze({ code, meaning, outcome })),
);

const BY_CODE: ReadonlyMap<string, ResponseCodeInfo> = new Map(RESPONSE_CODES.map((r) => [r.code, r]));

export function describeResponseCode(code: string): ResponseCodeInfo | undefined {
  return BY_CODE.get(code);
}
