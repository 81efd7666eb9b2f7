/**
 * Configuration files as people write them: JSON with comments and trailing commas, read so that every mistake is
 * one `FILE[:LINE:COL]: expected X, found Y` problem: unreadable file, syntax error, duplicate key (JSON.parse-style
 * parsers silently keep the last), nesting deep enough to overflow a recursive reader; then the same one-line form
 * for what the schema finds wrong in the merged value. Shared by the terminal's configuration (src/config/load.ts)
 * and the fleet consumer's (src/fleet/config.ts).
 */
import { readFileSync } from 'node:fs';
import {
  createScanner,
  parseTree,
  printParseErrorCode,
  SyntaxKind,
  type Node as JsonNode,
  type ParseError,
} from 'jsonc-parser';
import type { z } from 'zod';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** One problem with a file; the loaders turn these into their own error with their own problem lines. */
export interface FileProblem {
  path: string;
  expected: string;
  found: string;
}

export class JsoncFileError extends Error {
  override readonly name = 'JsoncFileError';
  constructor(readonly problems: FileProblem[]) {
    super(problems.map((p) => `${p.path}: expected ${p.expected}, found ${p.found}`).join('\n'));
  }
}

export function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Defined rather than assigned, so a "__proto__" key in a file stays an ordinary (and refused) key. */
export function put(target: JsonObject, key: string, value: Json): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Objects merge key by key; arrays, scalars and null replace. */
export function deepMerge(base: Json, overlay: Json): Json {
  if (!isObject(base) || !isObject(overlay)) return overlay;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(base)) put(out, k, v);
  for (const [k, v] of Object.entries(overlay)) put(out, k, Object.hasOwn(out, k) ? deepMerge(out[k] ?? null, v) : v);
  return out;
}

/**
 * Reads a configuration file: JSON with comments and trailing commas, a JSON object at the top, each key once per
 * object, at most MAX_NESTING levels deep. Throws JsoncFileError with one problem naming FILE or FILE:LINE:COL.
 */
export function readJsoncObjectFile(file: string): JsonObject {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const found =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'a directory'
            : (err as Error).message;
    throw new JsoncFileError([{ path: file, expected: 'a readable config file', found }]);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);

  const deep = tooDeep(text);
  if (deep >= 0) {
    throw new JsoncFileError([
      {
        path: `${file}:${position(text, deep)}`,
        expected: `at most ${MAX_NESTING} levels of nesting`,
        found: 'deeper nesting',
      },
    ]);
  }
  const errors: ParseError[] = [];
  // Trailing commas are harmless in a hand-edited file; comments are the reason for JSONC in the first place.
  const tree = parseTree(text, errors, { allowTrailingComma: true, disallowComments: false });
  const first = errors[0];
  if (first !== undefined) {
    throw new JsoncFileError([
      {
        path: `${file}:${position(text, first.offset)}`,
        expected: SYNTAX_EXPECTED[printParseErrorCode(first.error)] ?? 'valid JSON',
        found: tokenAt(text, first.offset, first.length),
      },
    ]);
  }
  const value = tree === undefined ? null : toValue(tree, file, text);
  if (!isObject(value)) {
    throw new JsoncFileError([{ path: file, expected: 'a JSON object at the top level', found: describe(value) }]);
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
          throw new JsoncFileError([
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
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const json = JSON.stringify(value) ?? String(value);
  return json.length > 80 ? `${json.slice(0, 77)}...` : json;
}

export function dotted(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else {
      // A key with a control character (an escaped newline in the file) is quoted, so one problem stays one line.
      const key = /[\u0000-\u001f\u007f]/.test(String(seg)) ? JSON.stringify(String(seg)) : String(seg);
      out += out === '' ? key : `.${key}`;
    }
  }
  return out || '(top level)';
}

export function valueAt(root: Json, path: readonly PropertyKey[]): Json | undefined {
  let node: Json | undefined = root;
  for (const seg of path) {
    if (Array.isArray(node) && typeof seg === 'number') node = node[seg];
    else if (isObject(node) && typeof seg === 'string' && Object.hasOwn(node, seg)) node = node[seg];
    else return undefined;
  }
  return node;
}

/** A problem the schema found; `source` names where an overriding value came from (an environment variable, a flag). */
export interface SchemaProblem extends FileProblem {
  source?: string;
}

/**
 * The schema's issues as one problem per key: an unknown key lists the keys `knownKeys` gives for its object, any
 * other issue shows the value found. zod may report several failed checks for one value; one line per key is enough.
 */
export function schemaProblems(
  issues: readonly z.core.$ZodIssue[],
  raw: Json,
  sources: ReadonlyMap<string, string>,
  knownKeys: (path: readonly PropertyKey[]) => string[],
): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  const seen = new Set<string>();
  const add = (p: SchemaProblem): void => {
    if (seen.has(p.path)) return;
    seen.add(p.path);
    const source = sources.get(p.path);
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
