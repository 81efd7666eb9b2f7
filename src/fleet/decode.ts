/**
 * Turns what arrives from the broker into typed telemetry: the topic says which terminal sent it and which message
 * it is (`pos/v1/<fleet>/<terminal>/<type>`), the payload is the protobuf message of proto/pos/telemetry/v1 for
 * that type. Longs become numbers and enums become short kebab-case names (`OPERATION_STATE_LOCKED` → `locked`).
 *
 * Nothing here throws anything but a TelemetryDecodeError, and TelemetryDecoder never throws at all: it returns the
 * error and counts it, so one bad publisher cannot stop the consumer.
 */
import { wire } from '../telemetry/wire.js';

export const TOPIC_ROOT = 'pos/v1';

export const MESSAGE_TYPES = ['birth', 'health', 'event', 'state', 'cmd', 'cmd-result'] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

/** Large enough for any honest message (a Health is a few hundred bytes), small enough to refuse a flood. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 256 * 1024;

export type DecodeErrorCode =
  | 'bad-topic' // not pos/v1/<fleet>/<terminal>/<known type>
  | 'too-large' // payload over the size limit
  | 'empty-payload' // zero bytes (e.g. a retained message being cleared)
  | 'bad-payload' // protobuf does not decode
  | 'missing-header' // decoded, but no header, terminal id or boot id
  | 'header-mismatch'; // header names another terminal or fleet than the topic

export const DECODE_ERROR_CODES: readonly DecodeErrorCode[] = [
  'bad-topic',
  'too-large',
  'empty-payload',
  'bad-payload',
  'missing-header',
  'header-mismatch',
];

export class TelemetryDecodeError extends Error {
  override readonly name = 'TelemetryDecodeError';
  constructor(
    readonly code: DecodeErrorCode,
    readonly topic: string,
    message: string,
  ) {
    super(message);
  }
}

// ---- enums ---------------------------------------------------------------------------------------------------

/**
 * Enum values travel as short kebab-case names derived from the generated code (`OPERATION_STATE_SELF_TESTING` →
 * `self-testing`), so a value added to the contract shows up by name without a change here. The unions list the
 * names this consumer acts on; `(string & {})` keeps room for the others.
 */
type Open<N extends string> = N | (string & {});

export type BootReasonName = Open<'unspecified' | 'clean' | 'crash' | 'power-loss' | 'watchdog' | 'first'>;
export type OperationStateName = Open<
  'unspecified' | 'starting' | 'ready' | 'degraded' | 'locked' | 'transacting' | 'self-testing'
>;
export type CheckStatusName = Open<'unspecified' | 'ok' | 'warn' | 'fault'>;
export type SeverityName = Open<'unspecified' | 'info' | 'warning' | 'error' | 'critical'>;
export type CommandNameName = Open<'unspecified' | 'run-self-test' | 'send-health' | 'rebirth' | 'unlock'>;
export type CommandErrorName = Open<'none' | 'not-allowed' | 'malformed' | 'too-large' | 'busy' | 'failed'>;

/**
 * Name lookup built from a generated enum. `required` are the names this module relies on: if the contract loses
 * one, loading fails (and the tests with it) rather than silently mislabelling telemetry. A number the generated
 * code does not know (a terminal on a newer contract) reads as `unknown-<n>`.
 */
function enumNames(generated: object, prefix: string, required: readonly string[]) {
  const byNumber = new Map<number, string>();
  const byName = new Map<string, number>();
  for (const [key, value] of Object.entries(generated)) {
    if (typeof value !== 'number' || !key.startsWith(prefix)) continue;
    const name = key.slice(prefix.length).toLowerCase().replace(/_/g, '-');
    byNumber.set(value, name);
    byName.set(name, value);
  }
  for (const name of required)
    if (!byName.has(name))
      throw new Error(`telemetry enum ${prefix}${name.toUpperCase().replace(/-/g, '_')} is missing`);
  return {
    name: (n: number | null | undefined): string => byNumber.get(n ?? 0) ?? `unknown-${n ?? 0}`,
    /** The wire number of a name, or undefined for a name the contract does not have. */
    value: (name: string): number | undefined => byName.get(name),
    names: (): string[] => [...byName.keys()],
  };
}

