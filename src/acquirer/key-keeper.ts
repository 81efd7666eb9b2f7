/**
 * Keeps the terminal signed on: a sign-on at boot, when the link comes up without a key, and whenever the MAC key is
 * dropped (a failed MAC, the host's 63); one at a time. A failed sign-on leaves the terminal without a key, says why
 * (the reason requests without a key carry, and `onFailure`) and is tried again after `retryMs`.
 */
import type { Clock, TimerHandle } from '../../hal/clock.js';
import type { MacSession } from './mac-session.js';
import { type SessionKey, SignOnError, type SignOnInput, signOn } from './sign-on.js';

export interface KeyKeeperOptions extends Omit<SignOnInput, 'now'> {
  mac: MacSession;
  clock: Clock;
  retryMs: number;
  /** Keeps the new session key (sealed). */
  store: (key: SessionKey) => void;
  onFailure?: (err: SignOnError) => void;
  onSignedOn?: (checkValue: string) => void;
}

export class KeyKeeper {
  private inFlight: Promise<boolean> | undefined;
  private timer: TimerHandle | undefined;
  private stopped = false;

  constructor(private readonly options: KeyKeeperOptions) {
    options.mac.keySource = () => this.ensure();
    options.mac.onKeyDropped(() => void this.signOnNow());
  }

  /** A sign-on when no key is held (the one under way, if any); true when a key is held after it. */
  ensure(): Promise<boolean> {
    if (this.options.mac.hasKey()) return Promise.resolve(true);
    return this.signOnNow();
  }

  /** Signs on now (or joins the sign-on under way), whether or not a key is held. */
  signOnNow(): Promise<boolean> {
    if (this.stopped) return Promise.resolve(false);
    this.inFlight ??= this.run().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
  }

  private async run(): Promise<boolean> {
    const { mac, clock } = this.options;
    try {
      const session = await signOn({ ...this.options, now: () => new Date(clock.now()) });
      mac.setKey(session.key);
      this.options.store(session);
      session.key.fill(0);
      this.timer?.cancel();
      this.timer = undefined;
      this.options.onSignedOn?.(session.checkValue);
      return true;
    } catch (err) {
      if (!(err instanceof SignOnError)) throw err;
      // The key the host refused or could not confirm is not kept; an old one stays only if the host never answered.
      if (err.code !== 'host-error' || !mac.hasKey()) mac.dropKeySilently(err.message);
      this.options.onFailure?.(err);
      if (err.code !== 'no-master-key') this.retryLater();
      return false;
    }
  }

  private retryLater(): void {
    if (this.stopped || this.timer) return;
    this.timer = this.options.clock.setTimeout(() => {
      this.timer = undefined;
      void this.ensure();
    }, this.options.retryMs);
  }
}
