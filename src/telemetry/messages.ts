/**
 * The content of each telemetry message, made from what the terminal knows. Pure functions: the publisher adds the
 * header (boot id, seq, time) and sends. Card data: free text is scrubbed of anything that looks like a card number
 * or track data, and the PAN field only ever holds a masked PAN.
 */
import { luhnValid } from '../../hal/card-reader/luhn.js';
import type { NetworkState } from '../../hal/network/contract.js';
import type { RaisedAnomaly } from '../anomaly/recorder.js';
import { assertNoCardData, isMaskedPan } from '../journal/card-data-guard.js';
import type { CheckResult, SelfTestReport } from '../selftest/selftest.js';
import type { TerminalStatus } from '../terminal/terminal.js';
import { maskPan } from '../util/pan.js';
import type { pos } from './generated/telemetry.js';
import { wire } from './wire.js';

type HealthBody = Omit<pos.telemetry.v1.Health.$Properties, 'header'>;
type EventBody = Omit<pos.telemetry.v1.Event.$Properties, 'header'>;

// The same shapes the journal's guard refuses: 13-19 digit runs, grouped print forms, track sentinels.
const DIGIT_RUN = /(?<!\d)\d{13,19}(?!\d)/g;
const GROUPED = /(?<!\d)(?:\d{4}([ -])\d{4}\1\d{4}\1\d{1,4}(?:\1\d{1,3})?|\d{4}([ -])\d{6}\2\d{4,5})(?!\d)/g;
const TRACK = /%B\d[^?]*\??|;\d{12,19}=[^?]*\??|\d{12,19}[=D]\d{4}\w*/g;

/** Free text as it may leave the terminal: card numbers masked, track data cut out. */
export function scrubCardData(text: string): string {
  return text
    .replace(TRACK, '[track data removed]')
    .replace(DIGIT_RUN, (run) => (luhnValid(run) ? (maskPan(run) ?? '') : run))
    .replace(GROUPED, (run) => {
      const digits = run.replace(/[ -]/g, '');
      return luhnValid(digits) ? (maskPan(digits) ?? '') : run;
    });
}

/** A masked PAN stays; anything else is masked here (a full PAN handed over by mistake never leaves). */
export function safeMaskedPan(value: string | undefined): string {
  if (!value) return '';
  return isMaskedPan(value) ? value : (maskPan(value) ?? '');
}

/** Last check before encoding: throws (JournalError card-data-refused) if a message still holds card data. */
export function assertPublishable(message: object, what: string): void {
  assertNoCardData(message, what);
}

const { OperationState, CheckStatus, Severity } = wire;

/** Boot and later self-tests go through the same machine states; `booted` tells them apart. */
export function operationState(state: string, booted: boolean): pos.telemetry.v1.OperationState {
  switch (state) {
    case 'ready':
      return OperationState.OPERATION_STATE_READY;
    case 'degraded':
      return OperationState.OPERATION_STATE_DEGRADED;
    case 'locked':
      return OperationState.OPERATION_STATE_LOCKED;
    case 'transacting':
      return OperationState.OPERATION_STATE_TRANSACTING;
    case 'selfTesting':
    case 'evaluating':
      return booted ? OperationState.OPERATION_STATE_SELF_TESTING : OperationState.OPERATION_STATE_STARTING;
    case 'booting':
    case 'recovering':
      return OperationState.OPERATION_STATE_STARTING;
    default:
      return OperationState.OPERATION_STATE_UNSPECIFIED;
  }
}

export function checkStatus(status: CheckResult['status']): pos.telemetry.v1.CheckStatus {
  return status === 'ok'
    ? CheckStatus.CHECK_STATUS_OK
    : status === 'warn'
      ? CheckStatus.CHECK_STATUS_WARN
      : CheckStatus.CHECK_STATUS_FAULT;
}

export function severity(name: string): pos.telemetry.v1.Severity {
  switch (name) {
    case 'info':
      return Severity.SEVERITY_INFO;
    case 'warning':
      return Severity.SEVERITY_WARNING;
    case 'error':
      return Severity.SEVERITY_ERROR;
    case 'critical':
      return Severity.SEVERITY_CRITICAL;
    default:
      return Severity.SEVERITY_UNSPECIFIED;
  }
}

