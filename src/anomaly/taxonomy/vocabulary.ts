/** The words an anomaly definition is made of: its class, severity and the cashier's action, and the text limits. */
export const ANOMALY_CLASSES = [
  'host-timeout',
  'network-failure',
  'declined',
  'hardware-fault',
  'operator-error',
  'duplicate',
  'unauthorized',
  'suspected-fraud',
  'system-fault',
  'data-error',
] as const;
export type AnomalyClass = (typeof ANOMALY_CLASSES)[number];

export const ANOMALY_SEVERITIES = ['info', 'warning', 'error', 'critical'] as const;
export type AnomalySeverity = (typeof ANOMALY_SEVERITIES)[number];

export const OPERATOR_ACTIONS = [
  'retry',
  'check-network',
  'replace-paper',
  'close-cover',
  'clear-jam',
  'wait',
  'use-other-card',
  'try-chip',
  'call-bank',
  'call-support',
  'ask-supervisor',
  'check-amount',
  'none',
] as const;
export type OperatorAction = (typeof OPERATOR_ACTIONS)[number];

export interface AnomalyShape {
  /** Short stable code shown on screen, e.g. 'E101'. */
  code: string;
  /** Slug, e.g. 'host-timeout'. */
  name: string;
  class: AnomalyClass;
  severity: AnomalySeverity;
  /** Screen title, at most 20 characters. */
  title: string;
  /** What happened, for the cashier, at most 60 characters. */
  message: string;
  action: OperatorAction;
  /** What to do, for the cashier, at most 60 characters. */
  actionText: string;
  /** What support does (for the README anomaly guide). */
  support: string;
}

export const TITLE_MAX = 20;
export const TEXT_MAX = 60;
