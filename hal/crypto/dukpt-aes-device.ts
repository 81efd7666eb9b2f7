/**
 * The originating (PIN pad) side of ANSI X9.24-3:2017 AES DUKPT: after loading, the device holds 32 intermediate
 * derivation key registers, one per counter bit, and no initial key. Like the TDES device, each transaction uses the
 * register of the counter's lowest set bit, derives the registers below it, and erases the key it used.
 */
import { CryptoInputError } from './des.js';
import {
  AES_INITIAL_KEY_ID_BYTES,
  AES_MAX_ONE_BITS,
  type AesDukptKeyType,
  type AesKeyUsage,
  aesDerivationKey,
  aesKeyTypeOf,
  aesKsn,
  aesTransactionKeyFromInitialKey,
  aesWorkingKey,
} from './dukpt-aes.js';
import { DukptExhaustedError, oneBits } from './dukpt-tdes.js';

const BITS = 32;
const LIMIT = 2 ** 32;

export class AesDukptDevice {
  private readonly registers: Array<Buffer | undefined> = new Array(BITS).fill(undefined);
  private readonly initialKeyId: Buffer;
  private counter: number;

  private constructor(initialKeyId: Uint8Array, counter: number) {
    if (initialKeyId.length !== AES_INITIAL_KEY_ID_BYTES) {
      throw new CryptoInputError(`an AES DUKPT initial key ID is 8 bytes, got ${initialKeyId.length}`);
    }
    this.initialKeyId = Buffer.from(initialKeyId);
    this.counter = counter;
  }

  /** Key injection: the initial key and its 8-byte initial key ID; the initial key is used here and dropped. */
  static load(initialKey: Uint8Array, initialKeyId: Uint8Array): AesDukptDevice {
    aesKeyTypeOf(initialKey);
    const device = new AesDukptDevice(initialKeyId, 1);
    const ksn = aesKsn(initialKeyId, 0);
    for (let p = 0; p < BITS; p++) device.registers[p] = aesDerivationKey(initialKey, ksn, 2 ** p);
    return device;
  }

  /** The registers a device holds when `counter` is the next to use (restoring saved state, testing late counters). */
  static resume(initialKey: Uint8Array, initialKeyId: Uint8Array, counter: number): AesDukptDevice {
    if (!Number.isInteger(counter) || counter < 1 || counter > LIMIT) {
      throw new CryptoInputError(`an AES DUKPT counter is 1 to 2^32, got ${counter}`);
    }
    if (counter < LIMIT && oneBits(counter) > AES_MAX_ONE_BITS) {
      throw new CryptoInputError('a counter with more than 16 one-bits is never used');
    }
    const device = new AesDukptDevice(initialKeyId, counter);
    for (let p = 0; p < BITS; p++) {
      const span = 2 ** (p + 1);
      const target = Math.floor(counter / span) * span + 2 ** p;
      if (target < counter || target >= LIMIT || oneBits(target) > AES_MAX_ONE_BITS) continue;
      device.registers[p] = aesTransactionKeyFromInitialKey(initialKey, aesKsn(initialKeyId, target));
    }
    return device;
  }

  get nextCounter(): number {
    return this.counter;
  }

  get exhausted(): boolean {
    return this.counter >= LIMIT;
  }

  get liveRegisters(): number {
    return this.registers.filter((r) => r !== undefined).length;
  }

  /** Take the next transaction: its KSN and the working key of the usage, then advance. */
  nextTransaction(
    usage: AesKeyUsage,
    type: AesDukptKeyType = 'aes128',
  ): { ksn: Buffer; key: Buffer; transactionKey: Buffer } {
    if (this.exhausted) throw new DukptExhaustedError('the DUKPT counter has reached its limit: reload the key');
    const counter = this.counter;
    const lowest = (counter & -counter) >>> 0;
    const p = Math.log2(lowest);
    const current = this.registers[p];
    if (!current) throw new DukptExhaustedError(`intermediate derivation key register ${p} is empty`);
    const ksn = aesKsn(this.initialKeyId, counter);
    if (oneBits(counter) < AES_MAX_ONE_BITS) {
      for (let q = p - 1; q >= 0; q--) this.registers[q] = aesDerivationKey(current, ksn, counter + 2 ** q);
    }
    this.registers[p] = undefined;
    this.counter = oneBits(counter) < AES_MAX_ONE_BITS ? counter + 1 : counter + lowest;
    return { ksn, key: aesWorkingKey(current, ksn, usage, type), transactionKey: current };
  }
}
