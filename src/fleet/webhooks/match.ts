/** Which webhooks an alert change goes to, and the JSON body they receive. */
import type { BookAlert } from '../alert-book/sqlite-alert-book.js';
import type { WebhookConfig } from '../config-alerts-delivery.js';
import type { AlertRecord } from '../ports.js';

/** What a webhook is told of: a raise or a clear, or an operator's (first) acknowledgement. */
export type AlertChange = Omit<BookAlert, 'state'> & { state: BookAlert['state'] | 'acknowledged' };

export function webhookMatches(hook: WebhookConfig, alert: AlertChange): boolean {
  const m = hook.match;
  if (!m) return true;
  if (m.rules && !m.rules.includes(alert.rule)) return false;
  if (m.types && !m.types.includes(alert.type)) return false;
  if (m.fleets && !m.fleets.includes(alert.fleet)) return false;
  if (m.states && !m.states.includes(alert.state)) return false;
  return true;
}

/** The body of one delivery: the change itself and the alert as the book now holds it (its id, acknowledgement). */
export function webhookBody(deliveryId: string, hook: string, alert: AlertChange, record: AlertRecord): string {
  return JSON.stringify({
    deliveryId,
    webhook: hook,
    change: {
      state: alert.state,
      at: new Date(alert.at).toISOString(),
      rule: alert.rule,
      type: alert.type,
      fleet: alert.fleet,
      terminalId: alert.terminalId,
      value: alert.value,
      message: alert.message,
    },
    alert: {
      id: record.id,
      state: record.state,
      raisedAt: new Date(record.raisedAt).toISOString(),
      clearedAt: record.clearedAt === null ? null : new Date(record.clearedAt).toISOString(),
      acknowledgedAt: record.acknowledgedAt === null ? null : new Date(record.acknowledgedAt).toISOString(),
      acknowledgedBy: record.acknowledgedBy,
      acknowledgeNote: record.acknowledgeNote,
      evidence: record.evidence,
    },
  });
}
