/**
 * The host's holds (hospitality): a 0100 holds its amount on the card (no money moves), an 0100 naming it in field 90
 * adds to the hold, a completion (0220 advice, or 0200) naming it captures the final amount (the money moves, once),
 * a reversal of an 0100 releases what it held, and a 0220 naming a 0200 sale adjusts its tip (the difference moves).
 * Each hold is found by the terminal id and the STAN of its 0100, as field 90 names it.
 */
import { buildResponse, isApprovedClass, type IsoMessage, MTI, tipOf } from '../iso8583/index.js';
import type { Processed } from './books.js';
import { text } from './messages.js';

export interface HoldTotals {
  /** Holds open now: how many and how much is held (increments included). */
  open: { count: number; amount: number };
  /** Completions taken: the money they moved, and of it the tips. */
  captured: { count: number; amount: number; tips: number };
  /** Holds (or increments) released by a reversal, with the amount released. */
  released: { count: number; amount: number };
  /** Tip adjustments of sales: the money they moved. */
  tipAdjustments: { count: number; amount: number };
}

interface Hold {
  held: number;
  state: 'open' | 'captured' | 'released';
}

/** What field 90 names: the original's MTI and STAN. */
function originalNamed(request: IsoMessage): { mti: string; stan: string } | undefined {
  const f90 = text(request, 90);
  return f90 && f90.length >= 10 ? { mti: f90.slice(0, 4), stan: f90.slice(4, 10) } : undefined;
}

/** A message of the hospitality flows, by MTI and the original field 90 names. */
export type HoldMessage = 'hold' | 'increment' | 'completion' | 'tip-adjust' | 'release';

export function holdMessageOf(request: IsoMessage): HoldMessage | undefined {
  const named = originalNamed(request);
  switch (request.mti) {
    case MTI.authRequest:
      return named?.mti === MTI.authRequest ? 'increment' : 'hold';
    case MTI.financialRequest:
    case MTI.advice:
    case MTI.adviceRepeat:
      if (named?.mti === MTI.authRequest) return 'completion';
      return named?.mti === MTI.financialRequest && request.mti !== MTI.financialRequest ? 'tip-adjust' : undefined;
    case MTI.reversal:
    case MTI.reversalRepeat:
      return named?.mti === MTI.authRequest ? 'release' : undefined;
    default:
      return undefined;
  }
}

export class HostHolds {
  private readonly holds = new Map<string, Hold>();
  /** Increment key → the hold it added to, and how much. */
  private readonly increments = new Map<string, { hold: string; amount: number; released: boolean }>();
  /** Completion key → the hold it captured, what it captured and the tip within, so its reversal can reopen it. */
  private readonly completions = new Map<string, { hold: string; amount: number; tip: number }>();
  private readonly state: HoldTotals = {
    open: { count: 0, amount: 0 },
    captured: { count: 0, amount: 0, tips: 0 },
    released: { count: 0, amount: 0 },
    tipAdjustments: { count: 0, amount: 0 },
  };

  totals(): HoldTotals {
    const t = this.state;
    return {
      open: { ...t.open },
      captured: { ...t.captured },
      released: { ...t.released },
      tipAdjustments: { ...t.tipAdjustments },
    };
  }

  /** The amount held now under the 0100 of this STAN (0 when none or closed). */
  heldOf(terminalId: string, stan: number): number {
    const hold = this.holds.get(`${terminalId}/${String(stan).padStart(6, '0')}/financial`);
    return hold?.state === 'open' ? hold.held : 0;
  }

