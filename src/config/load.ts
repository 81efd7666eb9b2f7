/**
 * Loads the terminal configuration: config/default.json, then one overlay file (explicit path, else POS_CONFIG),
 * then POS_* environment overrides, then schema validation. Every failure becomes a ConfigError whose message is
 * one `path: expected X, found Y` line per problem, so an operator can fix the file without reading a stack trace.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createScanner, parseTree, printParseErrorCode, SyntaxKind, type Node as JsonNode, type ParseError } from 'jsonc-parser';
import { z } from 'zod';
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
    super(problems.map(problemLine).join('\n'));
    this.problems = problems;
  }
}

export function problemLine(p: ConfigProblem): string {
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

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** Environment overrides; an empty variable counts as unset, as shells make "unset" awkward in unit files. */
const ENV_OVERRIDES: { name: string; path: [string, string] | [string]; value: (raw: string) => Json }[] = [
  { name: 'POS_DATA_DIR', path: ['dataDir'], value: (s) => s },
  { name: 'POS_HOST', path: ['host', 'address'], value: (s) => s },
  // Non-numeric text stays a string so validation reports it as found "abc".
  { name: 'POS_ECR_PORT', path: ['ecr', 'port'], value: (s) => (/^\d+$/.test(s.trim()) ? Number(s.trim()) : s) },
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
  if (!result.success) throw new ConfigError(issuesToProblems(result.error.issues, merged, envSource));
  return { config: result.data, sources };
}

export function formatConfigError(err: ConfigError): string {
  return err.problems.map((p) => `config error: ${problemLine(p)}\n`).join('');
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

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Defined rather than assigned, so a "__proto__" key in a file stays an ordinary (and refused) key. */
function put(target: JsonObject, key: string, value: Json): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Objects merge key by key; arrays, scalars and null replace. */
function deepMerge(base: Json, overlay: Json): Json {
  if (!isObject(base) || !isObject(overlay)) return overlay;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(base)) put(out, k, v);
  for (const [k, v] of Object.entries(overlay)) put(out, k, Object.hasOwn(out, k) ? deepMerge(out[k] ?? null, v) : v);
  return out;
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
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const found =
      code === 'ENOENT' ? 'no such file' :
      code === 'EACCES' || code === 'EPERM' ? 'permission denied' :
      code === 'EISDIR' ? 'a directory' :
      (err as Error).message;
    throw new ConfigError([{ path: file, expected: 'a readable config file', found }]);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);

  const deep = tooDeep(text);
  if (deep >= 0) {
    throw new ConfigError([{ path: `${file}:${position(text, deep)}`, expected: `at most ${MAX_NESTING} levels of nesting`, found: 'deeper nesting' }]);
  }
  const errors: ParseError[] = [];
  // Trailing commas are harmless in a hand-edited file; comments are the reason for JSONC in the first place.
  const tree = parseTree(text, errors, { allowTrailingComma: true, disallowComments: false });
  const first = errors[0];
  if (first !== undefined) {
    throw new ConfigError([
      {
        path: `${file}:${position(text, first.offset)}`,
        expected: SYNTAX_EXPECTED[printParseErrorCode(first.error)] ?? 'valid JSON',
        found: tokenAt(text, first.offset, first.length),
      },
    ]);
  }
  const value = tree === undefined ? null : toValue(tree, file, text);
  if (!isObject(value)) {
    throw new ConfigError([{ path: file, expected: 'a JSON object at the top level', found: describe(value) }]);
  }
  return value;
}

/** Far deeper than any real config; parsing and checking a value thousands of levels deep overflows the stack. */
const MAX_NESTING = 64;

/** Offset of the first `{` or `[` nested deeper than MAX_NESTING, or -1. A scan, so any depth is safe to measure. */
function tooDeep(text: string): number {
  const scanner = createScanner(text, false);
  let depth = 0;
  for (let token = scanner.scan(); token !== SyntaxKind.EOF; token = scanner.scan()) {
    if (token === SyntaxKind.OpenBraceToken || token === SyntaxKind.OpenBracketToken) {
      if (++depth > MAX_NESTING) return scanner.getTokenOffset();
    } else if (token === SyntaxKind.CloseBraceToken || token === SyntaxKind.CloseBracketToken) {
      depth = Math.max(0, depth - 1);
    }
  }
  return -1;
}

