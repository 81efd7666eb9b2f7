/**
 * Delivers the queued webhook calls: each webhook has its own lane (at most `concurrencyPerWebhook` requests in
 * flight, its own next-due time), so an endpoint that is down or slow holds only its own deliveries. A failed
 * attempt is tried again after an exponential, jittered delay on the Clock until `giveUpAfterHours` from the
 * alert change, then the delivery is marked failed with its last error. Deliveries left pending by a stop or a crash
 * are sent when the dispatcher starts again, with the same idempotency key.
 */
import { randomUUID } from 'node:crypto';
import type { Clock, TimerHandle } from '../../../hal/clock.js';
import type { AlertsDeliveryConfig, WebhookConfig } from '../config-alerts-delivery.js';
import type { AlertRecord } from '../ports.js';
import { retryDelayMs } from './backoff.js';
import { type AlertChange, webhookBody, webhookMatches } from './match.js';
import type { DeliveryQueue } from './queue.js';
import { postDelivery, type AttemptResult } from './send.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export interface WebhookDispatcherOptions {
  queue: DeliveryQueue;
  config: Pick<AlertsDeliveryConfig, 'webhooks' | 'retry' | 'maxQueued' | 'concurrencyPerWebhook' | 'keepDays'>;
  clock: Clock;
  /** The jitter's source; tests give a fixed one. */
  random?: () => number;
  /** Told of each finished delivery (sent or given up), for logs. */
  onFinished?: (d: { id: string; webhook: string; state: 'sent' | 'failed'; attempts: number; error?: string }) => void;
  /** The HTTP attempt; tests keep the default (real HTTP). */
  send?: (hook: WebhookConfig, d: { id: string; body: string }, clock: Clock) => Promise<AttemptResult>;
}

