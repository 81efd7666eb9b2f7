/**
 * The time source every timeout and retry in the terminal uses. Production code takes a Clock instead of calling
 * setTimeout directly, so tests drive timeouts, backoff and intervals with a ManualClock and never sleep.
 */
export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(t) };
  },
};

interface PendingTimer {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/** A simulated clock: time moves only when a test calls advance(). Timers fire in due order. */
export class ManualClock implements Clock {
  private current: number;
  private seq = 0;
  private timers: PendingTimer[] = [];

  constructor(start = Date.UTC(2026, 0, 1, 12, 0, 0)) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: PendingTimer = { at: this.current + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    this.timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  /** Number of timers still waiting to fire. */
  pending(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  /**
   * Move time forward by ms, firing every timer that falls due, in order. Between timers it yields to the event
   * loop so promise continuations and socket callbacks scheduled by one timer run before the next fires.
   * `afterEach`, when given, is awaited after every timer: a long soak uses it to let real I/O a timer started
   * (a self-test's fsync) finish before time moves on, as it would on a real clock.
   */
  async advance(ms: number, afterEach?: () => Promise<void>): Promise<void> {
    const target = this.current + ms;
    for (;;) {
      await flushIo();
      this.timers = this.timers.filter((t) => !t.cancelled);
      const due = this.timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.timers.splice(this.timers.indexOf(due), 1);
      this.current = Math.max(this.current, due.at);
      due.fn();
      if (afterEach) await afterEach();
    }
    this.current = target;
    await flushIo();
  }
}

/** Let pending promise callbacks and I/O callbacks run (one macrotask turn plus microtasks). */
export function flushIo(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