const SYNTAX_EXPECTED: Record<string, string> = {
  InvalidSymbol: 'valid JSON (keys and strings in double quotes)',
  InvalidNumberFormat: 'a decimal number',
  PropertyNameExpected: 'a key in double quotes',
  ValueExpected: 'a value',
  ColonExpected: '":"',
  CommaExpected: '"," between entries',
  CloseBraceExpected: '"}"',
  CloseBracketExpected: '"]"',
  EndOfFileExpected: 'end of file',
  InvalidCommentToken: 'a // or /* */ comment',
  UnexpectedEndOfComment: 'the comment to end with */',
  UnexpectedEndOfString: 'a closing double quote',
  UnexpectedEndOfNumber: 'more digits',
  InvalidUnicode: 'a \\uXXXX escape',
  InvalidEscapeCharacter: 'a valid escape (\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)',
  InvalidCharacter: 'no control characters inside a string',
};

/** 1-based LINE:COL of an offset. */
function position(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const lines = before.split(/\r\n|\r|\n/);
  const last = lines[lines.length - 1] ?? '';
  return `${lines.length}:${last.length + 1}`;
}

function tokenAt(text: string, offset: number, length: number): string {
  if (offset >= text.length) return 'end of file';
  let token = text.slice(offset, offset + Math.max(length, 1));
  if (/^[\w.+-]$/.test(token)) token = /^[\w.+-]+/.exec(text.slice(offset))?.[0] ?? token;
  return describe(token.split(/\r\n|\r|\n/)[0] ?? token);
}

/** Builds the value ourselves to catch duplicate keys, which JSON.parse-style parsers silently resolve to the last. */
function toValue(node: JsonNode, file: string, text: string): Json {
  switch (node.type) {
    case 'object': {
      const out: JsonObject = {};
      for (const prop of node.children ?? []) {
        const [keyNode, valueNode] = prop.children ?? [];
        if (keyNode === undefined) continue;
        const key = String(keyNode.value);
        if (Object.hasOwn(out, key)) {
          throw new ConfigError([
            {
              path: `${file}:${position(text, keyNode.offset)}`,
              expected: 'each key once per object',
              found: `duplicate key ${JSON.stringify(key)}`,
            },
          ]);
        }
        put(out, key, valueNode === undefined ? null : toValue(valueNode, file, text));
      }
      return out;
    }
    case 'array':
      return (node.children ?? []).map((child) => toValue(child, file, text));
    default:
      return node.value as Json;
  }
}

/** JSON of a value for `found`, cut short so one line stays one line. */
function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const json = JSON.stringify(value) ?? String(value);
  return json.length > 80 ? `${json.slice(0, 77)}...` : json;
}

function dotted(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? String(seg) : `.${String(seg)}`;
  }
  return out || '(top level)';
}

function valueAt(root: Json, path: readonly PropertyKey[]): Json | undefined {
  let node: Json | undefined = root;
  for (const seg of path) {
    if (Array.isArray(node) && typeof seg === 'number') node = node[seg];
    else if (isObject(node) && typeof seg === 'string' && Object.hasOwn(node, seg)) node = node[seg];
    else return undefined;
  }
  return node;
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

function issuesToProblems(issues: z.core.$ZodIssue[], raw: Json, envSource: Map<string, string>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  const add = (p: ConfigProblem): void => {
    // zod may report several failed checks for one value; one line per key is enough.
    if (seen.has(p.path)) return;
    seen.add(p.path);
    const source = envSource.get(p.path);
    problems.push(source === undefined ? p : { ...p, source });
  };
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      const keys = knownKeys(issue.path);
      for (const key of issue.keys) {
        add({
          path: dotted([...issue.path, key]),
          expected: keys.length > 0 ? `one of the keys ${keys.join(', ')}` : 'no such key',
          found: 'unknown key',
        });
      }
    } else {
      add({ path: dotted(issue.path), expected: issue.message, found: describe(valueAt(raw, issue.path)) });
    }
  }
  return problems;
}
