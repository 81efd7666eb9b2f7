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

export class SensitiveCard {
  readonly #data: CardData;
  readonly summary: CardSummary;

  constructor(data: CardData) {
    this.#data = data;
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
