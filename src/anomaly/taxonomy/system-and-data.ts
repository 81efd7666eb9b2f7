/**
 * Anomalies E6xx: the terminal itself (storage, crash recovery, configuration) and data it cannot trust (the clock,
 * the host's answers).
 */
import type { AnomalyShape } from './vocabulary.js';

export const SYSTEM_AND_DATA = [
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
