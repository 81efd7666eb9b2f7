/**
 * The one classifier: turns what went wrong (a device fault, a host error, a field 39 answer, a self-test result)
 * into the anomaly of the taxonomy table. Every caller (transaction machine, terminal, self-test, reprint) asks here,
 * so a 51 is E202 wherever it is met. Names are the typed union of the table: a name that is not in it does not
 * compile.
 */
import type { CardReaderFaultCode } from '../../hal/card-reader/contract.js';
import type { PinPadFaultCode } from '../../hal/pin-pad/contract.js';
import type { DisplayFaultCode } from '../../hal/display/contract.js';
import type { HostLinkFaultCode } from '../../hal/acquirer-link/contract.js';
import type { NetworkFaultCode } from '../../hal/network/contract.js';
import type { PrinterFaultCode, PrinterWarning } from '../../hal/printer/contract.js';
import type { HostErrorCode } from '../vocabulary/index.js';
import {
  describeResponseCode,
  isKnownResponseCode,
  responseClass,
  type ResponseClass,
} from '../iso8583/response-codes.js';
import type { CheckComponent } from '../selftest/selftest.js';
import { anomalyByName, clip, TEXT_MAX, type AnomalyDefinition, type AnomalyName } from './taxonomy.js';

// Records over each contract's code union: a fault code added to a HAL contract fails compilation here until it
// is mapped.
const CARD_READER_FAULTS: Record<CardReaderFaultCode, AnomalyName> = {
  'not-connected': 'reader-fault',
  timeout: 'card-timeout',
  'read-failed': 'reader-read-failed',
  'card-removed': 'reader-card-removed',
  'chip-error': 'reader-chip-error',
  'unsupported-card': 'reader-unsupported-card',
  tamper: 'reader-tamper',
  busy: 'reader-fault',
  cancelled: 'cancelled-by-operator',
};

// The PIN pad: the cardholder's cancel and timeout are theirs, not the device's; its tamper is the reader's tamper
// (the same secure unit on a smart terminal, and it locks the terminal the same way).
const PIN_PAD_FAULTS: Record<PinPadFaultCode, AnomalyName> = {
  'not-connected': 'hardware-fault',
  cancelled: 'cancelled-by-operator',
  timeout: 'card-timeout',
  bypassed: 'declined-pin',
  'no-keys': 'hardware-fault',
  'key-exhausted': 'hardware-fault',
  tamper: 'reader-tamper',
  busy: 'hardware-fault',
  'bad-request': 'system-fault',
  'bad-response': 'hardware-fault',
};

const PRINTER_FAULTS: Record<PrinterFaultCode | PrinterWarning, AnomalyName> = {
  'paper-out': 'printer-paper-out',
  'paper-near-end': 'printer-paper-near-end',
  'cover-open': 'printer-cover-open',
  jam: 'printer-jam',
  overheat: 'printer-overheat',
  'cutter-fault': 'printer-cutter',
  offline: 'printer-offline',
  unrecoverable: 'printer-unrecoverable',
  timeout: 'printer-offline',
  'not-connected': 'printer-offline',
};

const DISPLAY_FAULTS: Record<DisplayFaultCode, AnomalyName> = {
  offline: 'display-fault',
};

const NETWORK_FAULTS: Record<NetworkFaultCode, AnomalyName> = {
  unavailable: 'network-device-fault',
};

const HOST_LINK_FAULTS: Record<HostLinkFaultCode, AnomalyName> = {
  'not-connected': 'network-failure',
  timeout: 'host-timeout',
  'link-down': 'link-lost',
  'duplicate-key': 'system-fault',
  'frame-too-large': 'malformed-response',
  cancelled: 'cancelled-by-operator',
  stopped: 'link-lost',
};

/** The host-link contract declares its codes as a type only; this list makes them enumerable for tests and docs. */
export const HOST_LINK_FAULT_CODES = Object.freeze(Object.keys(HOST_LINK_FAULTS) as HostLinkFaultCode[]);

const DEVICE_FAULTS: Readonly<Record<string, Readonly<Record<string, AnomalyName>>>> = {
  'card-reader': CARD_READER_FAULTS,
  printer: PRINTER_FAULTS,
  display: DISPLAY_FAULTS,
  network: NETWORK_FAULTS,
  'host-link': HOST_LINK_FAULTS,
  'pin-pad': PIN_PAD_FAULTS,
};

