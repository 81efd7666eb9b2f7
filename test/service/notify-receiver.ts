/**
 * A stand-in for systemd's notify socket: a unix datagram socket bound in a temporary directory, keeping every
 * message (as VAR=value maps), and a simulated service manager that applies the watchdog rule to what arrives.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock, TimerHandle } from '../../hal/clock.js';

const dgram = createRequire(import.meta.url)('unix-dgram') as typeof import('unix-dgram');

export type NotifyMessage = Map<string, string>;

export class NotifyReceiver {
  readonly dir = mkdtempSync(join(tmpdir(), 'pos-notify-'));
  readonly path = join(this.dir, 'notify.sock');
  readonly messages: NotifyMessage[] = [];
  private waiters: Array<{ count: number; resolve: () => void }> = [];
  private readonly socket = dgram.createSocket('unix_dgram', (buf) => this.receive(buf));
  onMessage: ((message: NotifyMessage) => void) | undefined;

  constructor() {
    this.socket.bind(this.path);
  }

  /** Resolves once at least `count` messages have arrived in all. */
  waitFor(count: number): Promise<void> {
    if (this.messages.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  /** Messages that carry VAR. */
  with(variable: string): NotifyMessage[] {
    return this.messages.filter((m) => m.has(variable));
  }

  close(): void {
    this.socket.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private receive(buf: Buffer): void {
    const message: NotifyMessage = new Map();
    for (const line of buf.toString('utf8').split('\n')) {
      const at = line.indexOf('=');
      if (at > 0) message.set(line.slice(0, at), line.slice(at + 1));
    }
    this.messages.push(message);
    this.onMessage?.(message);
    this.waiters = this.waiters.filter((w) => {
      if (this.messages.length < w.count) return true;
      w.resolve();
      return false;
    });
  }
}

/**
 * systemd's watchdog rule, on a clock: after READY=1, a service that sent no WATCHDOG=1 for `watchdogMs` is
 * killed (systemd sends SIGABRT, then restarts it under Restart=always).
 */
export class SimulatedServiceManager {
  ready = false;
  kills = 0;
  private deadline: TimerHandle | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly watchdogMs: number,
    private readonly kill: () => void,
  ) {}

  deliver(message: NotifyMessage): void {
    if (message.get('READY') === '1') this.ready = true;
    if (message.get('READY') === '1' || message.get('WATCHDOG') === '1') this.arm();
  }

  private arm(): void {
    this.deadline?.cancel();
    this.deadline = this.clock.setTimeout(() => {
      this.kills++;
      this.ready = false;
      this.kill();
    }, this.watchdogMs);
  }
}
