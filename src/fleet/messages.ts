/**
 * Telemetry as the fleet consumer reads it: one typed shape per message, longs as numbers, enums as names. The
 * envelope (fleet, terminal, topic) comes from the topic; everything else from the protobuf payload.
 */
import type {
  BootReasonName,
  CheckStatusName,
  CommandErrorName,
  CommandNameName,
  OperationStateName,
  SeverityName,
} from './enum-names.js';

export const MESSAGE_TYPES = ['birth', 'health', 'event', 'state', 'cmd', 'cmd-result'] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

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

export interface Envelope {
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
  /** pos-fleet consumers the terminal saw online when it made this Health. */
  fleetConsumersOnline: number;
  /** Made while the terminal was offline (backlog): history, never the current state. */
  historical: boolean;
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
