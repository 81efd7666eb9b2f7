/**
 * The soak's mix: the kinds of step with their share, the amounts that make the host simulator misbehave, the cards
 * the host declines, and what the leak scan looks for.
 */
import { testCard, testCardNames } from '../../../src/card/test-cards.js';
import { CHIP_MIX, type ChipStepKind, pinSecrets } from './chip-steps.js';

export type StepKind =
  | ChipStepKind
  | 'sale'
  | 'decline'
  | 'refund'
  | 'void'
  | 'duplicate'
  | 'host-timeout'
  | 'host-delay'
  | 'link-drop'
  | 'garbled'
  | 'late'
  | 'twice'
  | 'wrong-amount'
  | 'printer-fault'
  | 'read-failure'
  | 'cancel'
  | 'offline-period'
  | 'broker-outage';

/**
 * The mix, in per-mille. Offline periods and broker outages start a stretch of ordinary sales (chip steps go on while
 * only the broker is down).
 */
export const MIX: Array<[StepKind, number]> = [
  ['sale', 430],
  ...CHIP_MIX,
  ['decline', 60],
  ['refund', 30],
  ['void', 20],
  ['duplicate', 10],
  ['host-timeout', 35],
  ['host-delay', 15],
  ['link-drop', 25],
  ['garbled', 25],
  ['late', 15],
  ['twice', 15],
  ['wrong-amount', 10],
  ['printer-fault', 40],
  ['read-failure', 40],
  ['cancel', 30],
  ['offline-period', 40],
  ['broker-outage', 40],
];

/** Host simulator amounts that make it misbehave (minor units). */
export const HOST_AMOUNT: Partial<Record<StepKind, number>> = {
  'host-delay': 200_001,
  'host-timeout': 200_002,
  'link-drop': 200_003,
  garbled: 200_004,
  late: 200_005,
  twice: 200_006,
  'wrong-amount': 200_008,
};

export const DECLINE_CARDS = [
  'insufficient-funds',
  'do-not-honour',
  'expired-card',
  'exceeds-limit',
  'issuer-unavailable',
];

/**
 * Card data of every test card as it could leak: PAN, tracks, the PAN-then-separator of track 2, and the PINs the
 * soak's cardholders type (chip-steps.ts).
 */
export function cardSecrets(): string[] {
  return [
    ...testCardNames().flatMap((name) => {
      const card = testCard(name)!;
      return [card.pan, card.track2, card.track1, `${card.pan}=`].filter((s): s is string => Boolean(s));
    }),
    ...pinSecrets(),
  ];
}

/** The soak's chip limits: cards that may approve offline do so at or under 30.00. */
export const SOAK_EMV_FLOOR_LIMIT = 3_000;
