/**
 * The anomaly taxonomy: every abnormal event the terminal can meet, with the short code the cashier reads to
 * support, the text of the error screen, the action to take, and what support does about it. The table is the
 * single source: the screen, the slip, the journal entry, telemetry and the README anomaly guide all read it. What
 * maps a fault, a host error or a response code to an anomaly is in classifier.ts.
 *
 * Code ranges: E1xx host/network, E2xx declined, E3xx hardware, E4xx operator, E5xx duplicate/unauthorized/fraud,
 * E6xx system/data. Codes are stable once shipped: support scripts and fleet dashboards key on them.
 */
import type { Screen } from '../../hal/display/contract.js';
import type { ReceiptDocument, ReceiptLine } from '../../hal/printer/contract.js';
import { formatAmount } from '../vocabulary/index.js';

export const ANOMALY_CLASSES = [
  'host-timeout',
  'network-failure',
  'declined',
  'hardware-fault',
  'operator-error',
  'duplicate',
  'unauthorized',
  'suspected-fraud',
  'system-fault',
  'data-error',
] as const;
export type AnomalyClass = (typeof ANOMALY_CLASSES)[number];

export const ANOMALY_SEVERITIES = ['info', 'warning', 'error', 'critical'] as const;
export type AnomalySeverity = (typeof ANOMALY_SEVERITIES)[number];

export const OPERATOR_ACTIONS = [
  'retry',
  'check-network',
  'replace-paper',
  'close-cover',
  'clear-jam',
  'wait',
  'use-other-card',
  'try-chip',
  'call-bank',
  'call-support',
  'ask-supervisor',
  'check-amount',
  'none',
] as const;
export type OperatorAction = (typeof OPERATOR_ACTIONS)[number];

interface AnomalyShape {
  /** Short stable code shown on screen, e.g. 'E101'. */
  code: string;
  /** Slug, e.g. 'host-timeout'. */
  name: string;
  class: AnomalyClass;
  severity: AnomalySeverity;
  /** Screen title, at most 20 characters. */
  title: string;
  /** What happened, for the cashier, at most 60 characters. */
  message: string;
  action: OperatorAction;
  /** What to do, for the cashier, at most 60 characters. */
  actionText: string;
  /** What support does (for the README anomaly guide). */
  support: string;
}

export const TITLE_MAX = 20;
export const TEXT_MAX = 60;

