/**
 * The PIN pad's secure processor, as mocks and emulators model it: the DUKPT state of each loaded scheme, and the
 * one operation that turns a clear PIN into an enciphered block under the next transaction key. What leaves it is
 * the block and the KSN only.
 */
import { AesDukptDevice } from '../crypto/dukpt-aes-device.js';
import { aesCounterOf, aesKsn } from '../crypto/dukpt-aes.js';
import { TdesDukptDevice } from '../crypto/dukpt-tdes-device.js';
import { DukptExhaustedError, withCounter } from '../crypto/dukpt-tdes.js';
import { encipherPinBlockFormat0, encipherPinBlockFormat4, type PinBlockFormat } from '../crypto/pin-block.js';
import { DeviceFaultError } from '../fault.js';
import {
  type DukptKeyInjection,
  type DukptScheme,
  type PinPadFaultCode,
  type PinPadInfo,
  type PinResult,
  SCHEME_OF_FORMAT,
} from './contract.js';

export function pinPadFault(
  code: PinPadFaultCode,
  message: string,
  detail?: Record<string, string | number | boolean>,
): DeviceFaultError<PinPadFaultCode> {
  return new DeviceFaultError('pin-pad', code, message, detail);
}

export class PinSecureModule {
  private tdes: { device: TdesDukptDevice; initialKsn: Buffer } | undefined;
  private aes: { device: AesDukptDevice; initialKeyId: Buffer } | undefined;

  /**
   * Loads an initial key; a malformed one is 'bad-request' and leaves the old key in place. `resumeAtCounter`
   * rebuilds the registers a pad holds at that counter instead (a pad's saved state across simulator restarts).
   */
  load(injection: DukptKeyInjection, resumeAtCounter?: number): void {
    const { scheme, initialKey, initialKsn } = injection;
    try {
      if (scheme === 'tdes-dukpt') {
        const device =
          resumeAtCounter === undefined
            ? TdesDukptDevice.load(initialKey, initialKsn)
            : TdesDukptDevice.resume(initialKey, initialKsn, resumeAtCounter);
        this.tdes = { device, initialKsn: Buffer.from(initialKsn) };
      } else if (scheme === 'aes-dukpt') {
        if (initialKsn.length !== 12 || aesCounterOf(initialKsn) !== 0) throw new RangeError('initial KSN');
        const initialKeyId = Buffer.from(initialKsn.subarray(0, 8));
        const device =
          resumeAtCounter === undefined
            ? AesDukptDevice.load(initialKey, initialKeyId)
            : AesDukptDevice.resume(initialKey, initialKeyId, resumeAtCounter);
        this.aes = { device, initialKeyId };
      } else {
        throw new RangeError('scheme');
      }
    } catch {
      // The error text may describe the key material: say only what was wrong in shape.
      throw pinPadFault('bad-request', `malformed ${String(scheme)} key injection`);
    }
  }

  /** Tamper response: every key is erased. */
  erase(): void {
    this.tdes = undefined;
    this.aes = undefined;
  }

  has(scheme: DukptScheme): boolean {
    return scheme === 'tdes-dukpt' ? this.tdes !== undefined : this.aes !== undefined;
  }

  keys(): PinPadInfo['keys'] {
    const keys: PinPadInfo['keys'] = {};
    const hex = (b: Buffer) => b.toString('hex').toUpperCase();
    if (this.tdes) {
      const { device, initialKsn } = this.tdes;
      keys['tdes-dukpt'] = { nextKsn: device.exhausted ? null : hex(withCounter(initialKsn, device.nextCounter)) };
    }
    if (this.aes) {
      const { device, initialKeyId } = this.aes;
      keys['aes-dukpt'] = { nextKsn: device.exhausted ? null : hex(aesKsn(initialKeyId, device.nextCounter)) };
    }
    return keys;
  }

  /** Can a block of this format be made now? The fault that says why not, else undefined. */
  refusal(format: PinBlockFormat): DeviceFaultError<PinPadFaultCode> | undefined {
    const scheme = SCHEME_OF_FORMAT[format];
    const state = scheme === 'tdes-dukpt' ? this.tdes?.device : this.aes?.device;
    if (!state) return pinPadFault('no-keys', `no ${scheme} key loaded`);
    if (state.exhausted) return pinPadFault('key-exhausted', `the ${scheme} counter has reached its end`);
    return undefined;
  }

  /** Enciphers the PIN under the next transaction's PIN key and advances the counter. */
  encipher(pin: string, pan: string, format: PinBlockFormat): PinResult {
    const refused = this.refusal(format);
    if (refused) throw refused;
    try {
      if (format === 0 && this.tdes) {
        const tx = this.tdes.device.nextTransaction('pin');
        return { pinBlock: encipherPinBlockFormat0(tx.key, pin, pan), ksn: tx.ksn, format };
      }
      if (format === 4 && this.aes) {
        const tx = this.aes.device.nextTransaction('pin', 'aes128');
        return { pinBlock: encipherPinBlockFormat4(tx.key, pin, pan), ksn: tx.ksn, format };
      }
    } catch (error) {
      if (error instanceof DukptExhaustedError)
        throw pinPadFault('key-exhausted', 'the DUKPT counter has reached its end');
      throw pinPadFault('bad-request', 'the PIN block could not be made from this request');
    }
    throw pinPadFault('no-keys', `no key for format ${format}`);
  }
}

/** The checks every driver makes before prompting; a fault for a bad request, else undefined. */
export function requestProblem(request: {
  pan?: unknown;
  format?: unknown;
  minLength?: unknown;
  maxLength?: unknown;
}): DeviceFaultError<PinPadFaultCode> | undefined {
  const { pan, format, minLength, maxLength } = request;
  if (typeof pan !== 'string' || !/^\d{12,19}$/.test(pan))
    return pinPadFault('bad-request', 'the PAN is 12 to 19 digits');
  if (format !== 0 && format !== 4) return pinPadFault('bad-request', 'the PIN block format is 0 or 4');
  const bounded = (n: unknown): n is number => Number.isInteger(n) && (n as number) >= 4 && (n as number) <= 12;
  if (!bounded(minLength) || !bounded(maxLength) || minLength > maxLength) {
    return pinPadFault('bad-request', 'PIN length bounds are within 4 to 12, min <= max');
  }
  return undefined;
}
