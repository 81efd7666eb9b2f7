/**
 * The idle screen's reasons in the merchant's language. The terminal machine keeps each reason as an English string:
 * it is the key a device's next report removes, and what the journal, the log and telemetry carry. Only the screen
 * reads it translated: the fixed reasons by their catalogue text, the built ones (`<device>: <code>`) by their
 * translated start, with the device's code (`not-connected`, `paper-out`) or free detail left as it is.
 */
import { type Language, messagesFor, type ReasonTexts } from '../i18n/index.js';
import { LIMITATION } from '../selftest/selftest.js';
import { PIN_PAD_MISSING } from './device-health.js';
import { DEVICE_LOCK_PREFIX, RECOVERY_FAILED } from './machine.js';

type DeviceWord = keyof ReasonTexts['device'];

const FIXED: ReadonlyArray<readonly [string, (t: ReasonTexts) => string]> = [
  [LIMITATION.noPrinter, (t) => t.noPrinter],
  [LIMITATION.paperNearEnd, (t) => t.paperNearEnd],
  [LIMITATION.hostUnreachable, (t) => t.hostUnreachable],
  [LIMITATION.clockSkew, (t) => t.clockSkew],
  [PIN_PAD_MISSING, (t) => t.pinPadMissing],
  [RECOVERY_FAILED, (t) => t.recoveryFailed],
];

const PREFIXED: ReadonlyArray<readonly [string, (t: ReasonTexts) => string]> = [
  ['storage low: ', (t) => t.storageLow],
  ['storage fault: ', (t) => t.storageFault],
  ['suspected fraud: ', (t) => t.suspectedFraud],
  ['card reader tamper: ', (t) => t.tamper(t.device['card reader'])],
  ['PIN pad tamper: ', (t) => t.tamper(t.device['PIN pad'])],
];

export function localizeReason(reason: string, language?: Language): string {
  if ((language ?? 'en') === 'en') return reason;
  const t = messagesFor(language).reasons;
  const fixed = FIXED.find(([english]) => english === reason);
  if (fixed) return fixed[1](t);
  const prefixed = PREFIXED.find(([english]) => reason.startsWith(english));
  if (prefixed) return `${prefixed[1](t)}: ${reason.slice(prefixed[0].length)}`;
  const rest = reason.startsWith(DEVICE_LOCK_PREFIX) ? reason.slice(DEVICE_LOCK_PREFIX.length) : reason;
  const colon = rest.indexOf(': ');
  const device = colon > 0 ? rest.slice(0, colon) : '';
  if (device in t.device) return `${t.device[device as DeviceWord]}${rest.slice(colon)}`;
  return reason;
}
