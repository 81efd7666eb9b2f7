/** What the telemetry publisher is made with (publisher.ts). */
import type { BackoffPolicy } from '../../hal/backoff.js';
import type { Clock } from '../../hal/clock.js';
import type { NetworkState } from '../../hal/network/contract.js';
import type { AnomalyRecorder } from '../anomaly/recorder.js';
import type { Journal } from '../journal/index.js';
import type { ProbeResult } from '../selftest/host-probe.js';
import type { SelfTestReport } from '../selftest/selftest.js';
import type { TerminalChange, TerminalStatus } from '../terminal/terminal.js';
import type { Logger } from '../util/log.js';
import type { BootReasonName } from './boot-marker.js';
import type { CommandHandler } from './command-intake.js';

/** What the publisher needs of the terminal (the Terminal class has it all). */
export interface TelemetrySource {
  status(): TerminalStatus;
  readonly lastSelfTest: SelfTestReport | undefined;
  readonly lastRecovery?: { recovered: number; durationMs: number } | undefined;
  onChange(listener: (change: TerminalChange) => void): () => void;
}

export interface BirthFacts {
  firmwareVersion: string;
  configVersion: string;
  capabilities: string[];
  model: string;
}

export interface TelemetryPublisherOptions {
  url: string;
  terminalId: string;
  fleet: string;
  /** Default: pos-<fleet>-<terminalId>. */
  clientId?: string | null;
  username?: string | null;
  password?: string | null;
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized: boolean };
  healthIntervalMs: number;
  connectTimeoutMs?: number;
  keepaliveS?: number;
  reconnect?: BackoffPolicy;
  /** Allow-list of fleet commands. */
  commands: readonly string[];
  maxCommandBytes: number;
  /** The fleet's command key (HMAC-SHA256); without one every command is refused as unauthenticated. */
  commandKey?: Uint8Array | undefined;
  /** How far a command's issued_at may be from this clock; default 5 minutes. */
  commandMaxAgeMs?: number;
  /** Where the ids of the commands run are kept across restarts; absent: in memory only. */
  commandIdsFile?: string;
  /** Coalescing of change-driven Health: default 500 ms of burst, 2 s between Healths. */
  healthBurstMs?: number;
  healthMinSpacingMs?: number;
  /** Runs a fleet command that passed the checks; its answer is published as the CommandResult. */
  onCommand: CommandHandler;
  outboxMaxMessages: number;
  /** Messages handed to the broker before their PUBACKs come back. */
  maxInflight?: number;
  /** How long stop() waits for the outbox to reach the broker before it disconnects anyway (real time). */
  flushTimeoutMs?: number;
  birth: BirthFacts;
  boot: { reason: BootReasonName; atMs: number };
  /** Default: a random UUID for this process. */
  bootId?: string;
  /** For disk free in Health. */
  dataDir?: string;
  journal: Journal;
  anomalies: AnomalyRecorder;
  source: TelemetrySource;
  clock: Clock;
  log: Logger;
  network?: { current(): NetworkState };
  probe?: { last(): ProbeResult | undefined };
  random?: () => number;
}

export interface PublisherStats {
  connected: boolean;
  session: number;
  lastSeq: number;
  outboxDepth: number;
  inflight: number;
  dropped: { health: number; other: number };
}
