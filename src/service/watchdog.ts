/**
 * The service watchdog (sd_watchdog_enabled(3)): when the manager set WATCHDOG_USEC (and WATCHDOG_PID is ours or
 * absent), WATCHDOG=1 is sent every half interval from a timer on the event loop. A hung loop runs no timer, sends
 * no ping, and the manager kills and restarts the process once the interval passes.
 */
import type { Clock, TimerHandle } from '../../hal/clock.js';
import type { NotifyChannel } from './sd-notify.js';

/** Half of WATCHDOG_USEC in milliseconds, or undefined when the watchdog is off or meant for another process. */
export function watchdogPingIntervalMs(env: NodeJS.ProcessEnv, pid: number): number | undefined {
  const usecText = env['WATCHDOG_USEC'];
  if (!usecText || !/^\d+$/.test(usecText)) return undefined;
  const forPid = env['WATCHDOG_PID'];
  if (forPid !== undefined && forPid !== '' && Number(forPid) !== pid) return undefined;
  const usec = Number(usecText);
  if (usec <= 0) return undefined;
  // At least 1 ms: a timer of 0 would spin the loop.
  return Math.max(1, Math.floor(usec / 2000));
}

export interface WatchdogOptions {
  channel: NotifyChannel;
  intervalMs: number;
  clock: Clock;
  /** A ping that could not be sent (logged by the caller; the next one is tried anyway). */
  onError?: (err: Error) => void;
}

export class ServiceWatchdog {
  private timer: TimerHandle | undefined;
  private pings = 0;

  constructor(private readonly options: WatchdogOptions) {}

  /** Pings sent so far. */
  get sent(): number {
    return this.pings;
  }

  start(): void {
    if (this.timer) return;
    this.schedule();
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  private schedule(): void {
    this.timer = this.options.clock.setTimeout(() => {
      this.pings++;
      this.options.channel.send(['WATCHDOG=1']).catch((err: Error) => this.options.onError?.(err));
      this.schedule();
    }, this.options.intervalMs);
  }
}
