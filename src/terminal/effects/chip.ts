/**
 * The chip's part of a sale, through the reader's EMV kernel: the card's first decision, the PIN on the PIN pad, and
 * the card's second decision on the host's answer. The approval's stored reversal stays armed until the card has
 * answered TC: an AAC, a card taken out or a chip that fails makes it owed, so no money stays taken for a sale the card
 * refused (and a crash meanwhile reverses it at boot).
 */
import { randomBytes } from 'node:crypto';
import { hasEmvKernel } from '../../../hal/card-reader/contract.js';
import type { EmvCompleteResult } from '../../../hal/card-reader/emv-contract.js';
import { issuerDataFrom } from '../../../hal/emv/index.js';
import { DeviceFaultError, isDeviceFault } from '../../../hal/fault.js';
import { REVERSAL_REASON } from '../../iso8583/index.js';
import type { SensitiveCard } from '../../card/sensitive-card.js';
import type {
  Authorization,
  ChipCompleteInput,
  ChipCompletion,
  ChipStart,
  ChipStartInput,
  PinInput,
} from '../../transaction/types.js';
import { formatAmount } from '../../vocabulary/index.js';
import type { TransactionDeps } from './deps.js';

type ChipDeps = Pick<TransactionDeps, 'reader' | 'pinPad' | 'emv' | 'clock' | 'journal' | 'forwarder' | 'log'>;

function kernelOf(deps: ChipDeps) {
  if (!hasEmvKernel(deps.reader) || !deps.emv)
    throw new DeviceFaultError('card-reader', 'chip-error', 'the reader has no EMV kernel');
  return { reader: deps.reader, emv: deps.emv };
}

/** 9A: the terminal's date, YYMMDD. */
function emvDate(now: number): string {
  return new Date(now).toISOString().slice(2, 10).replace(/-/g, '');
}

export async function startChip(deps: ChipDeps, input: ChipStartInput): Promise<ChipStart> {
  const { reader, emv } = kernelOf(deps);
  const contactless = input.card.summary.entryMode === 'contactless';
  const result = await reader.emvStart({
    amount: input.amount,
    currencyNumeric: Number(input.currency),
    countryNumeric: Number(emv.countryCode),
    transactionType: '00',
    date: emvDate(deps.clock.now()),
    unpredictableNumber: randomBytes(4),
    // Without a PIN pad the terminal cannot capture an online PIN: byte 2 bit 7 is cleared so the kernel moves on.
    terminalCapabilities: deps.pinPad ? emv.terminalCapabilities : withoutOnlinePin(emv.terminalCapabilities),
    terminalType: emv.terminalType,
    floorLimit: emv.floorLimit,
    tac: emv.tac,
    ...(contactless
      ? {
          contactlessCvmLimit: emv.contactlessCvmLimit,
          contactlessTransactionLimit: emv.contactlessTransactionLimit,
        }
      : {}),
  });
  return {
    decision: result.decision,
    cvm: result.cvm,
    ...(result.reason ? { reason: result.reason } : {}),
    card: input.card.withIccData(result.iccData),
  };
}

function withoutOnlinePin(capabilities: string): string {
  const bytes = Buffer.from(capabilities, 'hex');
  bytes[1] = (bytes[1] ?? 0) & ~0x40;
  return bytes.toString('hex').toUpperCase();
}

export async function enterPin(deps: ChipDeps, input: PinInput, signal: AbortSignal): Promise<SensitiveCard> {
  const { pinPad, emv } = deps;
  if (!pinPad || !emv) throw new DeviceFaultError('pin-pad', 'not-connected', 'no PIN pad attached');
  const pin = await pinPad.requestPin({
    pan: input.card.reveal().pan,
    amountText: formatAmount(input.amount, input.currency),
    format: emv.pinBlockFormat,
    minLength: 4,
    maxLength: 12,
    timeoutMs: emv.pinTimeoutMs,
    signal,
  });
  // A block the 0200 cannot carry as it is must not become a sale sent without its PIN.
  const sizes = PIN_BLOCK_SIZES[emv.pinBlockFormat];
  if (pin.format !== emv.pinBlockFormat || pin.pinBlock.length !== sizes.block || pin.ksn.length !== sizes.ksn)
    throw new DeviceFaultError(
      'pin-pad',
      'bad-response',
      `the PIN pad answered a format ${pin.format} block of ${pin.pinBlock.length} bytes (KSN ${pin.ksn.length}); format ${emv.pinBlockFormat} was asked`,
    );
  return input.card.withPin({ pinBlock: pin.pinBlock, ksn: pin.ksn, format: pin.format });
}

