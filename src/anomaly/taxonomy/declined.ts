/** Anomalies E2xx: the issuer or the terminal declined the payment; the response code says why. */
import type { AnomalyShape } from './vocabulary.js';

export const DECLINED = [
  {
    code: 'E201',
    name: 'declined',
    class: 'declined',
    severity: 'info',
    title: 'Declined',
    message: 'Declined by the card issuer',
    action: 'use-other-card',
    actionText: 'Ask for another card or another payment',
    support:
      'The issuer declined. The response code and reason are in the journal; only the issuer can say more. Not a terminal fault.',
  },
  {
    code: 'E202',
    name: 'declined-funds',
    class: 'declined',
    severity: 'info',
    title: 'Declined',
    message: 'Declined: insufficient funds or limit',
    action: 'use-other-card',
    actionText: 'Ask for another card or another payment',
    support: 'Response 51, 61 or 65: the cardholder has no funds or reached a limit. Not a terminal fault.',
  },
  {
    code: 'E203',
    name: 'declined-expired',
    class: 'declined',
    severity: 'info',
    title: 'Card expired',
    message: 'Declined: the card has expired',
    action: 'use-other-card',
    actionText: 'Ask for another card',
    support:
      'Response 54 from the issuer (33, expired and pick up, is E206). If the card is not expired, check the terminal clock (E604).',
  },
  {
    code: 'E204',
    name: 'declined-pin',
    class: 'declined',
    severity: 'info',
    title: 'Wrong PIN',
    message: 'Declined: incorrect PIN',
    action: 'retry',
    actionText: 'Ask the customer to try again with the right PIN',
    support: 'Response 55. After too many tries the issuer answers 75 and blocks the PIN.',
  },
  {
    code: 'E205',
    name: 'declined-refer',
    class: 'declined',
    severity: 'warning',
    title: 'Call issuer',
    message: 'Declined: refer to the card issuer',
    action: 'call-bank',
    actionText: 'Call the card issuer or ask for another card',
    support: 'Response 01 or 02: the issuer wants a voice referral. The terminal does not take voice approvals.',
  },
  {
    code: 'E206',
    name: 'declined-pickup',
    class: 'declined',
    severity: 'warning',
    title: 'Keep the card',
    message: 'Declined: the issuer asks to keep the card',
    action: 'call-bank',
    actionText: 'Keep the card if safe to do so; call the bank',
    support:
      'A pick-up code (04, 07, 33 to 38, 41 lost, 43 stolen, 67) or 59 suspected fraud: lost, stolen or suspect card. Follow the acquirer pick-up procedure.',
  },
] as const satisfies readonly AnomalyShape[];
