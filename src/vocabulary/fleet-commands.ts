/**
 * The fleet commands by name, one list for both sides: the terminal obeys those its `mqtt.commands` allow-list
 * names, and pos-fleet (the operators' service) sends only these.
 */
export const FLEET_COMMANDS = [
  'run-self-test',
  'send-health',
  'rebirth',
  'unlock',
  'settle',
  'check-health-external',
  'check-health-interactive',
] as const;

export type FleetCommandName = (typeof FLEET_COMMANDS)[number];