const TABLE = [
  // E1xx host and network
  {
    code: 'E101',
    name: 'host-timeout',
    class: 'host-timeout',
    severity: 'error',
    title: 'Bank timeout',
    message: 'The bank did not answer in time',
    action: 'retry',
    actionText: 'Payment not taken. Try again',
    support:
      'The request left but no answer came within the response timeout. A reversal was stored before sending and is sent automatically. Repeated E101: check host latency and the configured timeout with the acquirer.',
  },
  {
    code: 'E102',
    name: 'network-failure',
    class: 'network-failure',
    severity: 'error',
    title: 'No bank connection',
    message: 'Cannot connect to the bank',
    action: 'check-network',
    actionText: 'Check the network cable or Wi-Fi, then retry',
    support:
      'No connection to the host could be made, so the request never left. Check the link state in health telemetry, DNS/routing to the host address, firewall rules and TLS certificates.',
  },
  {
    code: 'E103',
    name: 'link-lost',
    class: 'network-failure',
    severity: 'error',
    title: 'Connection lost',
    message: 'The bank connection broke during the payment',
    action: 'retry',
    actionText: 'Payment not taken. Try again',
    support:
      'The connection dropped after the request was sent; the host may have acted on it, so the stored reversal is sent when the link returns. Look for flapping links in health telemetry.',
  },
  {
    code: 'E104',
    name: 'reversal-pending',
    class: 'host-timeout',
    severity: 'warning',
    title: 'Reversal pending',
    message: 'An earlier payment is being cancelled with the bank',
    action: 'wait',
    actionText: 'Wait a moment; the terminal retries by itself',
    support:
      'A reversal is stored and not yet acknowledged by the host. It is resent until the host answers. If it stays pending for hours, check host reachability and the reversal queue depth.',
  },
  {
    code: 'E105',
    name: 'issuer-unavailable',
    class: 'host-timeout',
    severity: 'error',
    title: 'Bank unavailable',
    message: 'The card issuer cannot be reached',
    action: 'retry',
    actionText: 'Try again in a few minutes',
    support:
      'The host answered with a retry-later code (19, 90, 91, 92, 96): the issuer or switch is down. Nothing to fix on the terminal; escalate to the acquirer if it persists.',
  },
  // E2xx declined
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
  // E3xx hardware
  {
    code: 'E301',
    name: 'printer-paper-out',
    class: 'hardware-fault',
    severity: 'error',
    title: 'Paper out',
    message: 'The printer is out of paper',
    action: 'replace-paper',
    actionText: 'Load a new paper roll, then reprint',
    support: 'Paper end sensor. The payment stands; the receipt is marked pending and can be reprinted.',
  },
  {
    code: 'E302',
    name: 'printer-paper-near-end',
    class: 'hardware-fault',
    severity: 'warning',
    title: 'Paper low',
    message: 'The paper roll is nearly finished',
    action: 'replace-paper',
    actionText: 'Load a new paper roll soon',
    support: 'Paper near-end sensor; printing still works. Frequent alerts with a full roll: check the sensor.',
  },
  {
    code: 'E303',
    name: 'printer-cover-open',
    class: 'hardware-fault',
    severity: 'error',
    title: 'Cover open',
    message: 'The printer cover is open',
    action: 'close-cover',
    actionText: 'Close the printer cover, then reprint',
    support: 'Cover switch open. If the cover is shut, check the switch or the cover latch.',
  },
  {
    code: 'E304',
    name: 'printer-jam',
    class: 'hardware-fault',
    severity: 'error',
    title: 'Paper jam',
    message: 'Paper is jammed in the printer',
    action: 'clear-jam',
    actionText: 'Open the cover, clear the paper, close it',
    support: 'Recoverable mechanical error. Repeated jams: wrong paper width or worn mechanism, send for service.',
  },
  {
    code: 'E305',
    name: 'printer-overheat',
    class: 'hardware-fault',
    severity: 'warning',
    title: 'Printer hot',
    message: 'The print head is too hot',
    action: 'wait',
    actionText: 'Wait a minute, then reprint',
    support: 'Auto-recoverable error: the head cools by itself. Frequent: check ventilation and print volume.',
  },
  {
    code: 'E306',
    name: 'printer-cutter',
    class: 'hardware-fault',
    severity: 'error',
    title: 'Cutter fault',
    message: 'The paper cutter is stuck',
    action: 'clear-jam',
    actionText: 'Open the cover, clear the cutter, close it',
    support: 'Auto-cutter error. If clearing does not help, the cutter needs service.',
  },
  {
    code: 'E307',
    name: 'printer-offline',
    class: 'hardware-fault',
    severity: 'error',
    title: 'Printer offline',
    message: 'The printer is not responding',
    action: 'call-support',
    actionText: 'Check the printer power and cable; call support',
    support:
      'No status answer in time, offline without a known cause, or a print job that did not finish. Check the cable, power and the serial/USB device path in the configuration.',
  },
  {
    code: 'E308',
    name: 'printer-unrecoverable',
    class: 'hardware-fault',
    severity: 'error',
    title: 'Printer failure',
    message: 'The printer has failed',
    action: 'call-support',
    actionText: 'Call support; payments work without receipts',
    support: 'Unrecoverable printer error: replace the printer. Receipts stay pending until then.',
  },
  {
    code: 'E310',
    name: 'reader-fault',
    class: 'hardware-fault',
    severity: 'error',
    title: 'Card reader fault',
    message: 'The card reader is not working',
    action: 'call-support',
    actionText: 'Call support',
    support:
      'The reader is disconnected, closed or busy with another operation. Check the cable and the device path; restart the terminal if it persists.',
  },
  {
    code: 'E311',
    name: 'reader-read-failed',
    class: 'hardware-fault',
    severity: 'warning',
    title: 'Read error',
    message: 'The card could not be read',
    action: 'retry',
    actionText: 'Present the card again',
    support:
      'Bad swipe or unreadable card (sentinel, parity or LRC error). Many on different cards: clean or replace the reader head.',
  },
  {
    code: 'E312',
    name: 'reader-card-removed',
    class: 'hardware-fault',
    severity: 'warning',
    title: 'Card removed',
    message: 'The card was removed too early',
    action: 'retry',
    actionText: 'Insert the card again and leave it in',
    support: 'The card left the reader during the read. Usually a cardholder action, not a fault.',
  },
  {
    code: 'E313',
    name: 'reader-chip-error',
    class: 'hardware-fault',
    severity: 'warning',
    title: 'Chip error',
    message: 'The card chip did not answer correctly',
    action: 'retry',
    actionText: 'Insert the card again',
    support: 'Chip exchange failed. Frequent across cards: the contacts need cleaning or the reader needs service.',
  },
  {
    code: 'E314',
    name: 'reader-unsupported-card',
    class: 'hardware-fault',
    severity: 'warning',
    title: 'Card not supported',
    message: 'This card cannot be used here',
    action: 'use-other-card',
    actionText: 'Ask for another card',
    support: 'The reader does not know the card technology or scheme. Check the scheme list if a common card fails.',
  },
  {
    code: 'E315',
    name: 'reader-tamper',
    class: 'hardware-fault',
    severity: 'critical',
    title: 'Reader tampered',
    message: 'The card reader detected tampering',
    action: 'call-support',
    actionText: 'Stop using the terminal; call support now',
    support:
      'Tamper switch or mesh triggered: the reader refuses to work. Treat as a security incident: take the terminal out of service, inspect for skimmers, follow the PCI incident procedure.',
  },
  {
    code: 'E320',
    name: 'display-fault',
    class: 'hardware-fault',
    severity: 'error',
    title: 'Display fault',
    message: 'The display is not responding',
    action: 'call-support',
    actionText: 'Call support',
    support: 'The display did not accept a frame. Check its cable and power.',
  },
  {
    code: 'E330',
    name: 'network-device-fault',
    class: 'hardware-fault',
    severity: 'error',
    title: 'Network device',
    message: 'The network device cannot be read',
    action: 'check-network',
    actionText: 'Check the network cable or modem; call support',
    support:
      'The link monitor cannot observe the interface (missing interface, permission, modem not answering). Check the interface name in the configuration.',
  },
  {
    code: 'E399',
    name: 'hardware-fault',
    class: 'hardware-fault',
    severity: 'error',
    title: 'Device fault',
    message: 'A device reported an unknown fault',
    action: 'call-support',
    actionText: 'Call support',
    support: 'A device fault this software version does not know. The device and fault code are in the journal detail.',
  },
  // E4xx operator
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
  // E5xx duplicate, unauthorized, suspected fraud
  {
    code: 'E501',
    name: 'duplicate-transaction',
    class: 'duplicate',
    severity: 'warning',
    title: 'Possible duplicate',
    message: 'Same card and amount were just paid',
    action: 'ask-supervisor',
    actionText: 'Check with the customer; a supervisor may allow it',
    support:
      'A sale with the same card and amount inside the duplicate window. Compare with the previous receipt before allowing it.',
  },
  {
    code: 'E510',
    name: 'unauthorized-operation',
    class: 'unauthorized',
    severity: 'warning',
    title: 'Not allowed',
    message: 'This operation needs supervisor rights',
    action: 'ask-supervisor',
    actionText: 'Ask a supervisor',
    support: 'A refund or void without supervisor rights. Many attempts by one cashier are worth a look.',
  },
  {
    code: 'E511',
    name: 'unknown-ecr-client',
    class: 'unauthorized',
    severity: 'error',
    title: 'Unknown register',
    message: 'An unknown cash register tried to connect',
    action: 'call-support',
    actionText: 'Call support',
    support:
      'A client on the ECR interface without a valid token. Check the register token in the configuration, or find the device on the network.',
  },
  {
    code: 'E520',
    name: 'suspected-fraud-luhn',
    class: 'suspected-fraud',
    severity: 'error',
    title: 'Invalid card',
    message: 'The card number is not valid',
    action: 'use-other-card',
    actionText: 'Ask for another card',
    support: 'The PAN failed its Luhn check: a damaged, fake or re-encoded card.',
  },
  {
    code: 'E521',
    name: 'suspected-fraud-track-mismatch',
    class: 'suspected-fraud',
    severity: 'error',
    title: 'Invalid card',
    message: 'The card data is inconsistent',
    action: 'use-other-card',
    actionText: 'Ask for another card',
    support: 'Track 1 and track 2 disagree on PAN or expiry: a typical sign of a re-encoded card.',
  },
  {
    code: 'E522',
    name: 'suspected-fraud-fallback',
    class: 'suspected-fraud',
    severity: 'warning',
    title: 'Use the chip',
    message: 'A chip card was swiped',
    action: 'try-chip',
    actionText: 'Insert the card in the chip reader',
    support: 'Service code says chip, but the card was swiped without a chip attempt. Acquirers watch fallback rates.',
  },
  {
    code: 'E523',
    name: 'card-testing',
    class: 'suspected-fraud',
    severity: 'critical',
    title: 'Terminal locked',
    message: 'Too many failed card attempts',
    action: 'ask-supervisor',
    actionText: 'A supervisor must unlock the terminal',
    support:
      'Many declines or read failures with different cards in a short time: a card-testing pattern. Review the journal before unlocking.',
  },
  {
    code: 'E524',
    name: 'expired-card',
    class: 'suspected-fraud',
    severity: 'warning',
    title: 'Card expired',
    message: 'The card has expired',
    action: 'use-other-card',
    actionText: 'Ask for another card',
    support:
      'The expiry read from the card is in the past; the terminal refused it before asking the host. If valid cards are refused, check the clock (E604).',
  },
  {
    code: 'E525',
    name: 'repeated-read-failures',
    class: 'suspected-fraud',
    severity: 'error',
    title: 'Card refused',
    message: 'The card failed to read too many times',
    action: 'use-other-card',
    actionText: 'Ask for another card',
    support:
      'Repeated read failures with one card can be a damaged or tampered card. If it happens with every card, see E311.',
  },
  // E6xx system and data
  {
    code: 'E601',
    name: 'storage-fault',
    class: 'system-fault',
    severity: 'critical',
    title: 'Storage fault',
    message: 'Transactions cannot be saved',
    action: 'call-support',
    actionText: 'Stop taking payments; call support',
    support:
      'The journal could not write (disk full, read-only filesystem, I/O error). The SQLite code is in the detail. Free space or replace the storage; do not delete the journal.',
  },
  {
    code: 'E602',
    name: 'crash-recovered',
    class: 'system-fault',
    severity: 'warning',
    title: 'Restarted',
    message: 'The terminal restarted during a payment',
    action: 'none',
    actionText: 'Check the last payment result before charging again',
    support:
      'An in-flight transaction was found at boot and settled (reversal sent if it had reached the host). Repeated: look at the system log for the crash cause.',
  },
  {
    code: 'E603',
    name: 'config-error',
    class: 'system-fault',
    severity: 'critical',
    title: 'Config error',
    message: 'The terminal configuration is not valid',
    action: 'call-support',
    actionText: 'Call support',
    support: 'A configuration file or environment override failed validation; the error names the key.',
  },
  {
    code: 'E604',
    name: 'clock-skew',
    class: 'data-error',
    severity: 'warning',
    title: 'Clock wrong',
    message: 'The terminal clock is wrong',
    action: 'call-support',
    actionText: 'Call support to set the clock',
    support:
      'The clock differs from host time beyond tolerance. Check NTP; expiry checks and journal times depend on it.',
  },
  {
    code: 'E605',
    name: 'malformed-response',
    class: 'data-error',
    severity: 'error',
    title: 'Bank error',
    message: 'The bank answer could not be read',
    action: 'retry',
    actionText: 'Payment not taken. Try again',
    support:
      'A host frame that does not decode (or is too large). A reversal is owed. Capture the ledger and compare the message format with the acquirer specification.',
  },
  {
    code: 'E606',
    name: 'mismatched-response',
    class: 'data-error',
    severity: 'error',
    title: 'Bank error',
    message: 'The bank answer did not match the payment',
    action: 'retry',
    actionText: 'Payment not taken. Try again',
    support:
      'The response fields (amount, STAN, terminal id) do not match the request. A reversal is owed. Escalate to the acquirer.',
  },
  {
    code: 'E607',
    name: 'unknown-response-code',
    class: 'data-error',
    severity: 'error',
    title: 'Bank error',
    message: 'The bank gave an unknown answer',
    action: 'retry',
    actionText: 'Payment not taken. Try again',
    support:
      'A field 39 response code this version does not know. Treated as not approved. Ask the acquirer what it means.',
  },
  {
    code: 'E608',
    name: 'late-response',
    class: 'data-error',
    severity: 'warning',
    title: 'Late bank answer',
    message: 'The bank answered after the timeout',
    action: 'none',
    actionText: 'No action; the payment was reversed',
    support:
      'An answer arrived after its timeout; the transaction had already failed and is reversed. Frequent: the timeout is too short for this host.',
  },
  {
    code: 'E609',
    name: 'host-rejected',
    class: 'data-error',
    severity: 'error',
    title: 'Bank refused',
    message: 'The bank refused the request',
    action: 'call-support',
    actionText: 'Call support',
    support:
      'A response code meaning a request or set-up error (03 invalid merchant, 30 format error, 68 too late, 94 duplicate, 95 reconcile...). Check terminal and merchant ids with the acquirer.',
  },
  {
    code: 'E610',
    name: 'system-fault',
    class: 'system-fault',
    severity: 'error',
    title: 'System error',
    message: 'An internal error stopped the payment',
    action: 'call-support',
    actionText: 'Call support',
    support: 'An unexpected error in the terminal software. The log has the error; send it with the journal export.',
  },
] as const satisfies readonly AnomalyShape[];

