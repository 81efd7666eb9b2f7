/**
 * Named test cards for the simulator (`sim.card`) and the demo. The numbers are the acquirer host simulator's
 * documented test cards, so each name has a known outcome. The `emv-` cards carry a chip profile for the mock
 * reader's card model (testEmvProfile): one card per branch of an EMV transaction.
 */
import type { CardData, EntryMode } from '../../hal/card-reader/contract.js';
import type { EmvCardBehaviour, EmvCardProfile } from '../../hal/card-reader/emv-card.js';
import { CVM, cvmList } from '../../hal/emv/cvm.js';

interface TestCardSpec {
  pan: string;
  expiry: string;
  serviceCode: string;
  name: string;
  entryMode: EntryMode;
  description: string;
  emv?: EmvSpec;
}

/** The chip of an `emv-` card: its CVM rules, whether it approves offline, and its behaviour. */
interface EmvSpec {
  cvm: 'signature' | 'online-pin';
  offline?: boolean;
  behaviour?: EmvCardBehaviour;
}

const emvCard = (
  pan: string,
  entryMode: EntryMode,
  description: string,
  emv: EmvSpec,
  name = 'EMV/TEST',
): TestCardSpec => ({ pan, expiry: '2812', serviceCode: '201', name, entryMode, description, emv });

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
  // One card per branch of an EMV transaction (the host simulator approves any Luhn-valid number it does not list).
  'emv-online-approve': emvCard('4761739001020019', 'chip', 'ARQC, host approves, ARPC checked, TC', {
    cvm: 'signature',
  }),
  'emv-online-decline': emvCard('4000000000000507', 'chip', 'ARQC, host declines 05, the card is told: AAC', {
    cvm: 'signature',
  }),
  'emv-decline-after-approval': emvCard('4761739001020027', 'chip', 'host approves, the card answers AAC', {
    cvm: 'signature',
    behaviour: 'decline-after-approval',
  }),
  'emv-issuer-script': emvCard('4761739001020035', 'chip', 'host approves with an issuer script; results in 9F5B', {
    cvm: 'signature',
  }),
  'emv-offline-approve': emvCard('4761739001020043', 'chip', 'TC at the first decision within the floor limit', {
    cvm: 'signature',
    offline: true,
  }),
  'emv-removed': emvCard('4761739001020050', 'chip', 'card removed before completion: reversal', {
    cvm: 'signature',
    behaviour: 'remove-before-completion',
  }),
  'emv-chip-error': emvCard('4761739001020068', 'chip', 'chip failure: swipe the card instead', {
    cvm: 'signature',
    behaviour: 'chip-error',
  }),
  'emv-chip-error-swipe': emvCard('4761739001020068', 'fallback-swipe', 'the chip-error card swiped after it', {
    cvm: 'signature',
  }),
  'emv-online-pin': emvCard('4761739001020076', 'chip', 'CVM list asks for online PIN', { cvm: 'online-pin' }),
  'emv-signature': emvCard('4761739001010010', 'chip', 'CVM list asks for a signature', { cvm: 'signature' }),
  'emv-contactless': emvCard(
    '5413330089020102',
    'contactless',
    'tapped: no CVM at or under the contactless CVM limit, online PIN over it',
    { cvm: 'online-pin' },
    'EMV/TAP',
  ),
};

/** Offline approvals only within the floor limit: the issuer sends TVR "floor limit exceeded" online. */
const OFFLINE_IAC = { denial: '0000000000', online: '0000008000', default: '0000000000' };

/** The chip profile of an `emv-` test card for MockCardReader.present(card, { emv }), or undefined for others. */
export function testEmvProfile(name: string): EmvCardProfile | undefined {
  const spec = SPECS[name];
  if (!spec?.emv) return undefined;
  const { cvm, offline = false, behaviour = 'normal' } = spec.emv;
  const rules: ReadonlyArray<readonly [number, number]> =
    cvm === 'online-pin'
      ? [
          [CVM.onlinePin | CVM.applyNextIfFailed, 0x03],
          [CVM.signature | CVM.applyNextIfFailed, 0x03],
          [CVM.noCvm, 0x03],
        ]
      : [
          [CVM.signature | CVM.applyNextIfFailed, 0x03],
          [CVM.noCvm, 0x03],
        ];
  return {
    pan: spec.pan,
    panSequenceNumber: '01',
    expiry: spec.expiry,
    aid: spec.pan.startsWith('5') ? 'A0000000041010' : 'A0000000031010',
    aip: '1C00',
    cvmList: cvmList(0, 0, rules),
    ...(offline ? { iac: OFFLINE_IAC } : {}),
    offlineAllowed: offline,
    behaviour,
  };
}

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
    ...(spec.entryMode === 'swipe' || spec.entryMode === 'fallback-swipe'
      ? { track1: `B${spec.pan}^${spec.name}^${spec.expiry}${spec.serviceCode}0000000000`, track2 }
      : {}),
    ...(spec.entryMode === 'chip' || spec.entryMode === 'contactless' ? { track2 } : {}),
  };
}
