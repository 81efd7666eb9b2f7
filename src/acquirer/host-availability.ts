/**
 * Is the host answering? After `downAfterTimeouts` response timeouts in a row (with no answer between) the host is
 * taken as down: a sale then goes offline at once instead of waiting out its own full timeout, and an echo probe
 * runs every `probeIntervalMs` until an answer (to the probe or to anything else) brings the host back. Refused
 * connects fail fast and say nothing about a silent host, so only timeouts count.
 */
import type { Clock, TimerHandle } from '../../hal/clock.js';
import type { SendOutcome } from './acquirer-client.js';

export interface HostAvailabilityOptions {
  clock: Clock;
  /** Timeouts in a row that make the host down; 0 never does. */
  downAfterTimeouts: number;
  probeIntervalMs: number;
  /** Sends one echo; its outcome reaches observe() through the acquirer client like any other request. */
  probe: () => Promise<unknown>;
  /** Told when the host goes down or comes back. */
  onChange?: (down: boolean) => void;
}

export class HostAvailability {
  private timeouts = 0;
  private downSince: number | undefined;
  private timer: TimerHandle | undefined;
  private stopped = false;

  constructor(private readonly options: HostAvailabilityOptions) {}

  /** Every outcome of a request to the host: an answer (a reply, or bytes keyed to us) or a HostError. */
  observe(outcome: SendOutcome): void {
    if (outcome.answered || ['garbled-response', 'mismatched-response', 'bad-mac'].includes(outcome.error.code)) {
      this.timeouts = 0;
      if (this.downSince !== undefined) this.setDown(false);
      return;
    }
    if (outcome.error.code !== 'timeout') return;
    this.timeouts += 1;
    const { downAfterTimeouts } = this.options;
    if (downAfterTimeouts > 0 && this.timeouts >= downAfterTimeouts && this.downSince === undefined) this.setDown(true);
  }

  isDown(): boolean {
    return this.downSince !== undefined;
  }

  state(): { down: boolean; timeoutsInARow: number; downSince?: number } {
    return {
      down: this.isDown(),
      timeoutsInARow: this.timeouts,
      ...(this.downSince !== undefined ? { downSince: this.downSince } : {}),
    };
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
  }

  private setDown(down: boolean): void {
    this.downSince = down ? this.options.clock.now() : undefined;
    if (down) this.scheduleProbe();
    else {
      this.timer?.cancel();
      this.timer = undefined;
    }
    this.options.onChange?.(down);
  }

  private scheduleProbe(): void {
    if (this.stopped || this.timer) return;
    this.timer = this.options.clock.setTimeout(() => {
      this.timer = undefined;
      void this.options
        .probe()
        .catch(() => undefined)
        .finally(() => {
          if (this.isDown()) this.scheduleProbe();
        });
    }, this.options.probeIntervalMs);
  }
}
