/** What the dashboard's routes are given: the fleet picture, the stores behind the ports, and its settings. */
import type { Clock } from '../../../hal/clock.js';
import type { AlertBook, FleetHistoryReader } from '../ports.js';
import type { FleetState } from '../state.js';
import type { CommandAudit } from './command-audit.js';
import type { CommandRunner } from './command-runner.js';
import type { FleetIndex } from './fleet-index.js';

export interface ConsumerStatus {
  connected: boolean;
  received: number;
  decoded: number;
  rejected: number;
  filter: string;
}

export interface DashboardContext {
  clock: Clock;
  state: FleetState;
  index: FleetIndex;
  alerts: AlertBook;
  /** Undefined when no history store is configured: the terminal page says so. */
  history: FleetHistoryReader | undefined;
  audit: CommandAudit;
  commands: CommandRunner;
  operator: string;
  /** Lower-case header name a trusted proxy sets to the operator's name; null = none trusted. */
  operatorHeader: string | null;
  pageSize: number;
  refreshSeconds: number;
  title: string;
  consumerStatus?: () => ConsumerStatus;
}
