/**
 * The application layer of the card module protocol (SERIAL-FRAME.md): the commands, and the module's answers
 * mapped to card data, module info or the fault they stand for.
 */
import { DeviceFaultError } from '../fault.js';
import type { CardData, CardReaderFaultCode, CardReaderInfo } from './contract.js';
import { luhnValid } from './luhn.js';

export type ModuleCommand = 'INFO' | 'WAIT_CARD' | 'READ' | 'CANCEL' | 'EMV_START' | 'EMV_COMPLETE';
export type ModuleMessage = Record<string, unknown>;

/** Error names a module may put in a failed READ answer, and the fault each becomes. */
const READ_ERRORS: Record<string, CardReaderFaultCode> = {
  'no-card': 'read-failed',
  'read-failed': 'read-failed',
  'card-removed': 'card-removed',
  'chip-error': 'chip-error',
  'unsupported-card': 'unsupported-card',
  tamper: 'tamper',
};

export function entryModeOf(value: unknown): 'chip' | 'contactless' | undefined {
  return value === 'chip' || value === 'contactless' ? value : undefined;
}

export function infoFrom(msg: ModuleMessage): CardReaderInfo {
  const info: CardReaderInfo = {
    model: typeof msg.model === 'string' ? msg.model.slice(0, 64) : 'unknown',
    firmware: typeof msg.firmware === 'string' ? msg.firmware.slice(0, 64) : 'unknown',
  };
  if (typeof msg.serial === 'string') info.serial = msg.serial.slice(0, 64);
  return info;
}

/** A READ answer as card data, or the fault it stands for. Fault details name the problem, never the data. */
export function cardFrom(msg: ModuleMessage): CardData | DeviceFaultError<CardReaderFaultCode> {
  if (msg.ok !== true) {
    const name = typeof msg.error === 'string' ? msg.error : 'unknown';
    const code = READ_ERRORS[name] ?? 'read-failed';
    if (code !== 'read-failed') return fault(code, `module read failed: ${code}`);
    return fault(code, 'module read failed', { reason: name === 'no-card' ? 'empty' : 'module-error' });
  }
  const bad = (reason: string): DeviceFaultError<CardReaderFaultCode> =>
    fault('read-failed', `module answer rejected: ${reason}`, { reason });
  const mode = entryModeOf(msg.entryMode);
  const { pan, expiry, serviceCode, iccData } = msg;
  if (!mode) return bad('bad-response');
  if (typeof pan !== 'string' || !/^\d{12,19}$/.test(pan)) return bad('bad-response');
  if (!luhnValid(pan)) return bad('luhn');
  if (typeof expiry !== 'string' || !/^\d\d(0[1-9]|1[0-2])$/.test(expiry)) return bad('bad-response');
  if (serviceCode !== undefined && (typeof serviceCode !== 'string' || !/^\d{3}$/.test(serviceCode))) {
    return bad('bad-service-code');
  }
  if (iccData !== undefined && (typeof iccData !== 'string' || !/^([0-9a-fA-F]{2})*$/.test(iccData))) {
    return bad('bad-response');
  }
  const card: CardData = { entryMode: mode, pan, expiry };
  if (serviceCode !== undefined) card.serviceCode = serviceCode;
  if (iccData !== undefined) card.iccData = new Uint8Array(Buffer.from(iccData, 'hex'));
  return card;
}

export function fault(
  code: CardReaderFaultCode,
  message: string,
  detail?: Record<string, string | number | boolean>,
): DeviceFaultError<CardReaderFaultCode> {
  return new DeviceFaultError('card-reader', code, message, detail);
}
