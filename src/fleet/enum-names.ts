/**
 * Enum values travel as short kebab-case names derived from the generated code (`OPERATION_STATE_SELF_TESTING` →
 * `self-testing`), so a value added to the contract shows up by name without a change here. The unions list the
 * names this consumer acts on; `(string & {})` keeps room for the others.
 */
import { wire } from '../telemetry/wire.js';

type Open<N extends string> = N | (string & {});

export type BootReasonName = Open<'unspecified' | 'clean' | 'crash' | 'power-loss' | 'watchdog' | 'first'>;
export type OperationStateName = Open<
  'unspecified' | 'starting' | 'ready' | 'degraded' | 'locked' | 'transacting' | 'self-testing'
>;
export type CheckStatusName = Open<'unspecified' | 'ok' | 'warn' | 'fault'>;
export type SeverityName = Open<'unspecified' | 'info' | 'warning' | 'error' | 'critical'>;
export type CommandNameName = Open<
  | 'unspecified'
  | 'run-self-test'
  | 'send-health'
  | 'rebirth'
  | 'unlock'
  | 'settle'
  | 'check-health-external'
  | 'check-health-interactive'
>;
export type CommandErrorName = Open<
  | 'none'
  | 'not-allowed'
  | 'malformed'
  | 'too-large'
  | 'busy'
  | 'failed'
  | 'unauthenticated'
  | 'stale'
  | 'duplicate'
  | 'retained'
>;

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
  'settle',
  'check-health-external',
  'check-health-interactive',
]);
export const commandErrors = enumNames(wire.CommandError, 'COMMAND_ERROR_', ['none']);
