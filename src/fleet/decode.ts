/**
 * Turns what arrives from the broker into typed telemetry: the topic says which terminal sent it and which message
 * it is (`pos/v1/<fleet>/<terminal>/<type>`), the payload is the protobuf message of proto/pos/telemetry/v1 for
 * that type. Longs become numbers and enums become short kebab-case names (`OPERATION_STATE_LOCKED` → `locked`).
 *
 * Nothing here throws anything but a TelemetryDecodeError, and TelemetryDecoder never throws at all: it returns the
 * error and counts it, so one bad publisher cannot stop the consumer.
 *
 * The pieces live apart: topics.ts (topic names), messages.ts (the decoded shapes), enum-names.ts (enum values as
 * names), decode-error.ts (the rejection codes); this module re-exports them for its users.
 */
import { wire } from '../telemetry/wire.js';
import { DECODE_ERROR_CODES, type DecodeErrorCode, TelemetryDecodeError } from './decode-error.js';
import { bootReasons, checkStatuses, commandErrors, commandNames, operationStates, severities } from './enum-names.js';
import type { ComponentHealth, Counter, TelemetryHeader, TelemetryMessage, TopicParts } from './messages.js';
import { parseTopic } from './topics.js';

// What a user of decoding needs, from one place.
export * from './decode-error.js';
export * from './enum-names.js';
export * from './messages.js';
export * from './topics.js';

/** Large enough for any honest message (a Health is a few hundred bytes), small enough to refuse a flood. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 256 * 1024;

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

/**
 * A repeated field as a plain array of its own. protobufjs hands each decoded message a fresh array, but an absent
 * field reads as one frozen array shared by every message, which must not leak out.
 */
function strings(v: string[] | null | undefined): string[] {
  return v && v.length > 0 ? v : [];
}

function counters(v: { key?: string | null; count?: LongLike }[] | null | undefined): Counter[] {
  const out: Counter[] = [];
  if (v) for (const c of v) out.push({ key: c.key ?? '', count: num(c.count) });
  return out;
}

interface RawComponent {
  component?: string | null;
  status?: number | null;
  code?: string | null;
  detail?: string | null;
  durationMs?: number | null;
}

function components(v: RawComponent[] | null | undefined): ComponentHealth[] {
  const out: ComponentHealth[] = [];
  if (v)
    for (const c of v)
      out.push({
        component: c.component ?? '',
        status: checkStatuses.name(c.status),
        code: c.code ?? '',
        detail: c.detail ?? '',
        durationMs: c.durationMs ?? 0,
      });
  return out;
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
  try {
    return decodeBody(parts, topic, payload);
  } catch (err) {
    if (err instanceof TelemetryDecodeError) throw err;
    throw new TelemetryDecodeError(
      'bad-payload',
      topic,
      `${parts.type} on ${topic} does not decode: ${(err as Error).message}`,
    );
  }
}

// Each message is built as one literal with its envelope written out (no spread): this runs for every delivery.
function decodeBody(parts: TopicParts, topic: string, payload: Uint8Array): TelemetryMessage {
  const { fleet, terminalId } = parts;
  switch (parts.type) {
    case 'birth': {
      const m = wire.Birth.decode(payload);
      return {
        topic,
        fleet,
        terminalId,
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
        topic,
        fleet,
        terminalId,
        type: 'health',
        header: header(m.header, parts, topic),
        state: operationStates.name(m.state),
        limitations: strings(m.limitations),
        lockReasons: strings(m.lockReasons),
        components: components(m.components),
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
        fleetConsumersOnline: m.fleetConsumersOnline ?? 0,
        historical: m.historical ?? false,
      };
    }
    case 'event': {
      const m = wire.Event.decode(payload);
      return {
        topic,
        fleet,
        terminalId,
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
        topic,
        fleet,
        terminalId,
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
        topic,
        fleet,
        terminalId,
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
        topic,
        fleet,
        terminalId,
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
