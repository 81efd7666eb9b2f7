/**
 * Card data as read from the reader, wrapped so it cannot leak by accident: JSON.stringify, util.inspect, pino
 * and String() all see only the masked PAN and the entry mode. Code that must send the PAN to the host asks for
 * it explicitly with reveal().
 */
import { inspect } from 'node:util';
import type { CardData, EntryMode } from '../../hal/card-reader/contract.js';
import { maskPan } from '../util/pan.js';

export interface CardSummary {
  maskedPan: string;
  entryMode: EntryMode;
  expiry: string;
  serviceCode?: string;
}

/** A PIN as the PIN pad gave it: the enciphered block and the KSN it was made under, never the PIN itself. */
export interface EncipheredPin {
  pinBlock: Uint8Array;
  ksn: Uint8Array;
  format: 0 | 4;
}

export class SensitiveCard {
  readonly #data: CardData;
  readonly #pin: EncipheredPin | undefined;
  readonly summary: CardSummary;

  constructor(data: CardData, pin?: EncipheredPin) {
    this.#data = data;
    this.#pin = pin;
    this.summary = {
      maskedPan: maskPan(data.pan) ?? '',
      entryMode: data.entryMode,
      expiry: data.expiry,
      ...(data.serviceCode !== undefined ? { serviceCode: data.serviceCode } : {}),
    };
  }

  /** The raw card data, for building the host request only. */
  reveal(): CardData {
    return this.#data;
  }

  /** The enciphered PIN block for field 52, when the cardholder entered one. */
  revealPin(): EncipheredPin | undefined {
    return this.#pin;
  }

  /** The same card with the chip's field 55 as the kernel last gave it (first or second decision). */
  withIccData(iccData: Uint8Array): SensitiveCard {
    return new SensitiveCard({ ...this.#data, iccData }, this.#pin);
  }

  withPin(pin: EncipheredPin): SensitiveCard {
    return new SensitiveCard(this.#data, pin);
  }

  toJSON(): CardSummary {
    return this.summary;
  }

  toString(): string {
    return `card ${this.summary.maskedPan} (${this.summary.entryMode})`;
  }

  [inspect.custom](): string {
    return `SensitiveCard { ${this.toString()} }`;
  }
}
