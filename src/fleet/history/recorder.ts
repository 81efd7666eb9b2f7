/**
 * The write queue in front of the history store: the consumer hands over each message and goes on; the queue is
 * written in batches, as soon as `batchSize` wait or `flushIntervalMs` (on the Clock) after the first one. At most
 * one batch is in flight. A full queue sheds the newest message and counts it: a store that is slow or down costs
 * history, never unbounded memory or a stalled consumer. A failed batch is put back (as far as there is room) and
 * tried again after the interval.
 */
import type { Clock, TimerHandle } from '../../../hal/clock.js';
import type { TelemetryMessage } from '../messages.js';
import type { FleetHistoryStore, HistoryRecord } from './store.js';
import { timelineSummary } from './summary.js';

export const DEFAULT_WRITE_BATCH = 500;
export const DEFAULT_FLUSH_INTERVAL_MS = 250;
export const DEFAULT_MAX_QUEUED = 100_000;

export interface HistoryRecorderOptions {
  store: Pick<FleetHistoryStore, 'insert'>;
  clock: Clock;
  batchSize?: number;
  flushIntervalMs?: number;
  maxQueued?: number;
  /** A batch that could not be written (it stays queued while there is room). */
  onError?: (error: Error) => void;
}

export interface HistoryRecorderStats {
  /** Handed to record() or add(). */
  recorded: number;
  written: number;
  /** Shed because the queue was full. */
  dropped: number;
  writeErrors: number;
  queued: number;
}

/** What the consumer knows about a delivery (src/fleet/consumer.ts ReceivedInfo has these). */
export interface DeliveryInfo {
  receivedAt: number;
  retained: boolean;
  historical?: boolean;
}

function flag(v: unknown, key: string): boolean {
  return typeof v === 'object' && v !== null && (v as Record<string, unknown>)[key] === true;
}

/** The record of one decoded message. "Historical" is taken from the delivery or the message, when either says. */
export function historyRecordOf(msg: TelemetryMessage, info: DeliveryInfo): HistoryRecord {
  const header = 'header' in msg ? msg.header : null;
  return {
    fleet: msg.fleet,
    terminalId: msg.terminalId,
    kind: msg.type,
    bootId: header?.bootId ?? null,
    seq: header?.seq ?? null,
    sentAt: header && header.sentAtMs > 0 ? header.sentAtMs : msg.type === 'cmd' ? msg.issuedAtMs || null : null,
    receivedAt: info.receivedAt,
    historical: info.historical === true || flag(msg, 'historical'),
    retained: info.retained,
    summary: timelineSummary(msg),
    data: msg,
  };
}

export class HistoryRecorder {
  private readonly batchSize: number;
  private readonly flushIntervalMs: number;
  private readonly maxQueued: number;
  private queue: HistoryRecord[] = [];
  private writing: Promise<Error | null> | null = null;
  private timer: TimerHandle | null = null;
  private closed = false;
  private readonly counts = { recorded: 0, written: 0, dropped: 0, writeErrors: 0 };

  constructor(private readonly opts: HistoryRecorderOptions) {
    this.batchSize = Math.max(1, opts.batchSize ?? DEFAULT_WRITE_BATCH);
    this.flushIntervalMs = Math.max(1, opts.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS);
    this.maxQueued = Math.max(this.batchSize, opts.maxQueued ?? DEFAULT_MAX_QUEUED);
  }

  /** For the consumer's onMessage: records the message as delivered. Never throws, never waits. */
  record(msg: TelemetryMessage, info: DeliveryInfo): void {
    this.add(historyRecordOf(msg, info));
  }

  add(record: HistoryRecord): void {
    this.counts.recorded++;
    if (this.closed || this.queue.length >= this.maxQueued) {
      this.counts.dropped++;
      return;
    }
    this.queue.push(record);
    if (this.queue.length >= this.batchSize) this.kick();
    else this.arm();
  }

  stats(): HistoryRecorderStats {
    return { ...this.counts, queued: this.queue.length };
  }

  /** Writes everything queued now; rejects with the store's error if a batch fails (it stays queued). */
  async flush(): Promise<void> {
    for (;;) {
      if (this.writing) {
        const err = await this.writing;
        if (err) throw err;
        continue;
      }
      if (this.queue.length === 0) return;
      this.kick();
    }
  }

  /** Flushes, then refuses further records (counted as dropped). */
  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      this.closed = true;
      this.timer?.cancel();
      this.timer = null;
    }
  }

  private arm(): void {
    if (this.timer !== null || this.closed) return;
    this.timer = this.opts.clock.setTimeout(() => {
      this.timer = null;
      this.kick();
    }, this.flushIntervalMs);
  }

  private kick(): void {
    if (this.writing !== null || this.queue.length === 0) return;
    this.timer?.cancel();
    this.timer = null;
    const batch = this.queue.splice(0, this.batchSize);
    const done = this.write(batch);
    this.writing = done;
    void done.then((err) => {
      this.writing = null;
      if (this.queue.length === 0) return;
      // After a failure wait an interval before trying again; otherwise keep writing while full batches wait.
      if (err === null && this.queue.length >= this.batchSize) this.kick();
      else this.arm();
    });
  }

  private async write(batch: HistoryRecord[]): Promise<Error | null> {
    try {
      await this.opts.store.insert(batch);
      this.counts.written += batch.length;
      return null;
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      this.counts.writeErrors++;
      const room = Math.max(0, this.maxQueued - this.queue.length);
      const kept = batch.slice(0, room);
      this.counts.dropped += batch.length - kept.length;
      this.queue = [...kept, ...this.queue];
      try {
        this.opts.onError?.(err);
      } catch {
        // The reporter failed; the count above still records it.
      }
      return err;
    }
  }
}
