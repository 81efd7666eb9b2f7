/**
 * Our refusals and anomalies as nexo ErrorConditions. The anomaly code always travels in AdditionalResponse, so a
 * register (or support) gets the precise cause where nexo has only a broad one.
 */
import { anomalyByCode } from '../../anomaly/index.js';
import type { NexoCommandResult } from '../ports.js';
import type { ErrorCondition } from './response.js';

/** By anomaly name; an anomaly not listed falls back on the outcome. */
const BY_ANOMALY: Record<string, ErrorCondition> = {
  declined: 'Refusal',
  'declined-funds': 'Refusal',
  'declined-expired': 'Refusal',
  'declined-pin': 'WrongPIN',
  'declined-refer': 'Refusal',
  'declined-pickup': 'Refusal',
  'card-declined-after-approval': 'Refusal',
  'card-removed-before-completion': 'InvalidCard',
  'host-rejected': 'Refusal',
  'suspected-fraud-luhn': 'InvalidCard',
  'suspected-fraud-track-mismatch': 'InvalidCard',
  'suspected-fraud-fallback': 'InvalidCard',
  'card-testing': 'Refusal',
  'duplicate-transaction': 'NotAllowed',
  'unauthorized-operation': 'NotAllowed',
  'unknown-ecr-client': 'NotAllowed',
  'expired-card': 'InvalidCard',
  'repeated-read-failures': 'InvalidCard',
  'reader-read-failed': 'InvalidCard',
  'reader-card-removed': 'InvalidCard',
  'reader-chip-error': 'InvalidCard',
  'reader-unsupported-card': 'InvalidCard',
  'stale-swipe': 'InvalidCard',
  'card-left-in-reader': 'InsertedCard',
  'reader-fault': 'DeviceOut',
  'reader-tamper': 'DeviceOut',
  'display-fault': 'DeviceOut',
  'network-device-fault': 'DeviceOut',
  'hardware-fault': 'DeviceOut',
  'printer-paper-out': 'DeviceOut',
  'printer-cover-open': 'DeviceOut',
  'printer-jam': 'DeviceOut',
  'printer-overheat': 'DeviceOut',
  'printer-cutter': 'DeviceOut',
  'printer-offline': 'DeviceOut',
  'printer-unrecoverable': 'DeviceOut',
  'host-timeout': 'UnreachableHost',
  'network-failure': 'UnreachableHost',
  'link-lost': 'UnreachableHost',
  'issuer-unavailable': 'UnreachableHost',
  'malformed-response': 'UnreachableHost',
  'mismatched-response': 'UnreachableHost',
  'unknown-response-code': 'UnreachableHost',
  'late-response': 'UnreachableHost',
  'reversal-pending': 'Busy',
  'bad-amount': 'PaymentRestriction',
  'card-timeout': 'Cancel',
  'cancelled-by-operator': 'Cancel',
  busy: 'Busy',
  'unknown-original': 'NotFound',
  'invalid-input': 'MessageFormat',
};

const BY_OUTCOME: Record<string, ErrorCondition> = {
  declined: 'Refusal',
  cancelled: 'Cancel',
  failed: 'UnavailableService',
};

/** The condition of a transaction that did not succeed, from its anomaly code (journal) or its outcome. */
export function conditionOfOutcome(outcome: string, anomalyCode: string | null | undefined): ErrorCondition {
  const name = anomalyCode ? anomalyByCode(anomalyCode)?.name : undefined;
  return (name !== undefined ? BY_ANOMALY[name] : undefined) ?? BY_OUTCOME[outcome] ?? 'UnavailableService';
}

const BY_COMMAND_ERROR: Record<string, ErrorCondition> = {
  busy: 'Busy',
  'not-allowed': 'NotAllowed',
  unauthorized: 'NotAllowed',
  'no-transaction': 'NotFound',
  'not-found': 'NotFound',
  'device-fault': 'DeviceOut',
  'invalid-request': 'MessageFormat',
};

/** The condition of a command the service refused before any transaction ran. */
export function conditionOfRefusal(failure: Extract<NexoCommandResult, { ok: false }>): ErrorCondition {
  return BY_COMMAND_ERROR[failure.error] ?? 'UnavailableService';
}
