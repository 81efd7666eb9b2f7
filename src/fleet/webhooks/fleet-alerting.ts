/**
 * What pos-fleet puts behind its consumer from the config: the alert book and webhooks (`alertsDelivery`, when
 * `bookFile` is set) and anomaly detection (`detect`, when enabled), detection's alerts going the same way as the
 * alert engine's. Returns the two hooks the consumer calls and the book the web dashboard reads.
 */
import type { Clock } from '../../../hal/clock.js';
import type { BookAlert } from '../alert-book/sqlite-alert-book.js';
import type { Alert } from '../alerts.js';
import type { AlertsDeliveryConfig } from '../config-alerts-delivery.js';
import type { DetectConfig } from '../config-detect.js';
import { type DetectionAlert, FleetAnomalyDetector } from '../detect/detector.js';
import type { TerminalMessage } from '../messages.js';
import type { AlertBook } from '../ports.js';
import { AlertDelivery } from './alert-delivery.js';

export interface FleetAlerting {
  /** The alert engine's changes go here. */
  onAlert(alert: Alert): void;
  /** Every decoded terminal message goes here (detection reads the Health counters). */
  onMessage(msg: TerminalMessage, receivedAt: number): void;
  /** The alert book (its acknowledgements delivered too), or null when `alertsDelivery.bookFile` is null. */
  book: AlertBook | null;
  stop(): void;
}

export interface FleetAlertingOptions {
  delivery: AlertsDeliveryConfig;
  detect: DetectConfig;
  clock: Clock;
  /** One line for the operator (a delivery given up, the book failing); never card data. */
  note: (line: string) => void;
  /** Detection's alerts, also shown where the engine's are. */
  onDetection?: (alert: DetectionAlert) => void;
}

export function startFleetAlerting(o: FleetAlertingOptions): FleetAlerting {
  const { bookFile } = o.delivery;
  const delivery =
    bookFile === null
      ? null
      : new AlertDelivery({
          config: { ...o.delivery, bookFile },
          clock: o.clock,
          onError: (err) => o.note(`alert book: ${err.message}`),
          onFinished: (d) => {
            if (d.state === 'failed') o.note(`webhook ${d.webhook}: delivery ${d.id} given up: ${d.error}`);
          },
        });
  const keep = (alert: BookAlert, evidence?: Record<string, unknown>): void => {
    void delivery?.handle(alert, evidence);
  };
  const detector = o.detect.enabled
    ? new FleetAnomalyDetector({
        config: o.detect,
        clock: o.clock,
        onAlert: (alert, evidence) => {
          keep(alert, evidence);
          o.onDetection?.(alert);
        },
      })
    : null;
  detector?.start();
  return {
    onAlert: (alert) => keep(alert),
    onMessage: (msg, receivedAt) => detector?.ingest(msg, receivedAt),
    book: delivery?.asAlertBook() ?? null,
    stop: () => {
      detector?.stop();
      delivery?.close();
    },
  };
}