/** Every anomaly name the table knows: the only names that compile wherever an anomaly is raised. */
export type AnomalyName = (typeof TABLE)[number]['name'];

export interface AnomalyDefinition extends AnomalyShape {
  name: AnomalyName;
}

export const ANOMALIES: readonly AnomalyDefinition[] = Object.freeze(
  TABLE.map((d): AnomalyDefinition => Object.freeze({ ...d })),
);

const BY_CODE: ReadonlyMap<string, AnomalyDefinition> = new Map(ANOMALIES.map((d) => [d.code, d]));
const BY_NAME: ReadonlyMap<string, AnomalyDefinition> = new Map(ANOMALIES.map((d) => [d.name, d]));

export function anomalyByCode(code: string): AnomalyDefinition | undefined {
  return BY_CODE.get(code.toUpperCase());
}

export function isAnomalyName(name: string): name is AnomalyName {
  return BY_NAME.has(name);
}

/** Throws for a name not in the table: names come from code, so an unknown one is a programming error. */
export function anomalyByName(name: AnomalyName): AnomalyDefinition {
  const def = BY_NAME.get(name);
  if (!def) throw new RangeError(`unknown anomaly name: ${String(name)}`);
  return def;
}

/** Shortens a text for the screen, with an ellipsis. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

const SCREEN_SEVERITY: Record<AnomalySeverity, Screen['severity']> = {
  info: 'info',
  warning: 'warning',
  error: 'error',
  critical: 'error',
};

/** The error picture: title, what happened (plus the reason when it adds something), what to do, and the code. */
export function renderAnomalyScreen(def: AnomalyDefinition, ctx: { reason?: string } = {}): Screen & { code: string } {
  const lines = [def.message];
  const reason = ctx.reason?.trim();
  if (reason && !def.message.includes(reason)) lines.push(clip(reason, TEXT_MAX));
  lines.push(def.actionText);
  return { title: def.title, lines, code: def.code, severity: SCREEN_SEVERITY[def.severity] };
}

