/**
 * One settlement exchange with the host: the request is built with the time it leaves, sent through the acquirer
 * client (MACed like every other message) and its answer read as success, a refusal, or no answer. A request that
 * got no answer is tried again after a pause on the Clock, a bounded number of times: then the settlement waits
 * for the next run and says why.
 */
import type { Clock } from '../../hal/clock.js';
import { HostError } from '../acquirer/acquirer-client.js';
import { type IsoMessage, isApprovedClass } from '../iso8583/index.js';

export interface SettlementSender {
  send(request: IsoMessage, options?: { timeoutMs?: number }): Promise<{ responseCode: string; message: IsoMessage }>;
}

export type LinkAnswer =
  | { ok: true; success: boolean; responseCode: string; message: IsoMessage }
  /** `sent`: some try may have reached the host (it may have acted on it without its answer reaching us). */
  | { ok: false; reason: string; sent: boolean };

export interface SettlementLinkDeps {
  acquirer: SettlementSender;
  clock: Clock;
  terminalId: string;
  merchantId: string;
  responseTimeoutMs: number;
  /** Tries of one request before the settlement gives up for now. */
  attempts: number;
  /** Pause between two tries. */
  retryDelayMs: number;
}

export function pause(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}

export class SettlementLink {
  readonly terminalId: string;
  readonly merchantId: string;

  constructor(private readonly deps: SettlementLinkDeps) {
    this.terminalId = deps.terminalId;
    this.merchantId = deps.merchantId;
  }

  /** Sends the request `build` makes (called again for each try, with the time it leaves and the try's number). */
  async exchange(build: (now: Date, attempt: number) => IsoMessage): Promise<LinkAnswer> {
    const { acquirer, clock } = this.deps;
    let reason = 'not sent';
    let sent = false;
    for (let attempt = 1; attempt <= Math.max(1, this.deps.attempts); attempt++) {
      if (attempt > 1) await pause(clock, this.deps.retryDelayMs);
      try {
        const reply = await acquirer.send(build(new Date(clock.now()), attempt), {
          timeoutMs: this.deps.responseTimeoutMs,
        });
        return {
          ok: true,
          success: isApprovedClass(reply.responseCode),
          responseCode: reply.responseCode,
          message: reply.message,
        };
      } catch (err) {
        if (!(err instanceof HostError)) throw err;
        sent ||= err.sent;
        reason = `host not answering (${err.code}: ${err.message})`;
      }
    }
    return { ok: false, reason: `${reason}, after ${Math.max(1, this.deps.attempts)} tries`, sent };
  }
}
