/** The whole table in code order, and the lookups by code and by name. */
import { DECLINED } from './declined.js';
import { DUPLICATE_UNAUTHORIZED_FRAUD } from './duplicate-unauthorized-fraud.js';
import { HARDWARE } from './hardware.js';
import { HOST_AND_NETWORK } from './host-and-network.js';
import { OPERATOR } from './operator.js';
import { SYSTEM_AND_DATA } from './system-and-data.js';
import type { AnomalyShape } from './vocabulary.js';

const TABLE = [
  ...HOST_AND_NETWORK,
  ...DECLINED,
  ...HARDWARE,
  ...OPERATOR,
  ...DUPLICATE_UNAUTHORIZED_FRAUD,
  ...SYSTEM_AND_DATA,
] as const;

/** Every anomaly name the table knows: the only names that compile wherever an anomaly is raised. */
export type AnomalyName = (typeof TABLE)[number]['name'];

export interface AnomalyDefinition extends AnomalyShape {
  name: AnomalyName;
}

export const ANOMALIES: readonly AnomalyDefinition[] = Object.freeze(
  TABLE.map((d): AnomalyDefinition => Object.freeze({ ...d })),
);

const BY_CODE: ReadonlyMap<string, AnomalyDefinition> = new Map(ANOMALIES.map((d) => [d.code, d]));
const BY_NAME: ReadonlyMap<string, AnomalyDefinition> = new Map(ANOMALIES.map((d) => [d.name, d]));

export function anomalyByCode(code: string): AnomalyDefinition | undefined {
  return BY_CODE.get(code.toUpperCase());
}

export function isAnomalyName(name: string): name is AnomalyName {
  return BY_NAME.has(name);
}

/** Throws for a name not in the table: names come from code, so an unknown one is a programming error. */
export function anomalyByName(name: AnomalyName): AnomalyDefinition {
  const def = BY_NAME.get(name);
  if (!def) throw new RangeError(`unknown anomaly name: ${String(name)}`);
  return def;
}
