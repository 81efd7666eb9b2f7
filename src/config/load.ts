/**
 * Loads the terminal configuration: config/default.json, then one overlay file (explicit path, else POS_CONFIG),
 * then POS_* environment overrides, then schema validation. Every failure becomes a ConfigError whose message is
 * one `path: expected X, found Y` line per problem, so an operator can fix the file without reading a stack trace.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import {
  deepMerge,
  isObject,
  JsoncFileError,
  put,
  readJsoncObjectFile,
  schemaProblems,
  type Json,
  type JsonObject,
} from './jsonc-file.js';
import { configSchema, type PosConfig } from './schema.js';

/** sysexits.h EX_CONFIG: the configuration is wrong, retrying will not help. */
export const EX_CONFIG = 78;

/**
 * One bad key. `path` is a dotted config key (`host.tls.caFile`, `ecr.tokens[0]`), or `FILE[:LINE:COL]` for a
 * file that cannot be read or parsed. `found` is the JSON of the value, `nothing` when missing, `unknown key`
 * for an unrecognised one. `source` names the environment variable that supplied the value, if any.
 */
export interface ConfigProblem {
  path: string;
  expected: string;
  found: string;
  source?: string;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly problems: ConfigProblem[];

  constructor(problems: ConfigProblem[]) {
    super(problems.map(configProblemLine).join('\n'));
    this.problems = problems;
  }
}

/** One `path: expected X, found Y (from SOURCE)` line of a terminal configuration error. */
export function configProblemLine(p: ConfigProblem): string {
  return `${p.path}: expected ${p.expected}, found ${p.found}${p.source ? ` (from ${p.source})` : ''}`;
}

export interface LoadConfigOptions {
  /** Overlay file (the CLI's --config). Wins over POS_CONFIG. Relative paths resolve against the current directory. */
  path?: string;
  /** Defaults to process.env. */
  env?: NodeJS.ProcessEnv;
}

/**
 * The validated config plus where it came from: `sources` lists the files merged (absolute paths, default.json
 * first) followed by the names of the environment variables that overrode a key, in the order applied.
 */
export interface LoadedConfig {
  config: PosConfig;
  sources: string[];
}

// Non-numeric text stays a string so validation reports it as found "abc".
function portValue(s: string): Json {
  return /^\d+$/.test(s.trim()) ? Number(s.trim()) : s;
}

/** Environment overrides; an empty variable counts as unset, as shells make "unset" awkward in unit files. */
const ENV_OVERRIDES: { name: string; path: readonly string[]; value: (raw: string) => Json }[] = [
  { name: 'POS_DATA_DIR', path: ['dataDir'], value: (s) => s },
  { name: 'POS_HOST', path: ['host', 'address'], value: (s) => s },
  { name: 'POS_ECR_PORT', path: ['ecr', 'port'], value: portValue },
  { name: 'POS_NEXO_PORT', path: ['ecr', 'nexo', 'port'], value: portValue },
  { name: 'POS_MQTT_URL', path: ['mqtt', 'url'], value: (s) => s },
  { name: 'POS_LOG_LEVEL', path: ['log', 'level'], value: (s) => s },
];

/**
 * The directory holding package.json. Found by walking up because this module runs both from src/config/
 * (tests) and from dist/src/config/ (compiled).
 */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`package.json not found above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

export function defaultConfigPath(): string {
  return join(packageRoot(), 'config', 'default.json');
}

export function loadConfig(opts: LoadConfigOptions = {}): LoadedConfig {
  const env = opts.env ?? process.env;
  const files = [defaultConfigPath()];
  const overlay = opts.path ?? nonEmpty(env.POS_CONFIG);
  if (overlay !== undefined) files.push(resolve(overlay));

  let merged: Json = {};
  for (const file of files) merged = deepMerge(merged, readConfigFile(file));

  const sources = [...files];
  const envSource = new Map<string, string>();
  for (const o of ENV_OVERRIDES) {
    const raw = nonEmpty(env[o.name]);
    if (raw === undefined) continue;
    if (setAt(merged, o.path, o.value(raw))) {
      sources.push(o.name);
      envSource.set(o.path.join('.'), o.name);
    }
  }

  const result = configSchema.safeParse(merged);
  if (!result.success) throw new ConfigError(schemaProblems(result.error.issues, merged, envSource, knownKeys));
  const config = result.data;
  // The nexo POIID defaults to the terminal id (ISO 8583 field 41), the one name the terminal already has.
  if (config.ecr.nexo.poiId === null || config.ecr.nexo.poiId === '') config.ecr.nexo.poiId = config.terminal.id;
  return { config, sources };
}

export function formatConfigError(err: ConfigError): string {
  return err.problems.map((p) => `config error: ${configProblemLine(p)}\n`).join('');
}

export interface ExitIo {
  exit: (code: number) => never;
  stderr: { write(chunk: string): unknown };
}

/** For CLI entry points: a bad config prints `config error:` lines and exits 78; any other error propagates. */
export function loadConfigOrExit(
  opts: LoadConfigOptions = {},
  io: ExitIo = { exit: (code) => process.exit(code), stderr: process.stderr },
): LoadedConfig {
  try {
    return loadConfig(opts);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.stderr.write(formatConfigError(err));
    return io.exit(EX_CONFIG);
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/** Returns false when a parent is not an object; that parent is reported by validation anyway. */
function setAt(root: Json, path: readonly string[], value: Json): boolean {
  let node = root;
  for (const key of path.slice(0, -1)) {
    if (!isObject(node)) return false;
    if (!Object.hasOwn(node, key)) put(node, key, {});
    node = node[key] ?? null;
  }
  const last = path[path.length - 1];
  if (!isObject(node) || last === undefined) return false;
  put(node, last, value);
  return true;
}

function readConfigFile(file: string): JsonObject {
  try {
    return readJsoncObjectFile(file);
  } catch (err) {
    if (err instanceof JsoncFileError) throw new ConfigError(err.problems);
    throw err;
  }
}

/** The keys the schema accepts for the object at `path`, to list beside an unknown key. */
function knownKeys(path: readonly PropertyKey[]): string[] {
  let schema: z.ZodType = configSchema;
  for (const seg of path) {
    while (schema instanceof z.ZodOptional || schema instanceof z.ZodNullable) schema = schema.unwrap() as z.ZodType;
    if (schema instanceof z.ZodObject && typeof seg === 'string') schema = schema.shape[seg] as z.ZodType;
    else if (schema instanceof z.ZodArray) schema = schema.element as z.ZodType;
    else return [];
  }
  while (schema instanceof z.ZodOptional || schema instanceof z.ZodNullable) schema = schema.unwrap() as z.ZodType;
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}
