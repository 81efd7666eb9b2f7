/**
 * The chip steps of the soak: one per branch of an EMV sale (online PIN, a wrong PIN then the right one, contactless
 * under and over the contactless CVM limit and over the contactless transaction limit, an approval the card declines,
 * a card removed before completion, an issuer script, an offline approval by the card, a chip failure with fallback
 * to the stripe, and a host answer whose MAC fails). Each step is a cardholder: a sequence of cards (one per
 * `waitingForCard`, the last repeated) and of PINs (one per `enteringPin`, the last repeated), so a step works whether
 * the terminal asks again within the sale or the cardholder has to start a new one.
 */
import { encodePinBlockFormat0, panFieldFormat0 } from '../../../hal/crypto/pin-block.js';
import { testCard } from '../../../src/card/test-cards.js';

/**
 * The issuer's PIN for the soak's PIN cards, and the wrong PIN a cardholder types first. Twelve digits (the longest
 * PIN) that no amount, STAN, KSN or timestamp of the soak contains, so the leak scan can look for them without false
 * positives; the host simulator's default '1234' would be found in amounts and dates.
 */
export const SOAK_PIN = '739182640517';
export const SOAK_WRONG_PIN = '518206473915';

/** The cards whose PIN the soak's issuer knows as SOAK_PIN. */
export const PIN_CARDS = ['emv-online-pin', 'emv-contactless'] as const;

export type ChipStepKind =
  | 'chip-pin'
  | 'chip-pin-retry'
  | 'tap-no-cvm'
  | 'tap-pin'
  | 'tap-over-limit'
  | 'chip-declined-after-approval'
  | 'chip-removed'
  | 'chip-issuer-script'
  | 'chip-offline'
  | 'chip-fallback'
  | 'chip-bad-mac';

/** The terminal's limits a chip step's amount is drawn against (minor units). */
export interface ChipLimits {
  contactlessCvmLimit: number;
  contactlessTransactionLimit: number;
  /** emv.floorLimit: at or under it a card that may approve offline does (the soak sets it above 0). */
  floorLimit: number;
}

export interface ChipStep {
  cards: readonly string[];
  pins: readonly string[];
  amount: (random: () => number, limits: ChipLimits) => number;
  /** The host's answer to this sale carries a MAC that fails (the terminal must not honour it: reversal). */
  badMac?: boolean;
}

const between = (random: () => number, low: number, high: number) => low + Math.floor(random() * (high - low + 1));
const ordinary = (random: () => number) => between(random, 100, 40_000);

export const CHIP_STEPS: Record<ChipStepKind, ChipStep> = {
  'chip-pin': { cards: ['emv-online-pin'], pins: [SOAK_PIN], amount: ordinary },
  // A 55 for the wrong PIN, then the right one (in the same sale if the terminal asks again, else in the next).
  'chip-pin-retry': { cards: ['emv-online-pin'], pins: [SOAK_WRONG_PIN, SOAK_PIN], amount: ordinary },
  'tap-no-cvm': { cards: ['emv-contactless'], pins: [], amount: (r, l) => between(r, 100, l.contactlessCvmLimit) },
  'tap-pin': {
    cards: ['emv-contactless'],
    pins: [SOAK_PIN],
    amount: (r, l) => between(r, l.contactlessCvmLimit + 1, l.contactlessTransactionLimit),
  },
  // Over the contactless transaction limit the kernel asks for another interface: the card is inserted.
  'tap-over-limit': {
    cards: ['emv-contactless', 'emv-online-pin'],
    pins: [SOAK_PIN],
    amount: (r, l) => between(r, l.contactlessTransactionLimit + 1, l.contactlessTransactionLimit + 30_000),
  },
  'chip-declined-after-approval': { cards: ['emv-decline-after-approval'], pins: [], amount: ordinary },
  'chip-removed': { cards: ['emv-removed'], pins: [], amount: ordinary },
  'chip-issuer-script': { cards: ['emv-issuer-script'], pins: [], amount: ordinary },
  'chip-offline': { cards: ['emv-offline-approve'], pins: [], amount: (r, l) => between(r, 100, l.floorLimit) },
  'chip-fallback': { cards: ['emv-chip-error', 'emv-chip-error-swipe'], pins: [], amount: ordinary },
  'chip-bad-mac': { cards: ['emv-online-pin'], pins: [SOAK_PIN], amount: ordinary, badMac: true },
};

/** The chip steps' share of the soak's mix, in per-mille (taken from ordinary sales). */
export const CHIP_MIX: Array<[ChipStepKind, number]> = [
  ['chip-pin', 25],
  ['chip-pin-retry', 15],
  ['tap-no-cvm', 15],
  ['tap-pin', 15],
  ['tap-over-limit', 5],
  ['chip-declined-after-approval', 10],
  ['chip-removed', 10],
  ['chip-issuer-script', 10],
  ['chip-offline', 10],
  ['chip-fallback', 5],
  ['chip-bad-mac', 10],
];

/** A step's cardholder: the next card at each card prompt, the next PIN at each PIN prompt. */
export class Cardholder {
  private card = 0;
  private pin = 0;

  constructor(
    private readonly cards: readonly string[],
    private readonly pins: readonly string[] = [],
  ) {}

  nextCard(): string {
    return this.cards[Math.min(this.card++, this.cards.length - 1)]!;
  }

  nextPin(): string {
    return this.pins[Math.min(this.pin++, this.pins.length - 1)] ?? SOAK_PIN;
  }

  /** PINs of the sequence not typed yet (a new sale is started for them after a 55). */
  get pinsLeft(): number {
    return Math.max(0, this.pins.length - this.pin);
  }
}

/**
 * The PINs as they could leak: the digits, the clear ISO 9564 format 0 PIN field, and the clear PIN block of each PIN
 * card (the block before encryption), in upper and lower case hex. Only encrypted blocks may ever leave the pad.
 */
export function pinSecrets(): string[] {
  const secrets = new Set<string>();
  for (const pin of [SOAK_PIN, SOAK_WRONG_PIN]) {
    secrets.add(pin);
    for (const name of PIN_CARDS) {
      const pan = testCard(name)!.pan;
      const block = encodePinBlockFormat0(pin, pan);
      const field = Buffer.from(block.map((byte, i) => byte ^ panFieldFormat0(pan)[i]!));
      for (const hex of [block.toString('hex'), field.toString('hex')]) {
        secrets.add(hex.toUpperCase());
        secrets.add(hex.toLowerCase());
      }
    }
  }
  return [...secrets];
}
