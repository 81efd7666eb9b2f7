/**
 * Raising an anomaly: the one path every anomaly takes. It is journaled (with time, amount, currency, masked PAN,
 * STAN and code), shown on the display as an error screen, logged, and handed to listeners (ECR stream,
 * telemetry). A failing display never stops the journal entry.
 */
import type { Display } from '../../hal/display/contract.js';
import type { Journal, AnomalyRow } from '../journal/index.js';
import type { Language } from '../i18n/index.js';
import type { Logger } from '../util/log.js';
import { anomalyByName, renderAnomalyScreen, type AnomalyDefinition, type AnomalyName } from './taxonomy.js';

export interface AnomalyContext {
  reason?: string;
  txnRef?: string;
  stan?: number;
  amount?: number;
  currency?: string;
  maskedPan?: string;
  detail?: Record<string, unknown>;
}

export interface RaisedAnomaly {
  definition: AnomalyDefinition;
  row: AnomalyRow | undefined;
  context: AnomalyContext;
}

export type AnomalyListener = (anomaly: RaisedAnomaly) => void;

export class AnomalyRecorder {
  private readonly listeners = new Set<AnomalyListener>();

  constructor(
    private readonly journal: Journal,
    private readonly display: Display,
    private readonly log: Logger,
    /** The screen's language (`terminal.language`); the journal and the log keep the taxonomy's English. */
    private readonly language?: Language,
  ) {}

  onAnomaly(listener: AnomalyListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  raise(name: AnomalyName, context: AnomalyContext = {}, options: { show?: boolean } = {}): RaisedAnomaly {
    const definition = lookup(name);
    let row: AnomalyRow | undefined;
    try {
      row = this.journal.anomalies.record({
        code: definition.code,
        class: definition.class,
        severity: definition.severity,
        message: context.reason ? `${definition.message}: ${context.reason}` : definition.message,
        ...(context.txnRef !== undefined ? { txnRef: context.txnRef } : {}),
        ...(context.stan !== undefined ? { stan: context.stan } : {}),
        ...(context.amount !== undefined ? { amount: context.amount } : {}),
        ...(context.currency !== undefined ? { currency: context.currency } : {}),
        ...(context.maskedPan !== undefined ? { maskedPan: context.maskedPan } : {}),
        ...(context.detail !== undefined ? { detail: context.detail } : {}),
      });
    } catch (err) {
      // The journal itself failing is the one anomaly we can only log; the caller keeps going.
      this.log.error({ err, code: definition.code }, 'anomaly could not be journaled');
    }
    this.log.warn(
      {
        code: definition.code,
        anomaly: definition.name,
        severity: definition.severity,
        txnRef: context.txnRef,
        stan: context.stan,
        reason: context.reason,
      },
      definition.message,
    );
    if (options.show ?? true) {
      this.display
        .show(
          renderAnomalyScreen(definition, {
            ...(context.reason !== undefined ? { reason: context.reason } : {}),
            ...(this.language !== undefined ? { language: this.language } : {}),
          }),
        )
        .catch((err: unknown) => {
          this.log.error({ err }, 'anomaly screen could not be shown');
        });
    }
    const raised = { definition, row, context };
    for (const listener of this.listeners) {
      try {
        listener(raised);
      } catch (err) {
        this.log.error({ err }, 'anomaly listener failed');
      }
    }
    return raised;
  }
}

// The type rules out an unknown name; a value that still is one (from an untyped caller) is a system fault, not a throw.
function lookup(name: AnomalyName): AnomalyDefinition {
  try {
    return anomalyByName(name);
  } catch {
    return anomalyByName('system-fault');
  }
}
