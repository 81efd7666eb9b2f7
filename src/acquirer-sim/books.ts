/**
 * The host's books: every request it processed (to answer repeats the same and to find a void's original), the
 * approval codes and RRNs it handed out, and the money that moved. Money moves only on an approved-class answer.
 */
import { buildResponse, isApprovedClass, type IsoMessage } from '../iso8583/index.js';
import { type FinancialKind, kindOf, text } from './messages.js';
import type { HostTotals, ResponseOverride } from './types.js';

/** One processed request and what it did. */
export interface Processed {
  response: IsoMessage;
  amount: number;
  approved: boolean;
  reversed: boolean;
  kind?: FinancialKind;
  /** What it added to the net (negative for a refund or a void); a reversal takes exactly this back. */
  net: number;
  moved: number;
  rrn?: string;
  voided?: boolean;
  /** A void: the key of the original it cancelled. */
  voidOf?: string;
}

const RECORD_LIMIT = 250_000;

export class HostBooks {
  private readonly processed = new Map<string, Processed>();
  private approvalCounter = 0;
  private readonly totalsState: HostTotals = {
    approvedCount: 0,
    approvedAmount: 0,
    reversedCount: 0,
    adviceCount: 0,
    adviceAmount: 0,
    duplicates: 0,
    sales: { count: 0, amount: 0 },
    refunds: { count: 0, amount: 0 },
    voids: { count: 0, amount: 0 },
    reversals: { count: 0, amount: 0 },
    advices: { count: 0, amount: 0 },
    netAmount: 0,
  };
  /** terminal id/RRN → key of the financial request that got it, so a void can name its original by RRN. */
  private readonly byRrn = new Map<string, string>();

  /** maxRemembered: how many processed requests are remembered to answer repeats. */
  constructor(private readonly maxRemembered = RECORD_LIMIT) {}

  totals(): HostTotals {
    const t = this.totalsState;
    return {
      ...t,
      sales: { ...t.sales },
      refunds: { ...t.refunds },
      voids: { ...t.voids },
      reversals: { ...t.reversals },
      advices: { ...t.advices },
    };
  }

  /** The processing of an earlier request under this key (terminal/STAN/class), if remembered. */
  earlier(key: string): Processed | undefined {
    return this.processed.get(key);
  }

  /** A repeat was answered from the books. */
  countDuplicate(): void {
    this.totalsState.duplicates += 1;
  }

  /** An echo, sign-on or key change: nothing moves. */
  network(request: IsoMessage, responseCode: string, transmittedAt: Date): Processed {
    const response = buildResponse(request, { responseCode, transmittedAt });
    // An echo (301), sign-on or key change is named in field 70: the answer says which one it answers.
    if (text(request, 70) !== undefined) response.fields[70] = text(request, 70)!;
    return { response, amount: 0, approved: false, reversed: false, net: 0, moved: 0 };
  }

  /** A 0200/0100 by field 3: a sale or refund moves its (approved) amount, a void cancels its original. */
  financial(request: IsoMessage, terminalId: string, amount: number, told: ResponseOverride): Processed {
    const kind = kindOf(text(request, 3));
    let responseCode = told.responseCode;
    let original: Processed | undefined;
    let originalKey: string | undefined;
    if (kind === 'void') {
      originalKey = this.originalOf(request, terminalId);
      original = originalKey !== undefined ? this.processed.get(originalKey) : undefined;
      // Unknown original: 25 (no record); one already voided or reversed: 12 (invalid transaction). Never twice.
      if (!original?.approved || original.kind === 'void') responseCode = '25';
      else if (original.voided || original.reversed) responseCode = '12';
    }
    const approved = isApprovedClass(responseCode);
    const partial = approved && responseCode === '10' && kind !== 'void';
    const moved = !approved
      ? 0
      : kind === 'void'
        ? original!.moved
        : partial
          ? Math.min(amount, told.approvedAmount ?? Math.max(1, Math.floor(amount / 2)))
          : amount;
    const approvalCode = approved ? this.nextApprovalCode() : undefined;
    const rrn = approved ? this.nextRrn() : undefined;
    const response = buildResponse(request, {
      responseCode,
      ...(approved ? { approvalCode: approvalCode!, rrn: rrn! } : {}),
    });
    // A partial approval says what it approved in field 4.
    if (partial) response.fields[4] = String(moved).padStart(12, '0');
    const net = !approved ? 0 : kind === 'sale' ? moved : -moved;
    if (approved) {
      this.totalsState.approvedCount += 1;
      this.totalsState.approvedAmount += moved;
      const bucket =
        kind === 'sale'
          ? this.totalsState.sales
          : kind === 'refund'
            ? this.totalsState.refunds
            : this.totalsState.voids;
      bucket.count += 1;
      bucket.amount += moved;
      this.totalsState.netAmount += net;
      if (original) original.voided = true;
      this.byRrn.set(`${terminalId}/${rrn}`, `${terminalId}/${text(request, 11) ?? ''}/financial`);
    }
    return {
      response,
      amount,
      approved,
      reversed: false,
      kind,
      net,
      moved,
      ...(rrn ? { rrn } : {}),
      ...(original && approved ? { voidOf: originalKey! } : {}),
    };
  }

