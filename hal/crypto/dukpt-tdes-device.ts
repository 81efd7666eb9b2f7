/**
 * The originating (PIN pad) side of ANSI X9.24-1:2009 TDES DUKPT: the device loaded once with its initial key and
 * KSN keeps 21 future key registers, one per counter bit, and no other key. Each transaction uses the register of the
 * counter's lowest set bit, then derives the future keys below it and erases the key it used, so a key taken from
 * the device reveals nothing of past transactions.
 */
import { CryptoInputError } from './des.js';
import {
  checkKsn,
  counterOf,
  DukptExhaustedError,
  nextTdesCounter,
  nonReversibleKey,
  oneBits,
  TDES_COUNTER_BITS,
  TDES_COUNTER_MASK,
  TDES_MAX_ONE_BITS,
  tdesTransactionKeyFromIpek,
  tdesWorkingKey,
  type TdesKeyUsage,
  withCounter,
} from './dukpt-tdes.js';

export interface TdesDukptTransaction {
  /** The KSN to send with the data the keys protected. */
  ksn: Buffer;
  /** The working key of the usage asked for. */
  key: Buffer;
}

export class TdesDukptDevice {
  /** Future key register for each counter bit position (0 = lowest bit); undefined once erased. */
  private readonly registers: Array<Buffer | undefined> = new Array(TDES_COUNTER_BITS).fill(undefined);
  private ksn: Buffer;
  private counter: number;

  private constructor(initialKsn: Buffer, counter: number) {
    this.ksn = withCounter(initialKsn, 0);
    this.counter = counter;
  }

  /** Key injection at installation: the initial key and KSN; the initial key is used here and then dropped. */
  static load(ipek: Uint8Array, initialKsn: Uint8Array): TdesDukptDevice {
    if (ipek.length !== 16) throw new CryptoInputError(`a TDES DUKPT initial key is 16 bytes, got ${ipek.length}`);
    if (counterOf(initialKsn) !== 0) throw new CryptoInputError('an initial KSN has a zero counter');
    const device = new TdesDukptDevice(checkKsn(initialKsn), 1);
    for (let p = TDES_COUNTER_BITS - 1; p >= 0; p--) {
      device.registers[p] = nonReversibleKey(ipek, withCounter(initialKsn, 1 << p).subarray(2, 10));
    }
    return device;
  }

  /**
   * The registers a device would hold when `counter` is the next value to use: for restoring a pad's saved state
   * (a simulator's pad across restarts) and for testing the late counters without a million transactions.
   */
  static resume(ipek: Uint8Array, initialKsn: Uint8Array, counter: number): TdesDukptDevice {
    if (!Number.isInteger(counter) || counter < 1 || counter > TDES_COUNTER_MASK + 1) {
      throw new CryptoInputError(`a TDES DUKPT counter is 1 to 2^21, got ${counter}`);
    }
    if (counter <= TDES_COUNTER_MASK && oneBits(counter) > TDES_MAX_ONE_BITS) {
      throw new CryptoInputError('a counter with more than 10 one-bits is never used');
    }
    const device = new TdesDukptDevice(checkKsn(initialKsn), counter);
    for (let p = 0; p < TDES_COUNTER_BITS; p++) {
      const target = ((counter >>> (p + 1)) << (p + 1)) | (1 << p);
      if (target < counter || target > TDES_COUNTER_MASK || oneBits(target) > TDES_MAX_ONE_BITS) continue;
      device.registers[p] = tdesTransactionKeyFromIpek(ipek, withCounter(initialKsn, target));
    }
    return device;
  }

  /** The counter the next transaction will use. */
  get nextCounter(): number {
    return this.counter;
  }

  get exhausted(): boolean {
    return this.counter > TDES_COUNTER_MASK;
  }

  /** Future key registers still holding a key (a real device holds at most 21). */
  get liveRegisters(): number {
    return this.registers.filter((r) => r !== undefined).length;
  }

  /**
   * Take the next transaction: its KSN and the working key of the usage, then advance. Further usages of the same
   * transaction (a MAC beside the PIN) come from the returned transaction key with tdesWorkingKey.
   */
  nextTransaction(usage: TdesKeyUsage): TdesDukptTransaction & { transactionKey: Buffer } {
    if (this.exhausted) throw new DukptExhaustedError('the DUKPT counter has reached its limit: reload the key');
    const counter = this.counter;
    const p = lowestBit(counter);
    const current = this.registers[p];
    if (!current) throw new DukptExhaustedError(`future key register ${p} is empty`);
    const ksn = withCounter(this.ksn, counter);
    // New key: below the bit just used, the future keys this key is the parent of, unless their counters would
    // carry too many one-bits (then they are skipped, never generated).
    if (oneBits(counter) < TDES_MAX_ONE_BITS) {
      for (let q = p - 1; q >= 0; q--) {
        this.registers[q] = nonReversibleKey(current, withCounter(this.ksn, counter | (1 << q)).subarray(2, 10));
      }
    }
    this.registers[p] = undefined;
    this.counter = nextTdesCounter(counter);
    return { ksn, key: tdesWorkingKey(current, usage), transactionKey: current };
  }
}

function lowestBit(counter: number): number {
  return 31 - Math.clz32(counter & -counter);
}