/** ISO 9564 format 0 under TDES DUKPT (KSN 10 bytes); format 4 under AES DUKPT (KSN 12 bytes). */
const PIN_BLOCK_SIZES = { 0: { block: 8, ksn: 10 }, 4: { block: 16, ksn: 12 } } as const;

/** The host's answer to the card; settles the stored reversal of an approval by the card's decision. */
export async function completeChip(deps: ChipDeps, input: ChipCompleteInput): Promise<ChipCompletion> {
  const { authorization, txnRef } = input;
  let result: EmvCompleteResult;
  try {
    const { reader } = kernelOf(deps);
    result = await reader.emvComplete({
      hostReached: true,
      hostDecision: authorization.approved ? 'approved' : 'declined',
      authorizationResponseCode: authorization.responseCode.slice(0, 2).padEnd(2, ' '),
      ...issuerData(deps, authorization, txnRef),
    });
  } catch (err) {
    // The card left (or the chip failed) before it decided: an approval cannot stand.
    const reason = isDeviceFault(err) ? `${err.code}: ${err.message}` : String(err);
    if (authorization.approved) owe(deps, txnRef, `card did not complete (${reason})`);
    return { decision: 'AAC', interrupted: true, reason, card: input.card };
  }
  const card = input.card.withIccData(result.iccData);
  if (!authorization.approved) return { decision: result.decision, ...reasonOf(result), card };
  if (result.decision === 'TC') {
    // The card kept the approval: the stored reversal is cleared now, in the commit that says so.
    deps.journal.recordAuthorization(txnRef, 'cardApproved', {});
    return { decision: 'TC', card };
  }
  owe(deps, txnRef, `the card declined the approval (${result.reason ?? 'AAC'})`);
  return { decision: 'AAC', ...reasonOf(result), card };
}

/**
 * The host cannot be asked for an online chip sale: the card decides by the default action codes (Y3 or Z3).
 * Undefined: the card approved (the offline rules decide next); otherwise the card's decline.
 */
export async function unableToGoOnline(
  deps: ChipDeps,
  card: SensitiveCard,
): Promise<{ card: SensitiveCard; declined?: string }> {
  try {
    const { reader } = kernelOf(deps);
    const result = await reader.emvComplete({ hostReached: false });
    const completed = card.withIccData(result.iccData);
    return result.decision === 'TC'
      ? { card: completed }
      : { card: completed, declined: `declined by the card, host unreachable (${result.authorizationResponseCode})` };
  } catch (err) {
    return { card, declined: `the card did not complete: ${isDeviceFault(err) ? err.code : String(err)}` };
  }
}

function reasonOf(result: EmvCompleteResult): { reason?: string } {
  return result.reason ? { reason: result.reason } : {};
}

function owe(deps: ChipDeps, txnRef: string, reason: string): void {
  deps.journal.reversals.markPending(txnRef, reason, { reasonCode: REVERSAL_REASON.malfunction });
  deps.forwarder?.kick();
}

/** Tags 91, 71 and 72 of the host's field 55; a field 55 that does not parse gives the card nothing (it will decline). */
function issuerData(deps: ChipDeps, authorization: Authorization, txnRef: string) {
  if (!authorization.issuerData) return {};
  try {
    return issuerDataFrom(authorization.issuerData);
  } catch (err) {
    deps.log.warn({ txnRef, reason: (err as Error).message }, "the host's field 55 does not parse");
    return {};
  }
}