export class WebhookDispatcher {
  private readonly hooks = new Map<string, WebhookConfig>();
  private readonly inFlight = new Map<string, Set<string>>();
  private readonly timers = new Map<string, { at: number; handle: TimerHandle }>();
  private pruneTimer: TimerHandle | null = null;
  private readonly random: () => number;
  private readonly send: NonNullable<WebhookDispatcherOptions['send']>;
  private running = false;
  /** HTTP attempts started since this dispatcher was made. */
  attemptsStarted = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly o: WebhookDispatcherOptions) {
    for (const hook of o.config.webhooks) this.hooks.set(hook.name, hook);
    this.random = o.random ?? Math.random;
    this.send = o.send ?? postDelivery;
  }

  /** Fails what waits for a webhook no longer configured, then sends whatever is due. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.prune();
    for (const name of this.o.queue.pendingWebhooks()) {
      if (this.hooks.has(name)) continue;
      for (const d of this.o.queue.due(name, Number.MAX_SAFE_INTEGER, 1_000_000))
        this.finish(
          d.id,
          name,
          d.attempts,
          { outcome: 'failed', status: null, error: 'webhook no longer configured' },
          false,
        );
    }
    for (const name of this.hooks.keys()) this.pump(name);
  }

  /**
   * Stops sending. What a request still in flight gets back is not recorded: the delivery stays pending and goes
   * again, with the same key, after a restart (a receiver that keeps the keys sees it once).
   */
  stop(): void {
    this.running = false;
    for (const t of this.timers.values()) t.handle.cancel();
    this.timers.clear();
    this.pruneTimer?.cancel();
    this.pruneTimer = null;
  }

  /** Deletes finished deliveries older than keepDays, now and then once an hour. */
  private prune(): void {
    this.o.queue.prune(this.o.clock.now() - this.o.config.keepDays * DAY);
    this.pruneTimer = this.o.clock.setTimeout(() => this.prune(), HOUR);
  }

  /** Queues this alert change for every webhook whose rules match it; returns the delivery ids. */
  enqueue(alert: AlertChange, record: AlertRecord): string[] {
    const ids: string[] = [];
    const at = this.o.clock.now();
    for (const hook of this.hooks.values()) {
      if (!webhookMatches(hook, alert)) continue;
      const id = randomUUID();
      const full = this.o.queue.pending >= this.o.config.maxQueued;
      this.o.queue.add(
        { id, webhook: hook.name, url: hook.url, body: webhookBody(id, hook.name, alert, record), at },
        full ? `queue full (${this.o.config.maxQueued} deliveries waiting): not queued` : undefined,
      );
      if (full) this.o.onFinished?.({ id, webhook: hook.name, state: 'failed', attempts: 0, error: 'queue full' });
      ids.push(id);
      this.pump(hook.name);
    }
    return ids;
  }

  /** Resolves once no request is in flight (tests wait on it between clock steps). */
  idle(): Promise<void> {
    if (this.busy() === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  busy(): number {
    let n = 0;
    for (const set of this.inFlight.values()) n += set.size;
    return n;
  }

  private pump(name: string): void {
    const hook = this.hooks.get(name);
    if (!this.running || !hook) return;
    const flying = this.inFlight.get(name) ?? new Set<string>();
    this.inFlight.set(name, flying);
    const now = this.o.clock.now();
    const free = this.o.config.concurrencyPerWebhook - flying.size;
    if (free > 0) {
      for (const d of this.o.queue.due(name, now, free + flying.size)) {
        if (flying.has(d.id) || flying.size >= this.o.config.concurrencyPerWebhook) continue;
        if (now - d.createdAt > this.giveUpMs()) {
          this.finish(
            d.id,
            name,
            d.attempts,
            { outcome: 'failed', status: null, error: this.expired(d.attempts) },
            false,
          );
          continue;
        }
        flying.add(d.id);
        this.attemptsStarted++;
        void this.attempt(hook, d.id, d.body, d.attempts, d.createdAt);
      }
    }
    this.schedule(name);
  }

  private async attempt(hook: WebhookConfig, id: string, body: string, attempts: number, createdAt: number) {
    let result: AttemptResult;
    try {
      result = await this.send(hook, { id, body }, this.o.clock);
    } catch (err) {
      result = { outcome: 'retry', status: null, error: (err as Error).message };
    }
    this.inFlight.get(hook.name)?.delete(id);
    if (!this.running) {
      if (this.busy() === 0) for (const wake of this.idleWaiters.splice(0)) wake();
      return;
    }
    const tries = attempts + 1;
    const now = this.o.clock.now();
    const deadline = createdAt + this.giveUpMs();
    if (result.outcome === 'retry' && now >= deadline)
      result = { ...result, outcome: 'failed', error: `${this.expired(tries)}; last: ${result.error}` };
    if (result.outcome === 'retry') {
      const { firstDelaySeconds, maxDelaySeconds } = this.o.config.retry;
      const backoff = retryDelayMs(tries, firstDelaySeconds * 1000, maxDelaySeconds * 1000, this.random);
      // A receiver that says when to come back is believed, up to the longest delay.
      const delay = Math.max(backoff, Math.min(result.retryAfterMs ?? 0, maxDelaySeconds * 1000));
      // The last try falls on the deadline, not after it.
      this.o.queue.markRetry(id, Math.min(now + delay, deadline), result.status, result.error);
    } else {
      this.finish(id, hook.name, attempts, result, true);
    }
    this.pump(hook.name);
    if (this.busy() === 0) for (const wake of this.idleWaiters.splice(0)) wake();
  }

  private finish(id: string, webhook: string, attempts: number, result: AttemptResult, attempted: boolean): void {
    const now = this.o.clock.now();
    const tries = attempts + (attempted ? 1 : 0);
    if (result.outcome === 'sent') {
      this.o.queue.markSent(id, result.status, now);
      this.o.onFinished?.({ id, webhook, state: 'sent', attempts: tries });
    } else {
      this.o.queue.markFailed(id, result.error, now, result.status, attempted);
      this.o.onFinished?.({ id, webhook, state: 'failed', attempts: tries, error: result.error });
    }
  }

  /** One timer per webhook, for its earliest pending delivery not yet in flight. */
  private schedule(name: string): void {
    const flying = this.inFlight.get(name) ?? new Set<string>();
    const existing = this.timers.get(name);
    const next = this.o.queue
      .due(name, Number.MAX_SAFE_INTEGER, flying.size + 1)
      .find((d) => !flying.has(d.id))?.nextAt;
    // Nothing waits, or the lane is full: a finishing request pumps again.
    if (next === undefined || flying.size >= this.o.config.concurrencyPerWebhook) {
      existing?.handle.cancel();
      this.timers.delete(name);
      return;
    }
    const now = this.o.clock.now();
    const at = Math.max(next, now);
    if (existing && existing.at === at) return;
    existing?.handle.cancel();
    const handle = this.o.clock.setTimeout(() => {
      this.timers.delete(name);
      this.pump(name);
    }, at - now);
    this.timers.set(name, { at, handle });
  }

  private giveUpMs(): number {
    return this.o.config.retry.giveUpAfterHours * HOUR;
  }

  private expired(attempts: number): string {
    return `gave up after ${attempts} attempt${attempts === 1 ? '' : 's'} and ${this.o.config.retry.giveUpAfterHours} h`;
  }
}
