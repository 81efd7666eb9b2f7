/**
 * The telemetry messages, generated from proto/pos/telemetry/v1/telemetry.proto by protobufjs (`npm run proto`,
 * part of every build). Code outside src/telemetry imports them from here.
 */
import { pos } from './generated/telemetry.js';

export const wire = pos.telemetry.v1;
export type WireHeader = pos.telemetry.v1.Header.$Properties;

/** Every topic starts with this; the version moves only with an incompatible change of the contract. */
export const TOPIC_PREFIX = 'pos/v1';

/**
 * The leaves under pos/v1/<fleet>/<terminal>/. `state` is retained (the broker's last will sets it offline); all
 * are QoS 1. `cmd` is the only one the terminal subscribes to.
 */
export const TOPIC_KINDS = ['birth', 'health', 'event', 'state', 'cmd', 'cmd-result'] as const;
export type TopicKind = (typeof TOPIC_KINDS)[number];

export function telemetryTopic(fleet: string, terminalId: string, kind: TopicKind): string {
  return `${TOPIC_PREFIX}/${fleet}/${terminalId}/${kind}`;
}

export function telemetryTopics(fleet: string, terminalId: string): Record<TopicKind, string> {
  return Object.fromEntries(TOPIC_KINDS.map((kind) => [kind, telemetryTopic(fleet, terminalId, kind)])) as Record<
    TopicKind,
    string
  >;
}

/** The parts of a telemetry topic, or undefined for anything else. */
export function parseTelemetryTopic(topic: string): { fleet: string; terminalId: string; kind: TopicKind } | undefined {
  const parts = topic.split('/');
  if (parts.length !== 5 || `${parts[0]}/${parts[1]}` !== TOPIC_PREFIX) return undefined;
  const [, , fleet, terminalId, kind] = parts as [string, string, string, string, string];
  if (!fleet || !terminalId || !(TOPIC_KINDS as readonly string[]).includes(kind)) return undefined;
  return { fleet, terminalId, kind: kind as TopicKind };
}

/** pos-fleet's presence: `pos/v1/<fleet>/_fleet/consumer/<client id>`; a consumer of every fleet uses fleet `_all`. */
export const FLEET_PRESENCE_ALL = '_all';

export function fleetPresenceTopic(fleet: string | null, clientId: string): string {
  return `${TOPIC_PREFIX}/${fleet ?? FLEET_PRESENCE_ALL}/_fleet/consumer/${clientId}`;
}

/** What a terminal of `fleet` subscribes to: its fleet's consumers and those of every fleet. */
export function fleetPresenceFilters(fleet: string): string[] {
  return [fleetPresenceTopic(fleet, '+'), fleetPresenceTopic(FLEET_PRESENCE_ALL, '+')];
}

/** The client id in a presence topic, or undefined for any other topic. */
export function parseFleetPresenceTopic(topic: string): string | undefined {
  const parts = topic.split('/');
  if (parts.length !== 6 || `${parts[0]}/${parts[1]}` !== TOPIC_PREFIX || parts[3] !== '_fleet') return undefined;
  return parts[4] === 'consumer' && parts[5] ? parts[5] : undefined;
}

/** Allow-list names of fleet commands (config mqtt.commands) and their wire values. */
export const COMMAND_NAMES = {
  'run-self-test': pos.telemetry.v1.CommandName.COMMAND_NAME_RUN_SELF_TEST,
  'send-health': pos.telemetry.v1.CommandName.COMMAND_NAME_SEND_HEALTH,
  rebirth: pos.telemetry.v1.CommandName.COMMAND_NAME_REBIRTH,
  unlock: pos.telemetry.v1.CommandName.COMMAND_NAME_UNLOCK,
  settle: pos.telemetry.v1.CommandName.COMMAND_NAME_SETTLE,
  'check-health-external': pos.telemetry.v1.CommandName.COMMAND_NAME_CHECK_HEALTH_EXTERNAL,
  'check-health-interactive': pos.telemetry.v1.CommandName.COMMAND_NAME_CHECK_HEALTH_INTERACTIVE,
} as const;
export type CommandNameText = keyof typeof COMMAND_NAMES;
