/**
 * What pos-terminal tells systemd (Type=notify): READY=1 with a STATUS= line once the boot self-test has run,
 * the watchdog pings while it runs, STOPPING=1 on the way out. Outside systemd (no NOTIFY_SOCKET) it does nothing.
 */
import type { Clock } from '../../hal/clock.js';
import { openNotifyChannel, type NotifyChannel, type NotifyChannelOptions } from './sd-notify.js';
import { ServiceWatchdog, watchdogPingIntervalMs } from './watchdog.js';

export interface ServiceManagerLink {
  /** The channel's kind, or undefined when no service manager listens. */
  readonly channel: NotifyChannel['kind'] | undefined;
  /** The watchdog's ping interval, or undefined when the watchdog is off. */
  readonly watchdogIntervalMs: number | undefined;
  ready(status: string): Promise<void>;
  status(status: string): Promise<void>;
  stopping(): Promise<void>;
  close(): void;
}

export interface ServiceManagerOptions extends NotifyChannelOptions {
  clock: Clock;
  onError?: (err: Error) => void;
}

/** STATUS= is one line: newlines would start new assignments. */
function statusLine(status: string): string {
  return `STATUS=${status.replace(/[\r\n]+/g, ' ')}`;
}

export function connectServiceManager(options: ServiceManagerOptions): ServiceManagerLink {
  const env = options.env ?? process.env;
  const pid = options.pid ?? process.pid;
  const channel = openNotifyChannel({ ...options, env, pid });
  const intervalMs = channel ? watchdogPingIntervalMs(env, pid) : undefined;
  const watchdog =
    channel && intervalMs !== undefined
      ? new ServiceWatchdog({
          channel,
          intervalMs,
          clock: options.clock,
          ...(options.onError ? { onError: options.onError } : {}),
        })
      : undefined;
  // Pings from the start: a start that hangs is a hang too (TimeoutStartSec catches it later otherwise).
  watchdog?.start();
  const send = async (lines: string[]) => {
    if (!channel) return;
    try {
      await channel.send(lines);
    } catch (err) {
      options.onError?.(err as Error);
    }
  };
  return {
    channel: channel?.kind,
    watchdogIntervalMs: intervalMs,
    async ready(status) {
      await send(['READY=1', statusLine(status)]);
    },
    status: (status) => send([statusLine(status)]),
    async stopping() {
      watchdog?.stop();
      await send(['STOPPING=1']);
    },
    close() {
      watchdog?.stop();
      channel?.close();
    },
  };
}