/** Unknown devices or codes (a newer driver, a typo) still yield a hardware anomaly rather than nothing. */
export function anomalyForDeviceFault(fault: { device: string; code: string }): AnomalyDefinition {
  const table = DEVICE_FAULTS[fault.device];
  const name = table && Object.hasOwn(table, fault.code) ? table[fault.code] : undefined;
  return anomalyByName(name ?? 'hardware-fault');
}

// Field 39: the class decides, a few codes have their own more telling anomaly.
const RESPONSE_BY_CLASS: Readonly<Record<ResponseClass, AnomalyName | undefined>> = {
  approved: undefined,
  'partially-approved': undefined,
  declined: 'declined',
  refer: 'declined-refer',
  'pick-up': 'declined-pickup',
  'retry-later': 'issuer-unavailable',
  error: 'host-rejected',
};

const DECLINE_BY_CODE: Readonly<Record<string, AnomalyName>> = {
  '51': 'declined-funds',
  '61': 'declined-funds',
  '65': 'declined-funds',
  '54': 'declined-expired',
  '55': 'declined-pin',
  '75': 'declined-pin',
  // Suspected fraud: the issuer does not say "keep the card", but the pick-up procedure is what it asks for.
  '59': 'declined-pickup',
};

/** The anomaly name for any field 39 value: none when money moved, else by class and code. */
export function responseAnomalyName(responseCode: string): AnomalyName | undefined {
  if (!isKnownResponseCode(responseCode)) return 'unknown-response-code';
  const cls = responseClass(responseCode);
  if (cls === 'declined') return DECLINE_BY_CODE[responseCode] ?? 'declined';
  return RESPONSE_BY_CLASS[cls];
}

/** The decline reason as the cashier reads it: "05 Do not honour". */
export function declineReason(responseCode: string): string {
  const info = describeResponseCode(responseCode);
  return `${responseCode} ${info?.meaning ?? 'Unknown reason'}`;
}

/** For an answer shown as a decline: always of class 'declined'; the message carries the host's code and reason. */
export function anomalyForDecline(responseCode: string): AnomalyDefinition {
  const name = responseAnomalyName(responseCode);
  const def = anomalyByName(name && anomalyByName(name).class === 'declined' ? name : 'declined');
  return Object.freeze({ ...def, message: clip(`Declined: ${declineReason(responseCode)}`, TEXT_MAX) });
}

/**
 * The anomaly for any field 39 answer, by what the terminal does with it: none when approved (in full or in part), a
 * decline, the issuer being unavailable (retry codes), a request/set-up error, or an unknown code.
 */
export function anomalyForResponse(responseCode: string): AnomalyDefinition | undefined {
  const name = responseAnomalyName(responseCode);
  if (name === undefined) return undefined;
  const def = anomalyByName(name);
  if (def.class === 'declined') return anomalyForDecline(responseCode);
  return withReason(def, name === 'unknown-response-code' ? `code ${responseCode}` : declineReason(responseCode));
}

// Host errors: a code added to HostErrorCode fails compilation here until it is mapped.
const HOST_ERRORS: Readonly<Record<HostErrorCode, AnomalyName>> = {
  'bad-request': 'system-fault',
  'not-connected': 'network-failure',
  timeout: 'host-timeout',
  'link-down': 'link-lost',
  cancelled: 'host-timeout',
  busy: 'system-fault',
  stopped: 'network-failure',
  'garbled-response': 'malformed-response',
  'mismatched-response': 'mismatched-response',
  'bad-mac': 'mac-failure',
  'no-mac-key': 'mac-key-missing',
};

export function anomalyForHostError(code: HostErrorCode): AnomalyName {
  return Object.hasOwn(HOST_ERRORS, code) ? HOST_ERRORS[code] : 'system-fault';
}

/** The anomaly a failed or warning self-test check stands for. */
export function anomalyForSelfTest(result: { component: CheckComponent; code: string }): AnomalyName {
  switch (result.component) {
    case 'card-reader':
    case 'printer':
      return anomalyForDeviceFault({ device: result.component, code: result.code }).name;
    case 'storage':
      return 'storage-fault';
    case 'clock':
      return 'clock-skew';
    case 'host':
      return result.code === 'timeout'
        ? 'host-timeout'
        : result.code === 'echo-refused'
          ? 'host-rejected'
          : 'network-failure';
  }
}

function withReason(def: AnomalyDefinition, reason: string): AnomalyDefinition {
  return Object.freeze({ ...def, message: clip(`${def.message}: ${reason}`, TEXT_MAX) });
}
