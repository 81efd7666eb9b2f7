/**
 * When the host cannot be asked: approve offline within the configured limits (the advice queued for later, card data
 * sealed), or decline locally saying why. A void of an offline sale is settled against its queued advice.
 */
import { decideOffline as decideOfflinePolicy, offlineApprovalCode } from '../../durability/offline-policy.js';
import type { Authorization, AuthorizeInput } from '../../transaction/types.js';
import type { TransactionDeps } from './deps.js';
import { financialRequestFor } from './request.js';

/**
 * Why the host is not asked at all: the network is known to be down. (A host link that is merely down is tried:
 * the attempt reconnects at once and fails fast when the host refuses.)
 */
export function offlineReason(deps: TransactionDeps): string | undefined {
  if (deps.network?.current().link === 'down') return 'network link down';
  // A host that stopped answering would cost this sale its full response timeout too.
  return deps.hostAvailability?.isDown() ? 'host not answering' : undefined;
}

/**
 * A void must never reach the host before the advice of the offline sale it cancels. An advice that never left is
 * cancelled with the void in one commit, so neither reaches the host; one that may have left is forwarded first,
 * and while it cannot be the void is declined. Undefined when nothing of the original is owed: the void goes online.
 */
export async function voidOfOfflineSale(
  deps: TransactionDeps,
  input: AuthorizeInput,
): Promise<Authorization | undefined> {
  const { journal } = deps;
  const original = input.original!;
  // A pass in flight may be sending that very advice: only once it is over does attempts === 0 mean "never left".
  await deps.forwarder?.idle();
  const advice = journal.saf.forTransaction(original.txnRef);
  if (!advice || advice.state === 'forwarded' || advice.state === 'set-aside') return undefined;
  const refuse = (why: string): Authorization => ({
    responseCode: 'Z3',
    responseText: why,
    approved: false,
    offline: true,
  });
  if (advice.state === 'cancelled') return refuse('the offline sale was already voided');
  if (advice.attempts === 0) {
    const stan = journal.counters.nextStan();
    const approvalCode = offlineApprovalCode(stan);
    journal.cancelAdviceForVoid(input.txnRef, advice.id, 'authorized', { stan, responseCode: 'Y1', approvalCode });
    return {
      stan,
      responseCode: 'Y1',
      responseText: 'voided locally: the offline sale had not been sent to the host',
      approved: true,
      offline: true,
      approvalCode,
    };
  }
  const forwarded =
    !offlineReason(deps) && deps.forwarder ? await deps.forwarder.forwardAdviceOf(original.txnRef) : false;
  return forwarded
    ? undefined
    : refuse('the offline sale is still owed to the host; void it once it has been forwarded');
}

/** The host cannot be asked: approve offline within the configured limits, or decline locally saying why. */
export function decideOffline(
  deps: TransactionDeps,
  input: AuthorizeInput,
  why: string,
  stanIfAllocated?: number,
): Authorization {
  const { journal } = deps;
  const card = input.card?.reveal();
  const decision =
    deps.offline && deps.vault
      ? decideOfflinePolicy(
          { kind: input.kind, amount: input.amount, entryMode: card?.entryMode },
          deps.offline,
          journal.saf.stats(),
          deps.clock.now(),
        )
      : { allowed: false as const, reason: 'offline sales are disabled' };
  if (!decision.allowed || !card || !deps.vault) {
    return {
      ...(stanIfAllocated !== undefined ? { stan: stanIfAllocated } : {}),
      responseCode: 'Z3',
      responseText: `host unreachable (${why}); declined offline: ${decision.allowed ? 'no card data' : decision.reason}`,
      approved: false,
      offline: true,
    };
  }
  const stan = stanIfAllocated ?? journal.counters.nextStan();
  const approvalCode = offlineApprovalCode(stan);
  const fields = financialRequestFor(input, stan, deps.merchant, new Date(deps.clock.now()), deps.messageProfile);
  // The approval and the queued advice (card data sealed, never track 2 or CVV) are one commit.
  journal.recordOfflineApproval(
    input.txnRef,
    'offline-approved',
    { stan, responseCode: 'Y1', approvalCode },
    {
      stan,
      processingCode: fields.processingCode,
      amount: fields.amount,
      currency: fields.currency,
      approvalCode,
      entryMode: card.entryMode,
      maskedPan: input.card!.summary.maskedPan,
      transmittedAt: fields.transmittedAt.getTime(),
      terminalId: fields.terminalId,
      merchantId: fields.merchantId,
      posEntryMode: fields.entryMode,
      ...(fields.acquiringInstitutionId !== undefined ? { acquiringInstitutionId: fields.acquiringInstitutionId } : {}),
      ...(fields.forwardingInstitutionId !== undefined
        ? { forwardingInstitutionId: fields.forwardingInstitutionId }
        : {}),
      cardBlob: deps.vault.seal(
        {
          pan: card.pan,
          expiry: card.expiry,
          entryMode: card.entryMode,
          ...(card.serviceCode ? { serviceCode: card.serviceCode } : {}),
          ...sealableIccData(card.iccData),
        },
        input.txnRef,
      ),
    },
  );
  return {
    stan,
    responseCode: 'Y1',
    responseText: `approved offline (${why})`,
    approved: true,
    offline: true,
    approvalCode,
  };
}

/** A chip sale's field 55 for the vault (advice and reversal carry it); a field the vault cannot hold is left out. */
export function sealableIccData(iccData: Uint8Array | undefined): { iccData?: string } {
  return iccData && iccData.length > 0 && iccData.length <= 255
    ? { iccData: Buffer.from(iccData).toString('hex').toUpperCase() }
    : {};
}
