/**
 * The fleet consumer's own configuration (it runs at the fleet operator, not on a terminal): built-in defaults, then
 * one JSON-with-comments file (--config), then the POS_FLEET_MQTT_PASSWORD environment variable, then the command
 * line's --url/--fleet/--share, then validation. Every failure is a FleetConfigError whose message is one
 * `path: expected X, found Y` line per bad key. See config/fleet.example.json.
 */
import { resolve } from 'node:path';
import { z } from 'zod';
import { int, MAX_TIMER_MS, positive, str } from './config-fields.js';
import {
  deepMerge,
  isObject,
  JsoncFileError,
  put,
  readJsoncObjectFile,
  schemaProblems,
  valueAt,
  type Json,
  type JsonObject,
} from '../config/jsonc-file.js';
import { ALERTS_DELIVERY_DEFAULTS, alertsDeliverySchema } from './config-alerts-delivery.js';
import { DETECT_DEFAULTS, detectSchema } from './config-detect.js';
import { HISTORY_DEFAULTS, historyConfigSchema } from './config-history.js';
import { WEB_DEFAULTS, webConfigSchema } from './config-web.js';
import { SESSION_DEFAULTS, sessionConfigSchema } from './config-session.js';

/** sysexits.h EX_CONFIG. */
export const EX_CONFIG = 78;

export const PASSWORD_ENV = 'POS_FLEET_MQTT_PASSWORD';

function obj<T extends z.core.$ZodLooseShape>(shape: T) {
  return z.strictObject(shape, { error: 'an object' });
}