/** What an anomaly slip prints besides the definition; shaped like the journal's anomaly row. */
export interface AnomalySlipRecord {
  at: number;
  message?: string;
  txnRef?: string | null;
  stan?: number | null;
  amount?: number | null;
  currency?: string | null;
  maskedPan?: string | null;
  terminalId?: string;
}

/** A slip the cashier can hand to support: code, time, what happened and the transaction facts (masked PAN only). */
export function renderAnomalySlip(def: AnomalyDefinition, record: AnomalySlipRecord): ReceiptDocument {
  const pair = (label: string, value: string): ReceiptLine => ({ text: `${label}: ${value}` });
  const lines: ReceiptLine[] = [
    { text: `ANOMALY ${def.code}`, align: 'center', bold: true, doubleHeight: true },
    { text: def.title, align: 'center', bold: true },
    { kind: 'rule' },
    pair('Time', `${new Date(record.at).toISOString().replace('T', ' ').slice(0, 19)} UTC`),
    ...(record.terminalId ? [pair('Terminal', record.terminalId)] : []),
    pair('Severity', def.severity.toUpperCase()),
    ...(record.txnRef ? [pair('Ref', record.txnRef)] : []),
    ...(record.stan != null ? [pair('STAN', String(record.stan).padStart(6, '0'))] : []),
    ...(record.amount != null && record.currency ? [pair('Amount', formatAmount(record.amount, record.currency))] : []),
    ...(record.maskedPan ? [pair('Card', record.maskedPan)] : []),
    { kind: 'rule' },
    { text: record.message ?? def.message },
    { text: `Action: ${def.actionText}` },
    { kind: 'rule' },
    { text: `Give this slip to support (${def.name})`, align: 'center' },
  ];
  return { lines, cut: true };
}

/** The anomaly guide for the README, generated so the document cannot drift from the table. */
export function anomalyGuideMarkdown(): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  const rows = ANOMALIES.map(
    (a) =>
      `| ${a.code} | \`${a.name}\` | ${a.class} | ${a.severity} | ${cell(a.message)} | ${cell(a.actionText)} | ${cell(a.support)} |`,
  );
  return `${[
    '| Code | Name | Class | Severity | Screen | Cashier action | Support |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n')}\n`;
}