export const bootReasons = enumNames(wire.BootReason, 'BOOT_REASON_', ['unspecified']);
export const operationStates = enumNames(wire.OperationState, 'OPERATION_STATE_', [
  'unspecified',
  'ready',
  'degraded',
  'locked',
]);
export const checkStatuses = enumNames(wire.CheckStatus, 'CHECK_STATUS_', ['unspecified', 'ok', 'warn', 'fault']);
export const severities = enumNames(wire.Severity, 'SEVERITY_', [
  'unspecified',
  'info',
  'warning',
  'error',
  'critical',
]);
export const commandNames = enumNames(wire.CommandName, 'COMMAND_NAME_', [
  'unspecified',
  'run-self-test',
  'send-health',
  'rebirth',
  'unlock',
]);
export const commandErrors = enumNames(wire.CommandError, 'COMMAND_ERROR_', ['none']);

// ---- decoded shapes ------------------------------------------------------------------------------------------

export interface TelemetryHeader {
  terminalId: string;
  fleet: string;
  bootId: string;
  seq: number;
  sentAtMs: number;
}

/** Where a message came from, read off the topic. */
export interface TopicParts {
  fleet: string;
  terminalId: string;
  type: MessageType;
}

interface Envelope {
  topic: string;
  fleet: string;
  terminalId: string;
}

export interface BirthMessage extends Envelope {
  type: 'birth';
  header: TelemetryHeader;
  firmwareVersion: string;
  configVersion: string;
  capabilities: string[];
  bootReason: BootReasonName;
  bootedAtMs: number;
  model: string;
  /** Connection number within this boot (1 = first); the will of that connection carries the same. 0 = not sent. */
  session: number;
  /** How often this terminal promises a Health while online; 0 = not sent (older terminals). */
  healthIntervalMs: number;
}

export interface ComponentHealth {
  component: string;
  status: CheckStatusName;
  code: string;
  detail: string;
  durationMs: number;
}

export interface Counter {
  key: string;
  count: number;
}

export interface LinkQuality {
  hostUp: boolean;
  networkUp: boolean;
  interface: string;
  signalDbm: number;
  signalPercent: number;
  hostRttMs: number;
}

export interface Resources {
  rssBytes: number;
  heapUsedBytes: number;
  cpuPercent: number;
  diskFreeBytes: number;
  uptimeS: number;
}

export interface StoreAndForward {
  depth: number;
  totalMinor: number;
  oldestAgeMs: number;
}

export interface HealthMessage extends Envelope {
  type: 'health';
  header: TelemetryHeader;
  state: OperationStateName;
  limitations: string[];
  lockReasons: string[];
  components: ComponentHealth[];
  pendingReversals: number;
  storeAndForward: StoreAndForward;
  outcomes: Counter[];
  anomalies: Counter[];
  /** null when the terminal sent none. */
  link: LinkQuality | null;
  resources: Resources | null;
  /** Health messages dropped from the terminal's outbox while the broker was away. */
  telemetryDropped: number;
  /** Other messages dropped from the outbox (only when it held nothing else to drop). */
  eventsDropped: number;
  /** Messages waiting in the terminal's outbox when this Health was made. */
  outboxDepth: number;
}

export interface EventMessage extends Envelope {
  type: 'event';
  header: TelemetryHeader;
  /** "anomaly" or "lifecycle". */
  kind: string;
  code: string;
  name: string;
  severity: SeverityName;
  /** The wire number, kept so a severity from a newer contract still compares correctly. */
  severityLevel: number;
  atMs: number;
  stan: number;
  amountMinor: number;
  currency: string;
  maskedPan: string;
  message: string;
  txnRef: string;
}

