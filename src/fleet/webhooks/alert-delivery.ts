/**
 * Alerts kept and delivered: each change (from the alert engine or from anomaly detection) is written to the alert
 * book first, then queued for the webhooks that want it, in the order the changes happened. What pos-fleet wires
 * behind its alert engine when `alertsDelivery.bookFile` is set; the web dashboard reads the same book.
 */
import type { Clock } from '../../../hal/clock.js';
import { SqliteAlertBook, type BookAlert } from '../alert-book/sqlite-alert-book.js';
import type { AlertsDeliveryConfig } from '../config-alerts-delivery.js';
import type { AlertBook, AlertListQuery, AlertRecord } from '../ports.js';
import { WebhookDispatcher, type WebhookDispatcherOptions } from './dispatcher.js';
import { DeliveryQueue } from './queue.js';

export interface AlertDeliveryOptions {
  config: AlertsDeliveryConfig & { bookFile: string };
  clock: Clock;
  random?: () => number;
  onError?: (err: Error) => void;
  onFinished?: WebhookDispatcherOptions['onFinished'];
  send?: WebhookDispatcherOptions['send'];
}

export class AlertDelivery {
  readonly book: SqliteAlertBook;
  readonly queue: DeliveryQueue;
  readonly dispatcher: WebhookDispatcher;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly o: AlertDeliveryOptions) {
    this.book = new SqliteAlertBook({ file: o.config.bookFile, clock: o.clock });
    this.queue = new DeliveryQueue(o.config.bookFile);
    this.dispatcher = new WebhookDispatcher({
      queue: this.queue,
      config: o.config,
      clock: o.clock,
      ...(o.random ? { random: o.random } : {}),
      ...(o.onFinished ? { onFinished: o.onFinished } : {}),
      ...(o.send ? { send: o.send } : {}),
    });
    this.dispatcher.start();
  }

  /**
   * Records and queues one change; changes are handled one after another in call order. A failure (a full disk)
   * is reported to onError and resolves undefined: an alert that cannot be kept never stops the consumer.
   */
  handle(alert: BookAlert, evidence?: Record<string, unknown>): Promise<AlertRecord | undefined> {
    const next = this.chain.then(async () => {
      try {
        const record = await this.book.record(alert, evidence);
        this.dispatcher.enqueue(alert, record);
        return record;
      } catch (err) {
        this.o.onError?.(err as Error);
        return undefined;
      }
    });
    this.chain = next;
    return next;
  }

  /**
   * Acknowledges in the book and, the first time only (the book keeps the first acknowledgement), tells the
   * webhooks that want `acknowledged`.
   */
  acknowledge(id: string, by: string, note?: string): Promise<AlertRecord | undefined> {
    const next = this.chain.then(async () => {
      const before = (await this.book.byId(id))?.acknowledgedAt ?? null;
      const record = await this.book.acknowledge(id, by, note);
      if (record && before === null && record.acknowledgedAt !== null) {
        this.dispatcher.enqueue(
          {
            at: record.acknowledgedAt,
            state: 'acknowledged',
            rule: record.rule,
            type: record.type,
            key: `${record.fleet}/${record.terminalId}`,
            fleet: record.fleet,
            terminalId: record.terminalId,
            value: record.value,
            message: `acknowledged by ${by}${note ? `: ${note}` : ''}`,
          },
          record,
        );
      }
      return record;
    });
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** The book as the web dashboard and the CLI use it: acknowledgements go to the webhooks too. */
  asAlertBook(): AlertBook {
    return {
      record: (alert, evidence) => this.book.record(alert, evidence),
      list: (query: AlertListQuery) => this.book.list(query),
      acknowledge: (id, by, note) => this.acknowledge(id, by, note),
    };
  }

  /** Resolves when every change handed in so far is recorded and queued. */
  settled(): Promise<unknown> {
    return this.chain;
  }

  close(): void {
    this.dispatcher.stop();
    this.queue.close();
    this.book.close();
  }
}