  /**
   * Answers one hospitality message. `decided` is the code the rules (or a told answer) give; a message naming a hold
   * that is not open is refused 12 (invalid transaction), so nothing is captured twice. `sale` finds a tip adjust's sale.
   */
  answer(
    message: HoldMessage,
    request: IsoMessage,
    terminalId: string,
    amount: number,
    decided: string,
    sale: (key: string) => Processed | undefined,
    codes: { approvalCode: () => string; rrn: () => string },
  ): Processed & { held?: number } {
    const named = originalNamed(request);
    const stan = text(request, 11) ?? '';
    const ownKey = `${terminalId}/${stan}/financial`;
    const namedKey = named ? `${terminalId}/${named.stan}/financial` : '';
    const hold = this.holds.get(namedKey);
    let code = decided;
    if ((message === 'increment' || message === 'completion') && hold?.state !== 'open') code = '12';
    const original = message === 'tip-adjust' ? sale(namedKey) : undefined;
    if (message === 'tip-adjust' && (!original?.approved || original.reversed || original.voided)) code = '12';
    const approved = isApprovedClass(code);
    const answered = (moved: number, extra: { held?: number } = {}): Processed & { held?: number } => {
      const response = buildResponse(request, {
        responseCode: code,
        ...(approved && message !== 'release' ? { approvalCode: codes.approvalCode(), rrn: codes.rrn() } : {}),
      });
      return { response, amount, approved, reversed: false, kind: 'sale', net: moved, moved, ...extra };
    };
    if (!approved) return answered(0);
    switch (message) {
      case 'hold':
        this.holds.set(ownKey, { held: amount, state: 'open' });
        this.state.open.count += 1;
        this.state.open.amount += amount;
        return answered(0, { held: amount });
      case 'increment':
        hold!.held += amount;
        this.increments.set(ownKey, { hold: namedKey, amount, released: false });
        this.state.open.amount += amount;
        return answered(0, { held: hold!.held });
      case 'completion': {
        const tip = tipOf(text(request, 54));
        hold!.state = 'captured';
        this.completions.set(ownKey, { hold: namedKey, amount, tip });
        this.state.open.count -= 1;
        this.state.open.amount -= hold!.held;
        this.state.captured.count += 1;
        this.state.captured.amount += amount;
        this.state.captured.tips += tip;
        return answered(amount);
      }
      case 'tip-adjust': {
        // The advice carries the sale's new total: what moves is the difference, and a void takes back all of it.
        const delta = Math.max(0, amount - original!.moved);
        original!.moved += delta;
        original!.net += delta;
        this.state.tipAdjustments.count += 1;
        this.state.tipAdjustments.amount += delta;
        return answered(delta);
      }
      case 'release':
        return answered(0, { held: this.release(terminalId, named!.stan) });
    }
  }

  /**
   * A reversal took back the completion of this STAN (a 0200 completion the terminal could not finish): the capture
   * did not happen, so the hold is open again, as it was, for a later completion or its release.
   */
  reopenCompleted(terminalId: string, completionStan: string): void {
    const key = `${terminalId}/${completionStan}/financial`;
    const completion = this.completions.get(key);
    const hold = completion && this.holds.get(completion.hold);
    if (!completion || hold?.state !== 'captured') return;
    this.completions.delete(key);
    hold.state = 'open';
    this.state.captured.count -= 1;
    this.state.captured.amount -= completion.amount;
    this.state.captured.tips -= completion.tip;
    this.state.open.count += 1;
    this.state.open.amount += hold.held;
  }

  /** Releases the hold of this 0100 STAN (or the increment it was); returns what stays held after it. */
  private release(terminalId: string, stan: string): number {
    const key = `${terminalId}/${stan}/financial`;
    const hold = this.holds.get(key);
    if (hold?.state === 'open') {
      hold.state = 'released';
      this.state.open.count -= 1;
      this.state.open.amount -= hold.held;
      this.state.released.count += 1;
      this.state.released.amount += hold.held;
      return 0;
    }
    const increment = this.increments.get(key);
    const of = increment && this.holds.get(increment.hold);
    if (increment && !increment.released && of?.state === 'open') {
      increment.released = true;
      of.held -= increment.amount;
      this.state.open.amount -= increment.amount;
      this.state.released.count += 1;
      this.state.released.amount += increment.amount;
      return of.held;
    }
    return 0;
  }
}
