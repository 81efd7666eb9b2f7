/** Topics: `pos/v1/<fleet>/<terminal>/<type>`, read, made, and the subscription filter for a whole fleet. */
import { TelemetryDecodeError } from './decode-error.js';
import { MESSAGE_TYPES, type MessageType, type TopicParts } from './messages.js';

export const TOPIC_ROOT = 'pos/v1';

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

/**
 * A terminal as an operator names it on the command line: `fleet/terminal`, or `terminal` alone in the fleet the
 * config names. Returns the reason when the fleet is missing or the id is no topic level.
 */
export function terminalTarget(
  target: string,
  defaultFleet: string | null,
): { fleet: string; terminalId: string } | { problem: string } {
  const slash = target.indexOf('/');
  const fleet = slash >= 0 ? target.slice(0, slash) : defaultFleet;
  const terminalId = slash >= 0 ? target.slice(slash + 1) : target;
  if (fleet === null || fleet === '')
    return { problem: 'name the fleet with --fleet, "fleet" in the config, or as fleet/terminal' };
  if (!/^[^/+#]+$/.test(terminalId)) return { problem: `${JSON.stringify(terminalId)} is not a terminal id` };
  return { fleet, terminalId };
}