/** Per-component statuses in a stable form, to see whether a new self-test changed any of them. */
export function componentSignature(report: SelfTestReport | undefined): string {
  if (!report) return '';
  return report.results
    .map((r) => `${r.component}=${r.status}:${r.code}`)
    .sort()
    .join(',');
}

export interface HealthFacts {
  status: TerminalStatus;
  booted: boolean;
  selfTest: SelfTestReport | undefined;
  outcomes: ReadonlyMap<string, number>;
  anomalies: ReadonlyMap<string, number>;
  network: NetworkState | undefined;
  hostRttMs: number | undefined;
  resources: { rssBytes: number; heapUsedBytes: number; cpuPercent: number; diskFreeBytes: number; uptimeS: number };
  dropped: { health: number; other: number };
  outboxDepth: number;
}

function counters(map: ReadonlyMap<string, number>): pos.telemetry.v1.Counter.$Properties[] {
  return [...map.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([key, count]) => ({ key, count }));
}

export function healthBody(f: HealthFacts): HealthBody {
  const { status } = f;
  return {
    state: operationState(status.state, f.booted),
    limitations: status.limitations.map(scrubCardData),
    lockReasons: status.lockReasons.map(scrubCardData),
    components: (f.selfTest?.results ?? []).map((r) => ({
      component: r.component,
      status: checkStatus(r.status),
      code: r.code,
      detail: scrubCardData(r.detail),
      durationMs: Math.max(0, Math.round(r.durationMs)),
    })),
    pendingReversals: status.pendingReversals,
    storeAndForward: {
      depth: status.offlineQueue.count,
      totalMinor: status.offlineQueue.total,
      oldestAgeMs: Math.max(0, status.offlineQueue.oldestAgeMs ?? 0),
    },
    outcomes: counters(f.outcomes),
    anomalies: counters(f.anomalies),
    link: {
      hostUp: status.hostUp,
      networkUp: f.network ? f.network.link === 'up' : true,
      interface: f.network?.interface ?? '',
      signalDbm: Math.round(f.network?.signal?.dbm ?? 0),
      signalPercent: Math.round(f.network?.signal?.percent ?? 0),
      hostRttMs: Math.max(0, Math.round(f.hostRttMs ?? 0)),
      hostDown: status.hostDown ?? false,
    },
    resources: f.resources,
    telemetryDropped: f.dropped.health,
    eventsDropped: f.dropped.other,
    outboxDepth: f.outboxDepth,
    reversalsSetAside: status.setAside?.reversals.count ?? 0,
    reversalsSetAsideMinor: status.setAside?.reversals.total ?? 0,
    advicesSetAside: status.setAside?.advices.count ?? 0,
    advicesSetAsideMinor: status.setAside?.advices.total ?? 0,
  };
}

export function anomalyEventBody(raised: RaisedAnomaly, now: number): EventBody {
  const { definition, row, context } = raised;
  const message = row?.message ?? (context.reason ? `${definition.message}: ${context.reason}` : definition.message);
  return {
    kind: 'anomaly',
    code: definition.code,
    name: definition.name,
    severity: severity(definition.severity),
    atMs: row?.at ?? now,
    stan: context.stan ?? 0,
    amountMinor: context.amount ?? 0,
    currency: context.currency ?? '',
    maskedPan: safeMaskedPan(context.maskedPan),
    message: scrubCardData(message),
    txnRef: scrubCardData(context.txnRef ?? ''),
  };
}

export type LifecycleName = 'boot' | 'recovery-done' | 'lock' | 'unlock' | 'shutdown';

export function lifecycleEventBody(
  name: LifecycleName,
  message: string,
  level: 'info' | 'warning',
  now: number,
): EventBody {
  return { kind: 'lifecycle', code: name, name, severity: severity(level), atMs: now, message: scrubCardData(message) };
}
