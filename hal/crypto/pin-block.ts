/**
 * ISO 9564-1 PIN blocks: format 0 (8 bytes, for TDES: the PIN field XOR the PAN's rightmost 12 digits without the
 * check digit) and format 4 (16 bytes, for AES: the PIN field with random fill, enciphered, XORed with the PAN
 * field, enciphered again). The clear PIN only ever exists inside the PIN pad and the host's decrypting side.
 */
import { randomBytes } from 'node:crypto';
import { aesDecrypt, aesEncrypt } from './aes.js';
import { desDecrypt, desEncrypt, xor } from './des.js';

export type PinBlockFormat = 0 | 4;
export const PIN_MIN_LENGTH = 4;
export const PIN_MAX_LENGTH = 12;

export type PinBlockErrorCode = 'pin-length' | 'pin-digits' | 'bad-pan' | 'bad-block';

/** Bad input to a PIN block operation. Its message never contains the PIN or the PAN. */
export class PinBlockError extends Error {
  override readonly name = 'PinBlockError';
  constructor(
    readonly code: PinBlockErrorCode,
    message: string,
  ) {
    super(message);
  }
}

function checkPin(pin: string): void {
  if (!/^\d*$/.test(pin)) throw new PinBlockError('pin-digits', 'a PIN is digits only');
  if (pin.length < PIN_MIN_LENGTH || pin.length > PIN_MAX_LENGTH) {
    throw new PinBlockError('pin-length', `a PIN has ${PIN_MIN_LENGTH} to ${PIN_MAX_LENGTH} digits, got ${pin.length}`);
  }
}

function checkPan(pan: string): void {
  if (!/^\d{12,19}$/.test(pan)) throw new PinBlockError('bad-pan', 'a PAN is 12 to 19 digits');
}

/** Format 0 PAN field: 0000 and the 12 rightmost digits before the check digit. */
export function panFieldFormat0(pan: string): Buffer {
  checkPan(pan);
  return Buffer.from(`0000${pan.slice(0, -1).slice(-12).padStart(12, '0')}`, 'hex');
}

/** The clear format 0 block. */
export function encodePinBlockFormat0(pin: string, pan: string): Buffer {
  checkPin(pin);
  const pinField = Buffer.from(`0${pin.length.toString(16)}${pin}`.padEnd(16, 'F'), 'hex');
  return xor(pinField, panFieldFormat0(pan));
}

export function decodePinBlockFormat0(block: Uint8Array, pan: string): string {
  if (block.length !== 8) throw new PinBlockError('bad-block', `a format 0 PIN block is 8 bytes, got ${block.length}`);
  const field = xor(block, panFieldFormat0(pan)).toString('hex').toUpperCase();
  return pinFromField(field, '0', 'F');
}

/** Reads the PIN out of a PIN field "<format><length><digits><fill...>" (as uppercase hex). */
function pinFromField(field: string, format: string, fill: string): string {
  if (field[0] !== format) throw new PinBlockError('bad-block', `not a format ${format} PIN block`);
  const length = Number.parseInt(field[1] ?? '', 16);
  if (!(length >= PIN_MIN_LENGTH && length <= PIN_MAX_LENGTH)) {
    throw new PinBlockError('bad-block', 'the PIN block has a bad PIN length');
  }
  const pin = field.slice(2, 2 + length);
  if (!/^\d+$/.test(pin)) throw new PinBlockError('bad-block', 'the PIN block has a non-digit PIN');
  if ([...field.slice(2 + length)].some((c) => c !== fill)) {
    throw new PinBlockError('bad-block', 'the PIN block has a bad fill (wrong key or PAN)');
  }
  return pin;
}

/** Format 0 enciphered under a TDES key (a DUKPT PIN key). */
export function encipherPinBlockFormat0(key: Uint8Array, pin: string, pan: string): Buffer {
  return desEncrypt(key, encodePinBlockFormat0(pin, pan));
}

export function decipherPinBlockFormat0(key: Uint8Array, block: Uint8Array, pan: string): string {
  if (block.length !== 8) throw new PinBlockError('bad-block', `a format 0 PIN block is 8 bytes, got ${block.length}`);
  return decodePinBlockFormat0(desDecrypt(key, block), pan);
}

/** Format 4 plain PIN field: 4, length, digits, A fill to 16 nibbles, then 8 random bytes. */
export function pinFieldFormat4(pin: string, random: (size: number) => Buffer = randomBytes): Buffer {
  checkPin(pin);
  const control = Buffer.from(`4${pin.length.toString(16)}${pin}`.padEnd(16, 'A'), 'hex');
  const fill = random(8);
  if (fill.length !== 8) throw new RangeError('the random fill source must give 8 bytes');
  return Buffer.concat([control, fill]);
}

/** Format 4 PAN field: PAN length - 12, the PAN (left-padded with zeros to 12 digits), zeros to 32 nibbles. */
export function panFieldFormat4(pan: string): Buffer {
  checkPan(pan);
  return Buffer.from(`${pan.length - 12}${pan}`.padEnd(32, '0'), 'hex');
}

export function decodePinFieldFormat4(field: Uint8Array): string {
  if (field.length !== 16)
    throw new PinBlockError('bad-block', `a format 4 PIN field is 16 bytes, got ${field.length}`);
  return pinFromField(Buffer.from(field).subarray(0, 8).toString('hex').toUpperCase(), '4', 'A');
}

/** Format 4 enciphered under an AES key: E(K, E(K, PIN field) XOR PAN field). */
export function encipherPinBlockFormat4(
  key: Uint8Array,
  pin: string,
  pan: string,
  random: (size: number) => Buffer = randomBytes,
): Buffer {
  const panField = panFieldFormat4(pan);
  return aesEncrypt(key, xor(aesEncrypt(key, pinFieldFormat4(pin, random)), panField));
}

export function decipherPinBlockFormat4(key: Uint8Array, block: Uint8Array, pan: string): string {
  if (block.length !== 16)
    throw new PinBlockError('bad-block', `a format 4 PIN block is 16 bytes, got ${block.length}`);
  const panField = panFieldFormat4(pan);
  return decodePinFieldFormat4(aesDecrypt(key, xor(aesDecrypt(key, block), panField)));
}
