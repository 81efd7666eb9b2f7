/**
 * Named test cards for the simulator (`sim.card`) and the demo. The numbers are the acquirer host simulator's
 * documented test cards, so each name has a known outcome.
 */
import type { CardData, EntryMode } from '../../hal/card-reader/contract.js';

interface TestCardSpec {
  pan: string;
  expiry: string;
  serviceCode: string;
  name: string;
  entryMode: EntryMode;
  description: string;
}

const SPECS: Record<string, TestCardSpec> = {
  visa: {
    pan: '4761739001010010',
    expiry: '2812',
    serviceCode: '201',
    name: 'VISA/TEST',
    entryMode: 'chip',
    description: 'approves',
  },
  mastercard: {
    pan: '5413330089020011',
    expiry: '2812',
    serviceCode: '201',
    name: 'MC/TEST',
    entryMode: 'contactless',
    description: 'approves',
  },
  'swipe-visa': {
    pan: '4761739001010010',
    expiry: '2812',
    serviceCode: '101',
    name: 'VISA/TEST',
    entryMode: 'swipe',
    description: 'approves (magnetic stripe)',
  },
  'do-not-honour': {
    pan: '4000000000000507',
    expiry: '2812',
    serviceCode: '201',
    name: 'DECLINE/05',
    entryMode: 'chip',
    description: 'declined 05 do not honour',
  },
  'insufficient-funds': {
    pan: '4000000000005100',
    expiry: '2812',
    serviceCode: '201',
    name: 'DECLINE/51',
    entryMode: 'chip',
    description: 'declined 51 insufficient funds',
  },
  'expired-card': {
    pan: '4000000000005407',
    expiry: '2812',
    serviceCode: '201',
    name: 'DECLINE/54',
    entryMode: 'chip',
    description: 'declined 54 expired card',
  },
  'exceeds-limit': {
    pan: '4000000000006108',
    expiry: '2812',
    serviceCode: '201',
    name: 'DECLINE/61',
    entryMode: 'chip',
    description: 'declined 61 exceeds amount limit',
  },
  'issuer-unavailable': {
    pan: '4000000000009102',
    expiry: '2812',
    serviceCode: '201',
    name: 'DECLINE/91',
    entryMode: 'chip',
    description: 'declined 91 issuer unavailable',
  },
  // Suspected fraud: a chip card (service code 201) swiped without a chip attempt, and a number failing Luhn.
  'chip-swiped': {
    pan: '4761739001010010',
    expiry: '2812',
    serviceCode: '201',
    name: 'VISA/TEST',
    entryMode: 'swipe',
    description: 'chip card swiped: asks for the chip (fallback)',
  },
  'bad-luhn': {
    pan: '4761739001010011',
    expiry: '2812',
    serviceCode: '201',
    name: 'BAD/LUHN',
    entryMode: 'chip',
    description: 'check digit wrong: declined as suspected fraud',
  },
  'stolen-card': {
    pan: '4000000000004301',
    expiry: '2812',
    serviceCode: '201',
    name: 'DECLINE/43',
    entryMode: 'chip',
    description: 'declined 43 stolen card',
  },
};

export const DEFAULT_TEST_CARD = 'visa';

export function testCardNames(): string[] {
  return Object.keys(SPECS);
}

export function describeTestCard(name: string): string | undefined {
  return SPECS[name]?.description;
}

/** The card data a reader would produce for the named test card, or undefined for an unknown name. */
export function testCard(name: string = DEFAULT_TEST_CARD): CardData | undefined {
  const spec = SPECS[name];
  if (!spec) return undefined;
  const track2 = `${spec.pan}=${spec.expiry}${spec.serviceCode}00000000`;
  return {
    entryMode: spec.entryMode,
    pan: spec.pan,
    expiry: spec.expiry,
    serviceCode: spec.serviceCode,
    cardholderName: spec.name,
    ...(spec.entryMode === 'swipe'
      ? { track1: `B${spec.pan}^${spec.name}^${spec.expiry}${spec.serviceCode}0000000000`, track2 }
      : {}),
    ...(spec.entryMode === 'chip' || spec.entryMode === 'contactless' ? { track2 } : {}),
  };
}
