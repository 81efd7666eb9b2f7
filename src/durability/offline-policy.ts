/**
 * Store-and-forward rules: may a sale the host cannot be asked about be approved offline? Offline sales carry the
 * merchant's risk (the issuer may decline the advice later), so every limit in the configuration is a control.
 * Pure, so each limit is tested on its own.
 */
import type { TransactionKind } from '../vocabulary/index.js';

export interface OfflineLimits {
  enabled: boolean;
  floorLimit: number;
  maxCount: number;
  maxTotal: number;
  maxAgeMs: number;
  entryModes: readonly string[];
  allowRefunds: boolean;
}

export interface QueueStats {
  count: number;
  total: number;
  oldestAt: number | null;
}

export type OfflineDecision = { allowed: true } | { allowed: false; reason: string };

export function decideOffline(
  sale: { kind: TransactionKind; amount: number; entryMode: string | undefined },
  limits: OfflineLimits,
  queue: QueueStats,
  now: number,
): OfflineDecision {
  const refuse = (reason: string): OfflineDecision => ({ allowed: false, reason });
  if (!limits.enabled) return refuse('offline sales are disabled');
  if (sale.kind === 'void') return refuse('a void needs the host');
  if (sale.kind === 'refund' && !limits.allowRefunds) return refuse('refunds need the host');
  if (sale.entryMode === undefined) return refuse('no card data to forward');
  if (!limits.entryModes.includes(sale.entryMode)) return refuse(`${sale.entryMode} cards are not accepted offline`);
  if (sale.amount > limits.floorLimit)
    return refuse(`amount ${sale.amount} is over the offline floor limit ${limits.floorLimit}`);
  if (queue.count + 1 > limits.maxCount) return refuse(`offline queue is full (${queue.count} of ${limits.maxCount})`);
  if (queue.total + sale.amount > limits.maxTotal) return refuse(`offline total would exceed ${limits.maxTotal}`);
  if (queue.oldestAt !== null && now - queue.oldestAt > limits.maxAgeMs) {
    const age =
      limits.maxAgeMs >= 3_600_000
        ? `${Math.round(limits.maxAgeMs / 3_600_000)} h`
        : `${Math.max(1, Math.round(limits.maxAgeMs / 60_000))} min`;
    return refuse(`the oldest offline sale is older than ${age} and not yet forwarded`);
  }
  return { allowed: true };
}

/** The approval code printed on an offline receipt and sent in the advice (field 38, 6 characters). */
export function offlineApprovalCode(stan: number): string {
  return `Y1${String(stan % 10_000).padStart(4, '0')}`;
}
