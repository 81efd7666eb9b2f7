/** The simulator's ledger: one entry per message received and sent, in memory and/or as JSON lines in a file. */
import { appendFileSync } from 'node:fs';
import type { Clock } from '../../hal/clock.js';
import { type IsoMessage, MTI, tipOf } from '../iso8583/index.js';
import { maskPan } from '../util/pan.js';
import { text } from './messages.js';
import type { LedgerEntry } from './types.js';

/** What the ledger says of a message besides when and which way. */
export type LedgerFacts = Omit<LedgerEntry, 'at' | 'dir'>;

export class HostLedger {
  readonly entries: LedgerEntry[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly options: { keepLedger?: boolean; ledgerPath?: string },
  ) {}

  record(entry: Omit<LedgerEntry, 'at'>): void {
    const full: LedgerEntry = { at: new Date(this.clock.now()).toISOString(), ...entry };
    if (this.options.keepLedger ?? true) this.entries.push(full);
    if (this.options.ledgerPath) appendFileSync(this.options.ledgerPath, `${JSON.stringify(full)}\n`);
  }
}

/** The facts of a request as received (the PAN masked). */
export function requestFacts(request: IsoMessage): LedgerFacts {
  const stan = text(request, 11);
  const terminalId = text(request, 41)?.trim();
  const amount = text(request, 4) !== undefined ? Number(text(request, 4)) : undefined;
  return {
    mti: request.mti,
    ...(stan !== undefined ? { stan } : {}),
    ...(terminalId !== undefined ? { terminalId } : {}),
    ...(amount !== undefined ? { amount } : {}),
    ...(text(request, 49) !== undefined ? { currency: text(request, 49)! } : {}),
    ...(text(request, 2) !== undefined ? { pan: maskPan(text(request, 2))! } : {}),
    ...(text(request, 3) !== undefined ? { processingCode: text(request, 3)! } : {}),
    ...(text(request, 22) !== undefined ? { posEntryMode: text(request, 22)! } : {}),
    // Field 54's tip (amount type 44), as the host read it.
    ...(tipOf(text(request, 54)) > 0 ? { tipAmount: tipOf(text(request, 54)) } : {}),
  };
}

/** The entry of an answer to a request with these facts; a repeat's answer moves nothing. */
export function answerEntry(
  response: IsoMessage,
  request: LedgerFacts,
  duplicate: boolean,
  movedAmount: number,
): Omit<LedgerEntry, 'at'> {
  return {
    dir: 'out',
    mti: response.mti,
    ...(request.stan !== undefined ? { stan: request.stan } : {}),
    ...(request.terminalId !== undefined ? { terminalId: request.terminalId } : {}),
    ...(request.amount !== undefined ? { amount: request.amount } : {}),
    ...(request.currency !== undefined ? { currency: request.currency } : {}),
    responseCode: text(response, 39) ?? '',
    ...(request.processingCode !== undefined ? { processingCode: request.processingCode } : {}),
    ...(request.mti !== MTI.networkRequest ? { movedAmount: duplicate ? 0 : movedAmount } : {}),
    ...(request.heldAmount !== undefined ? { heldAmount: request.heldAmount } : {}),
    ...(duplicate ? { duplicate: true } : {}),
    ...(request.field55 !== undefined ? { field55: request.field55 } : {}),
    ...(request.cryptogramValid !== undefined ? { cryptogramValid: request.cryptogramValid } : {}),
    ...(request.pinPresent !== undefined ? { pinPresent: request.pinPresent } : {}),
    ...(request.pinVerified !== undefined ? { pinVerified: request.pinVerified } : {}),
    ...(request.verification !== undefined ? { verification: request.verification } : {}),
  };
}