const topicLevel = z
  .string({ error: 'a topic level (no "/", "+" or "#") or null' })
  .regex(/^[^/+#\u0000]{1,128}$/, { error: 'a topic level (no "/", "+" or "#") or null' });
const filePathOrNull = str('a file path or null').nullable();
const stringOrNull = str('a non-empty string or null').nullable();
const bool = z.boolean({ error: 'true or false' });

const MQTT_SCHEMES = ['mqtt:', 'mqtts:', 'ws:', 'wss:', 'tcp:', 'ssl:', 'tls:'];
const urlExpected = 'an mqtt://, mqtts://, ws:// or wss:// URL';
const mqttUrl = z.string({ error: urlExpected }).refine(
  (v) => {
    try {
      return MQTT_SCHEMES.includes(new URL(v).protocol);
    } catch {
      return false;
    }
  },
  { error: urlExpected },
);

const ruleTypes = ['event-burst', 'unreachable', 'saf-age', 'pending-reversals'] as const;
const ruleName = str('a non-empty name').optional();
const ruleSchemas = {
  'event-burst': obj({
    type: z.literal('event-burst'),
    name: ruleName,
    code: str('an event code like "E101"'),
    moreThan: int(0, 1_000_000),
    withinMinutes: positive(7 * 24 * 60, 'minutes'),
  }),
  unreachable: obj({
    type: z.literal('unreachable'),
    name: ruleName,
    longerThanMinutes: positive(7 * 24 * 60, 'minutes'),
  }),
  'saf-age': obj({ type: z.literal('saf-age'), name: ruleName, aboveHours: positive(24 * 365, 'hours') }),
  'pending-reversals': obj({
    type: z.literal('pending-reversals'),
    name: ruleName,
    above: int(0, 1_000_000),
    longerThanMinutes: positive(7 * 24 * 60, 'minutes'),
  }),
};
const rule = z.discriminatedUnion(
  'type',
  [ruleSchemas['event-burst'], ruleSchemas.unreachable, ruleSchemas['saf-age'], ruleSchemas['pending-reversals']],
  {
    error: `a rule whose "type" is one of ${ruleTypes.map((t) => JSON.stringify(t)).join(', ')}`,
  },
);

export const fleetConfigSchema = obj({
  mqtt: obj({
    url: mqttUrl,
    clientId: stringOrNull,
    username: stringOrNull,
    password: stringOrNull,
    protocolVersion: z.union([z.literal(4), z.literal(5)], { error: '4 (MQTT 3.1.1) or 5 (MQTT 5)' }),
    connectTimeoutSeconds: positive(600, 'seconds'),
    tls: obj({
      caFile: filePathOrNull,
      certFile: filePathOrNull,
      keyFile: filePathOrNull,
      rejectUnauthorized: bool,
    }).superRefine((v, ctx) => {
      if ((v.certFile === null) !== (v.keyFile === null)) {
        const [missing, set] = v.certFile === null ? ['certFile', 'keyFile'] : ['keyFile', 'certFile'];
        ctx.addIssue({
          code: 'custom',
          path: [missing],
          message: `a file path, since ${set} is set (set both or neither)`,
        });
      }
    }),
  }),
  fleet: topicLevel.nullable(),
  share: topicLevel.nullable(),
  healthIntervalMs: int(1_000, MAX_TIMER_MS),
  missedHealthFactor: positive(1_000, 'health intervals'),
  healthIntervalByTerminal: z.record(
    z.string({ error: 'a terminal id or fleet/terminal' }).min(1, { error: 'a terminal id or fleet/terminal' }),
    int(1_000, MAX_TIMER_MS),
    { error: 'an object of terminal id → health interval (ms)' },
  ),
  anomalyWindowMinutes: positive(7 * 24 * 60, 'minutes'),
  alerts: obj({
    checkIntervalSeconds: positive(3_600, 'seconds'),
    clearAfterSeconds: z
      .number({ error: 'a number of seconds >= 0' })
      .min(0, { error: 'a number of seconds >= 0' })
      .max(86_400, { error: 'a number of seconds >= 0' }),
    rules: z.array(rule, { error: 'a list of rules' }).max(1_000, { error: 'at most 1000 rules' }),
  }),
  commandTimeoutSeconds: positive(3_600, 'seconds'),
  operator: stringOrNull,
  alertsDelivery: alertsDeliverySchema,
  detect: detectSchema,
  history: historyConfigSchema,
  web: webConfigSchema,
  session: sessionConfigSchema,
});

export type FleetConfig = z.infer<typeof fleetConfigSchema>;

/** What runs without a config file: a broker on this machine, every fleet, the four usual alerts. */
export const FLEET_DEFAULTS: JsonObject = {
  mqtt: {
    url: 'mqtt://127.0.0.1:1883',
    clientId: null,
    username: null,
    password: null,
    protocolVersion: 4,
    connectTimeoutSeconds: 10,
    tls: { caFile: null, certFile: null, keyFile: null, rejectUnauthorized: true },
  },
  fleet: null,
  share: null,
  healthIntervalMs: 60_000,
  missedHealthFactor: 3,
  healthIntervalByTerminal: {},
  anomalyWindowMinutes: 15,
  alerts: {
    checkIntervalSeconds: 5,
    clearAfterSeconds: 60,
    rules: [
      { type: 'event-burst', name: 'host timeouts', code: 'E101', moreThan: 5, withinMinutes: 10 },
      { type: 'unreachable', longerThanMinutes: 10 },
      { type: 'saf-age', aboveHours: 12 },
      { type: 'pending-reversals', above: 0, longerThanMinutes: 30 },
    ],
  },
  commandTimeoutSeconds: 30,
  operator: null,
  alertsDelivery: ALERTS_DELIVERY_DEFAULTS,
  detect: DETECT_DEFAULTS,
  history: HISTORY_DEFAULTS,
  web: WEB_DEFAULTS,
  session: SESSION_DEFAULTS,
};

export interface FleetConfigProblem {
  path: string;
  expected: string;
  found: string;
  source?: string;
}

export class FleetConfigError extends Error {
  override readonly name = 'FleetConfigError';
  constructor(readonly problems: FleetConfigProblem[]) {
    super(problems.map(fleetConfigProblemLine).join('\n'));
  }
}

/** One `path: expected X, found Y (from SOURCE)` line of a fleet consumer configuration error. */
export function fleetConfigProblemLine(p: FleetConfigProblem): string {
  return `${p.path}: expected ${p.expected}, found ${p.found}${p.source ? ` (from ${p.source})` : ''}`;
}

export interface FleetConfigOverrides {
  url?: string;
  clientId?: string;
  fleet?: string;
  share?: string;
}

export interface LoadFleetConfigOptions {
  path?: string;
  env?: NodeJS.ProcessEnv;
  overrides?: FleetConfigOverrides;
}

export function loadFleetConfig(opts: LoadFleetConfigOptions = {}): FleetConfig {
  let merged: Json = structuredClone(FLEET_DEFAULTS);
  if (opts.path !== undefined) merged = deepMerge(merged, readConfigFile(resolve(opts.path)));
  const sources = new Map<string, string>();
  const set = (path: [string] | [string, string], value: string | undefined, source: string): void => {
    if (value === undefined || value === '') return;
    let node = merged;
    for (const key of path.slice(0, -1)) {
      if (!isObject(node)) return;
      node = node[key] ?? null;
    }
    const last = path[path.length - 1];
    if (!isObject(node) || last === undefined) return;
    put(node, last, value);
    sources.set(path.join('.'), source);
  };
  const env = opts.env ?? process.env;
  set(['mqtt', 'password'], env[PASSWORD_ENV], PASSWORD_ENV);
  set(['mqtt', 'url'], opts.overrides?.url, '--url');
  set(['mqtt', 'clientId'], opts.overrides?.clientId, '--client-id');
  set(['fleet'], opts.overrides?.fleet, '--fleet');
  set(['share'], opts.overrides?.share, '--share');

  const result = fleetConfigSchema.safeParse(merged);
  if (!result.success)
    throw new FleetConfigError(schemaProblems(result.error.issues, merged, sources, (path) => knownKeys(path, merged)));
  return result.data;
}

export function formatFleetConfigError(err: FleetConfigError): string {
  return err.problems.map((p) => `config error: ${fleetConfigProblemLine(p)}\n`).join('');
}

/** The file as the shared reader sees it (comments allowed, duplicate keys and deep nesting refused), in our error. */
function readConfigFile(file: string): JsonObject {
  try {
    return readJsoncObjectFile(file);
  } catch (err) {
    if (err instanceof JsoncFileError) throw new FleetConfigError(err.problems);
    throw err;
  }
}

// ---- problems ------------------------------------------------------------------------------------------------

/** The keys accepted for the object at `path` (for a rule, those of its type). */
function knownKeys(path: readonly PropertyKey[], raw: Json): string[] {
  let schema: z.ZodType = fleetConfigSchema;
  for (let i = 0; i <= path.length; i++) {
    while (schema instanceof z.ZodOptional || schema instanceof z.ZodNullable) schema = schema.unwrap() as z.ZodType;
    if (schema instanceof z.ZodDiscriminatedUnion) {
      const value = valueAt(raw, path.slice(0, i));
      const type = isObject(value) ? value['type'] : undefined;
      const option = typeof type === 'string' ? (ruleSchemas as Record<string, z.ZodObject>)[type] : undefined;
      if (option === undefined) return [];
      schema = option;
    }
    if (i === path.length) break;
    const seg = path[i];
    if (schema instanceof z.ZodObject && typeof seg === 'string') schema = schema.shape[seg] as z.ZodType;
    else if (schema instanceof z.ZodArray) schema = schema.element as z.ZodType;
    else return [];
  }
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}
