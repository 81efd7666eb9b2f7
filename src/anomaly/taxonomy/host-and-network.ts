/** Anomalies E1xx: the host did not answer in time, could not be reached, or said to retry later. */
import type { AnomalyShape } from './vocabulary.js';

export const HOST_AND_NETWORK = [
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
] as const satisfies readonly AnomalyShape[];
