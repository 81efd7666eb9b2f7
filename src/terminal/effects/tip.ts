/**
 * The tip the cardholder types on the PIN pad before the card. Journaled before the card is asked for, with the new
 * total and the tip apart, so what the host is asked and what the journal says never differ.
 */
import { DeviceFaultError } from '../../../hal/fault.js';
import type { TipInput } from '../../transaction/types.js';
import { formatAmount } from '../../vocabulary/index.js';
import type { TransactionDeps } from './deps.js';

export async function enterTip(
  deps: Pick<TransactionDeps, 'pinPad' | 'journal'>,
  input: TipInput,
  signal: AbortSignal,
): Promise<number> {
  const pad = deps.pinPad;
  if (!pad?.requestAmount) throw new DeviceFaultError('pin-pad', 'not-connected', 'no PIN pad with amount entry');
  const tip = await pad.requestAmount({
    promptText: `TIP? ${formatAmount(input.amount, input.currency)}`,
    maxAmount: input.maxTip,
    timeoutMs: input.timeoutMs,
    signal,
  });
  // The pad is a device: what it answers is checked like any device's answer.
  if (!Number.isSafeInteger(tip) || tip < 0 || tip > input.maxTip)
    throw new DeviceFaultError(
      'pin-pad',
      'bad-response',
      `the PIN pad answered a tip of ${tip} (at most ${input.maxTip})`,
    );
  if (tip > 0)
    deps.journal.transactions.recordState(
      input.txnRef,
      'tipEntered',
      { amount: input.amount + tip, tipAmount: tip },
      { tip },
    );
  return tip;
}
