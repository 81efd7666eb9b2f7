/**
 * The chips a simulated reader has met, and the EMV transaction of the card it read last: shared by the mock
 * reader and the card module emulator so both answer with the same card model. A card keeps its state (ATC,
 * blocked application) from one presentation to the next, as a real chip does.
 */
import { cvmList, CVM } from '../emv/cvm.js';
import { DeviceFaultError } from '../fault.js';
import type { CardData, CardReaderFaultCode } from './contract.js';
import { EmvCard, type EmvCardProfile } from './emv-card.js';
import type { EmvCompleteResult, EmvHostAnswer, EmvStartInput, EmvStartResult } from './emv-contract.js';
import { EmvKernel } from './emv-kernel.js';

interface Current {
  chip: EmvCard;
  kernel: EmvKernel;
  contactless: boolean;
}

export class EmvSlot {
  private readonly chips = new Map<string, EmvCard>();
  private current: Current | undefined;

  /** A card was read: a chip or contactless card becomes the one the EMV steps talk to; a swipe ends that. */
  cardRead(card: Pick<CardData, 'entryMode' | 'pan' | 'expiry'>, profile?: EmvCardProfile): void {
    if (card.entryMode !== 'chip' && card.entryMode !== 'contactless') {
      this.current = undefined;
      return;
    }
    const wanted = profile ?? defaultEmvProfile(card.pan, card.expiry);
    const key = `${wanted.pan}/${wanted.panSequenceNumber}`;
    let chip = this.chips.get(key);
    if (!chip || chip.profile.behaviour !== wanted.behaviour) {
      chip = new EmvCard(wanted);
      this.chips.set(key, chip);
    }
    const contactless = card.entryMode === 'contactless';
    this.current = { chip, kernel: new EmvKernel(chip, contactless), contactless };
  }

  /**
   * The first decision. `inserted`: the chip card is still in the reader (a tapped card needs not be: the kernel
   * read it during the tap).
   */
  start(input: EmvStartInput, inserted: boolean): EmvStartResult {
    const current = this.current;
    if (!current) throw fault('read-failed', 'no chip card read for this transaction', { reason: 'no-chip-card' });
    if (!current.contactless && !inserted) throw fault('card-removed', 'card removed before the EMV transaction');
    return current.kernel.start(input);
  }

  /**
   * The second decision. `removeCard` takes a card out of the reader for a card that leaves before completion;
   * a chip card no longer inserted fails 'card-removed'.
   */
  complete(answer: EmvHostAnswer, inserted: boolean, removeCard: () => void): EmvCompleteResult {
    const current = this.current;
    if (!current?.kernel.pending) {
      throw fault('read-failed', 'no EMV transaction to complete', { reason: 'no-emv-transaction' });
    }
    // A card that decided at once (TC or AAC) needs nothing more: it may already have left.
    if (!current.contactless && current.kernel.awaitingSecondDecision) {
      if (current.chip.profile.behaviour === 'remove-before-completion' && inserted) {
        removeCard();
        inserted = false;
      }
      if (!inserted) {
        this.current = undefined;
        throw fault('card-removed', 'card removed before the EMV transaction completed');
      }
    }
    return current.kernel.complete(answer);
  }

  /** The card the EMV steps talk to, for tests (its ATC and state). */
  get chip(): EmvCard | undefined {
    return this.current?.chip;
  }
}

/**
 * The profile of a chip card presented without one: approves online, asks for a signature where the terminal
 * takes one and no CVM otherwise. Its issuer action codes leave an unreachable host to the terminal's default codes
 * and offline rules (Y3 when they allow it), as issuers that accept deferred authorization set them.
 */
export function defaultEmvProfile(pan: string, expiry: string): EmvCardProfile {
  return {
    pan,
    panSequenceNumber: '01',
    expiry,
    aid: pan.startsWith('5') ? 'A0000000041010' : 'A0000000031010',
    aip: '1C00',
    cvmList: cvmList(0, 0, [
      [CVM.signature | CVM.applyNextIfFailed, 0x03],
      [CVM.noCvm, 0x03],
    ]),
    iac: { denial: '0000000000', online: '0000008000', default: '0000000000' },
    offlineAllowed: false,
    behaviour: 'normal',
  };
}

function fault(
  code: CardReaderFaultCode,
  message: string,
  detail?: Record<string, string | number | boolean>,
): DeviceFaultError<CardReaderFaultCode> {
  return new DeviceFaultError('card-reader', code, message, detail);
}