export interface StateMessage extends Envelope {
  type: 'state';
  header: TelemetryHeader;
  online: boolean;
  reason: string;
  /** As in the Birth of the same connection; 0 = not sent. */
  session: number;
}

/** A command from the fleet (ours or another operator's): it has no header. */
export interface CommandMessage extends Envelope {
  type: 'cmd';
  commandId: string;
  name: CommandNameName;
  issuedAtMs: number;
  issuedBy: string;
}

export interface CommandResultMessage extends Envelope {
  type: 'cmd-result';
  header: TelemetryHeader;
  commandId: string;
  name: CommandNameName;
  ok: boolean;
  error: CommandErrorName;
  message: string;
}

export type TelemetryMessage =
  | BirthMessage
  | HealthMessage
  | EventMessage
  | StateMessage
  | CommandMessage
  | CommandResultMessage;

/** Every message a terminal publishes (all but `cmd`). */
export type TerminalMessage = Exclude<TelemetryMessage, CommandMessage>;

// ---- topics --------------------------------------------------------------------------------------------------

/** A topic level a terminal or fleet name may use: not empty, no wildcard, no separator. */
function isTopicLevel(s: string): boolean {
  return s.length > 0 && !/[+#/\u0000]/.test(s);
}

export function parseTopic(topic: string): TopicParts {
  const parts = topic.split('/');
  const [root, version, fleet, terminalId, type] = parts;
  if (parts.length !== 5 || `${root}/${version}` !== TOPIC_ROOT) {
    throw new TelemetryDecodeError(
      'bad-topic',
      topic,
      `topic ${JSON.stringify(topic)} is not ${TOPIC_ROOT}/<fleet>/<terminal>/<type>`,
    );
  }
  if (fleet === undefined || terminalId === undefined || !isTopicLevel(fleet) || !isTopicLevel(terminalId)) {
    throw new TelemetryDecodeError('bad-topic', topic, `topic ${JSON.stringify(topic)} has an empty fleet or terminal`);
  }
  if (!(MESSAGE_TYPES as readonly string[]).includes(type ?? '')) {
    throw new TelemetryDecodeError(
      'bad-topic',
      topic,
      `topic ${JSON.stringify(topic)}: unknown message type ${JSON.stringify(type)}`,
    );
  }
  return { fleet, terminalId, type: type as MessageType };
}

export function topicFor(fleet: string, terminalId: string, type: MessageType): string {
  if (!isTopicLevel(fleet)) throw new Error(`fleet ${JSON.stringify(fleet)} cannot be a topic level`);
  if (!isTopicLevel(terminalId)) throw new Error(`terminal ${JSON.stringify(terminalId)} cannot be a topic level`);
  return `${TOPIC_ROOT}/${fleet}/${terminalId}/${type}`;
}

/**
 * The subscription filter for every terminal message of one fleet (or all fleets), optionally as an MQTT 5 shared
 * subscription so several consumers in one group each get a share of the messages.
 */
export function subscriptionFilter(fleet?: string, shareGroup?: string): string {
  if (fleet !== undefined && !isTopicLevel(fleet))
    throw new Error(`fleet ${JSON.stringify(fleet)} cannot be a topic level`);
  if (shareGroup !== undefined && !isTopicLevel(shareGroup)) {
    throw new Error(`share group ${JSON.stringify(shareGroup)} cannot be a topic level`);
  }
  const filter = `${TOPIC_ROOT}/${fleet ?? '+'}/+/+`;
  return shareGroup === undefined ? filter : `$share/${shareGroup}/${filter}`;
}

// ---- payloads ------------------------------------------------------------------------------------------------

type LongLike = number | { toNumber(): number } | null | undefined;

/** uint64/int64 as a number (exact up to 2^53, which covers every count, byte size and epoch time we carry). */
function num(v: LongLike): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

interface RawHeader {
  terminalId?: string | null;
  fleet?: string | null;
  bootId?: string | null;
  seq?: LongLike;
  sentAtMs?: LongLike;
}

function header(raw: RawHeader | null | undefined, parts: TopicParts, topic: string): TelemetryHeader {
  if (!raw) throw new TelemetryDecodeError('missing-header', topic, `${parts.type} on ${topic} has no header`);
  const h: TelemetryHeader = {
    terminalId: raw.terminalId ?? '',
    fleet: raw.fleet ?? '',
    bootId: raw.bootId ?? '',
    seq: num(raw.seq),
    sentAtMs: num(raw.sentAtMs),
  };
  if (h.terminalId === '' || h.bootId === '') {
    throw new TelemetryDecodeError(
      'missing-header',
      topic,
      `${parts.type} on ${topic} has no terminal id or boot id in its header`,
    );
  }
  if (h.terminalId !== parts.terminalId) {
    throw new TelemetryDecodeError(
      'header-mismatch',
      topic,
      `${parts.type} on ${topic} claims terminal ${JSON.stringify(h.terminalId)}`,
    );
  }
  if (h.fleet !== '' && h.fleet !== parts.fleet) {
    throw new TelemetryDecodeError(
      'header-mismatch',
      topic,
      `${parts.type} on ${topic} claims fleet ${JSON.stringify(h.fleet)}`,
    );
  }
  return h;
}

function strings(v: string[] | null | undefined): string[] {
  return v ? [...v] : [];
}

function counters(v: { key?: string | null; count?: LongLike }[] | null | undefined): Counter[] {
  return (v ?? []).map((c) => ({ key: c.key ?? '', count: num(c.count) }));
}

export interface DecodeOptions {
  maxPayloadBytes?: number;
}

/** Decodes one message or throws a TelemetryDecodeError saying why not. */
export function decodeTelemetry(topic: string, payload: Uint8Array, opts: DecodeOptions = {}): TelemetryMessage {
  const parts = parseTopic(topic);
  const max = opts.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  if (payload.length > max) {
    throw new TelemetryDecodeError(
      'too-large',
      topic,
      `${parts.type} on ${topic} is ${payload.length} bytes, over the ${max} byte limit`,
    );
  }
  if (payload.length === 0)
    throw new TelemetryDecodeError('empty-payload', topic, `${parts.type} on ${topic} is empty`);
  const env: Envelope = { topic, fleet: parts.fleet, terminalId: parts.terminalId };
  try {
    return decodeBody(parts, env, payload);
  } catch (err) {
    if (err instanceof TelemetryDecodeError) throw err;
    throw new TelemetryDecodeError(
      'bad-payload',
      topic,
      `${parts.type} on ${topic} does not decode: ${(err as Error).message}`,
    );
  }
}

function decodeBody(parts: TopicParts, env: Envelope, payload: Uint8Array): TelemetryMessage {
  const topic = env.topic;
  switch (parts.type) {
    case 'birth': {
      const m = wire.Birth.decode(payload);
      return {
        ...env,
        type: 'birth',
        header: header(m.header, parts, topic),
        firmwareVersion: m.firmwareVersion,
        configVersion: m.configVersion,
        capabilities: strings(m.capabilities),
        bootReason: bootReasons.name(m.bootReason),
        bootedAtMs: num(m.bootedAtMs),
        model: m.model,
        session: m.session ?? 0,
        healthIntervalMs: m.healthIntervalMs ?? 0,
      };
    }
    case 'health': {
      const m = wire.Health.decode(payload);
      const saf = m.storeAndForward;
      const link = m.link;
      const res = m.resources;
      return {
        ...env,
        type: 'health',
        header: header(m.header, parts, topic),
        state: operationStates.name(m.state),
        limitations: strings(m.limitations),
        lockReasons: strings(m.lockReasons),
        components: (m.components ?? []).map((c) => ({
          component: c.component ?? '',
          status: checkStatuses.name(c.status),
          code: c.code ?? '',
          detail: c.detail ?? '',
          durationMs: c.durationMs ?? 0,
        })),
        pendingReversals: m.pendingReversals,
        storeAndForward: {
          depth: saf?.depth ?? 0,
          totalMinor: num(saf?.totalMinor),
          oldestAgeMs: num(saf?.oldestAgeMs),
        },
        outcomes: counters(m.outcomes),
        anomalies: counters(m.anomalies),
        link: link
          ? {
              hostUp: link.hostUp ?? false,
              networkUp: link.networkUp ?? false,
              interface: link.interface ?? '',
              signalDbm: link.signalDbm ?? 0,
              signalPercent: link.signalPercent ?? 0,
              hostRttMs: link.hostRttMs ?? 0,
            }
          : null,
        resources: res
          ? {
              rssBytes: num(res.rssBytes),
              heapUsedBytes: num(res.heapUsedBytes),
              cpuPercent: res.cpuPercent ?? 0,
              diskFreeBytes: num(res.diskFreeBytes),
              uptimeS: num(res.uptimeS),
            }
          : null,
        telemetryDropped: num(m.telemetryDropped),
        eventsDropped: num(m.eventsDropped),
        outboxDepth: m.outboxDepth ?? 0,
      };
    }
    case 'event': {
      const m = wire.Event.decode(payload);
      return {
        ...env,
        type: 'event',
        header: header(m.header, parts, topic),
        kind: m.kind,
        code: m.code,
        name: m.name,
        severity: severities.name(m.severity),
        severityLevel: m.severity,
        atMs: num(m.atMs),
        stan: m.stan,
        amountMinor: num(m.amountMinor),
        currency: m.currency,
        maskedPan: m.maskedPan,
        message: m.message,
        txnRef: m.txnRef,
      };
    }
    case 'state': {
      const m = wire.State.decode(payload);
      return {
        ...env,
        type: 'state',
        header: header(m.header, parts, topic),
        online: m.online,
        reason: m.reason,
        session: m.session ?? 0,
      };
    }
    case 'cmd': {
      const m = wire.Command.decode(payload);
      return {
        ...env,
        type: 'cmd',
        commandId: m.commandId,
        name: commandNames.name(m.name),
        issuedAtMs: num(m.issuedAtMs),
        issuedBy: m.issuedBy,
      };
    }
    case 'cmd-result': {
      const m = wire.CommandResult.decode(payload);
      return {
        ...env,
        type: 'cmd-result',
        header: header(m.header, parts, topic),
        commandId: m.commandId,
        name: commandNames.name(m.name),
        ok: m.ok,
        error: commandErrors.name(m.error),
        message: m.message,
      };
    }
  }
}

// ---- counting decoder ----------------------------------------------------------------------------------------

export type DecodeResult = { ok: true; message: TelemetryMessage } | { ok: false; error: TelemetryDecodeError };

export interface DecodeCounts {
  received: number;
  decoded: number;
  rejected: number;
  byError: Record<DecodeErrorCode, number>;
}

/** Decodes and counts; never throws. */
export class TelemetryDecoder {
  private readonly counts: DecodeCounts = {
    received: 0,
    decoded: 0,
    rejected: 0,
    byError: Object.fromEntries(DECODE_ERROR_CODES.map((c) => [c, 0])) as Record<DecodeErrorCode, number>,
  };

  constructor(private readonly opts: DecodeOptions = {}) {}

  decode(topic: string, payload: Uint8Array): DecodeResult {
    this.counts.received++;
    try {
      const message = decodeTelemetry(topic, payload, this.opts);
      this.counts.decoded++;
      return { ok: true, message };
    } catch (err) {
      const error =
        err instanceof TelemetryDecodeError
          ? err
          : new TelemetryDecodeError('bad-payload', topic, `${topic}: ${String(err)}`);
      this.counts.rejected++;
      this.counts.byError[error.code]++;
      return { ok: false, error };
    }
  }

  stats(): DecodeCounts {
    return { ...this.counts, byError: { ...this.counts.byError } };
  }
}
