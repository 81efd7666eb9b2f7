/**
 * The telemetry API: the publisher and what it is made with, the run marker, the command check and the wire
 * contract. The terminal puts them together in src/app/telemetry-wiring.ts.
 */
export {
  TelemetryPublisher,
  type BirthFacts,
  type TelemetrySource,
  type TelemetryPublisherOptions,
  type PublisherStats,
} from './publisher.js';
export type { CommandHandler, CommandOutcome, ReceivedCommand } from './command-intake.js';
export { RunMarker, bootReasonFrom, type BootReasonName, type RunMarkerOptions } from './boot-marker.js';
export type { EmbeddedBroker } from './embedded-broker.js';
export { checkCommand } from './commands.js';
export { scrubCardData } from './messages.js';
export * from './wire.js';