  /**
   * The original a void names: by STAN in private field 62, by RRN in field 37, or by field 90's STAN. An offline
   * sale reached the host as an advice (0220), so its advice is the original then.
   */
  private originalOf(request: IsoMessage, terminalId: string): string | undefined {
    const byStan = (text(request, 62) ?? text(request, 90)?.slice(4, 10))?.padStart(6, '0');
    for (const cls of ['financial', 'advice'] as const) {
      if (byStan !== undefined && this.processed.has(`${terminalId}/${byStan}/${cls}`))
        return `${terminalId}/${byStan}/${cls}`;
    }
    const rrn = text(request, 37)?.trim();
    return rrn
      ? (this.byRrn.get(`${terminalId}/${rrn.padStart(12, '0')}`) ?? this.byRrn.get(`${terminalId}/${rrn}`))
      : undefined;
  }

  advice(request: IsoMessage, terminalId: string, amount: number, responseCode: string): Processed {
    const approved = isApprovedClass(responseCode);
    const approvalCode = approved ? this.nextApprovalCode() : undefined;
    const rrn = approved ? this.nextRrn() : undefined;
    const response = buildResponse(request, {
      responseCode,
      ...(approved ? { approvalCode: approvalCode!, rrn: rrn! } : {}),
    });
    if (approved) {
      this.byRrn.set(`${terminalId}/${rrn}`, `${terminalId}/${text(request, 11) ?? ''}/advice`);
      this.totalsState.adviceCount += 1;
      this.totalsState.adviceAmount += amount;
      this.totalsState.advices.count += 1;
      this.totalsState.advices.amount += amount;
      this.totalsState.netAmount += amount;
    }
    return {
      response,
      amount,
      approved,
      reversed: false,
      kind: kindOf(text(request, 3)),
      net: approved ? amount : 0,
      moved: approved ? amount : 0,
      ...(rrn ? { rrn } : {}),
    };
  }

  /** Takes back what the original moved, once, and only when the answer is a success. */
  reversal(request: IsoMessage, terminalId: string, stan: string | undefined, responseCode: string): Processed {
    const originalStan = text(request, 90)?.slice(4, 10) ?? stan ?? '';
    const original = this.processed.get(`${terminalId}/${originalStan}/financial`);
    const acknowledged = isApprovedClass(responseCode);
    let moved = 0;
    if (acknowledged && original?.approved && !original.reversed) {
      original.reversed = true;
      moved = original.moved;
      this.totalsState.approvedCount -= 1;
      this.totalsState.approvedAmount -= original.moved;
      this.totalsState.reversedCount += 1;
      this.totalsState.reversals.count += 1;
      this.totalsState.reversals.amount += original.moved;
      this.totalsState.netAmount -= original.net;
      // A reversed void gives its original back.
      if (original.voidOf) {
        const voided = this.processed.get(original.voidOf);
        if (voided) voided.voided = false;
      }
    }
    // Acknowledged even when the original never arrived: the terminal only needs to know the host has it.
    return {
      response: buildResponse(request, { responseCode }),
      amount: 0,
      approved: acknowledged,
      reversed: false,
      net: 0,
      moved,
    };
  }

  remember(key: string, processed: Processed): void {
    this.processed.set(key, processed);
    if (this.processed.size > this.maxRemembered) this.processed.delete(this.processed.keys().next().value as string);
  }

  /** Money a completion or a tip adjustment moved (a hold moves none): it counts in the net. */
  moveCaptured(amount: number): void {
    this.totalsState.netAmount += amount;
  }

  nextApprovalCode(): string {
    this.approvalCounter += 1;
    return `A${String(this.approvalCounter % 100_000).padStart(5, '0')}`;
  }

  nextRrn(): string {
    return String(this.approvalCounter).padStart(12, '0');
  }
}
