/**
 * Fuzz: configuration files. Random and damaged JSONC is written to disk and loaded with loadConfig as `--config`
 * would: the shipped files damaged byte by byte and line by line, their values replaced, keys dropped or added,
 * random JSON, deep nesting. The only acceptable failure is a ConfigError whose problems are well-formed lines.
 */
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { parse as parseJsonc } from 'jsonc-parser';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, packageRoot, type ConfigProblem } from '../../../src/config/index.js';
import { CASES, fcParams, FuzzFailure, Tally, timeoutFor } from './budget.js';
import { applyByteMutations, biasedBytes, byteMutation, mutatedJson, mutationList, type Json } from './mutate.js';

const SURFACE = 'config-file';
/** tmpfs when there is one: rewriting a file on a real disk costs a millisecond, 50 times the load it feeds. */
function scratchRoot(): string {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
}
const dir = mkdtempSync(join(scratchRoot(), 'pos-fuzz-config-'));
const FILE = join(dir, 'overlay.json');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const shipped = (name: string) => readFileSync(join(packageRoot(), 'config', name), 'utf8');
/** Overlays that load: the shipped ones (one with comments), the whole default, and an empty one. */
const SEEDS = [
  shipped('sim.json'),
  shipped('terminal.example.json'),
  shipped('default.json'),
  '{}',
  '// nothing to change\n{ }\n',
];
const SEED_VALUES = SEEDS.map((t) => parseJsonc(t) as Json);
/** JSONC punctuation, comment starts, literals' letters, digits, a BOM's bytes, a NUL and multi-byte UTF-8. */
const JSONC_BYTES = [...'{}[]":,/*\n\r\t 0123456789-.eE+tfnul\\']
  .map((c) => c.charCodeAt(0))
  .concat([0xef, 0xbb, 0xbf, 0x00, 0xc3, 0xff]);

function serialize(value: Json, style: { indent: number; comments: boolean; trailingComma: boolean }): string {
  let text = JSON.stringify(value, null, style.indent) ?? 'null';
  if (style.trailingComma) text = text.replace(/(\n\s*[}\]])/, ',$1');
  if (style.comments) text = `// fuzz\n${text.replace(/\n/, '\n  /* a block\n   comment */\n')}`;
  return text;
}

/** Lines dropped, repeated (a duplicate key), swapped: how hand edits go wrong. */
const lineEdit = fc.record({ kind: fc.constantFrom('drop', 'repeat', 'swap'), at: fc.nat(), other: fc.nat() });
function editLines(text: string, edits: { kind: string; at: number; other: number }[]): string {
  const lines = text.split('\n');
  for (const e of edits) {
    const at = e.at % lines.length;
    const other = e.other % lines.length;
    if (e.kind === 'drop' && lines.length > 1) lines.splice(at, 1);
    else if (e.kind === 'repeat') lines.splice(at, 0, lines[at] as string);
    else if (e.kind === 'swap') [lines[at], lines[other]] = [lines[other] as string, lines[at] as string];
  }
  return lines.join('\n');
}

const seedIndex = fc.nat(SEEDS.length - 1);
const utf8 = (s: string): Uint8Array => Buffer.from(s, 'utf8');

const fileBytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .tuple(seedIndex, mutationList(byteMutation))
      .map(([i, m]) => applyByteMutations(utf8(SEEDS[i] as string), m, JSONC_BYTES)),
  },
  {
    weight: 2,
    arbitrary: fc.tuple(seedIndex, mutationList(lineEdit, 3)).map(([i, e]) => utf8(editLines(SEEDS[i] as string, e))),
  },
  {
    weight: 4,
    arbitrary: fc
      .tuple(
        seedIndex.chain((i) => mutatedJson(fc.constant(SEED_VALUES[i] as Json), 4)),
        fc.record({ indent: fc.constantFrom(0, 2), comments: fc.boolean(), trailingComma: fc.boolean() }),
      )
      .map(([v, style]) => utf8(serialize(v, style))),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => utf8(JSON.stringify(v) ?? '')) },
  { weight: 1, arbitrary: biasedBytes(JSONC_BYTES, 200) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.oneof(
          { weight: 9, arbitrary: fc.integer({ min: 1, max: 200 }) },
          { weight: 1, arbitrary: fc.integer({ min: 200, max: 20_000 }) },
        ),
        fc.constantFrom('[', '{"a":'),
        fc.boolean(),
      )
      .map(([n, open, closed]) =>
        utf8(`{"terminal":${open.repeat(n)}1${closed ? (open === '[' ? ']' : '}').repeat(n) : ''}}`),
      ),
  },
);

/** Sometimes the environment overrides too, with anything an operator might set. */
const env = fc.oneof(
  { weight: 4, arbitrary: fc.constant({}) },
  {
    weight: 1,
    arbitrary: fc.record(
      {
        POS_ECR_PORT: fc.oneof(fc.nat(70_000).map(String), fc.string()),
        POS_LOG_LEVEL: fc.string(),
        POS_HOST: fc.string(),
        POS_DATA_DIR: fc.string(),
        POS_MQTT_URL: fc.string(),
      },
      { requiredKeys: [] },
    ),
  },
);

function kind(problem: ConfigProblem): string {
  if (problem.path !== FILE && !problem.path.startsWith(`${FILE}:`)) return 'schema';
  if (problem.expected === 'each key once per object') return 'duplicate-key';
  if (problem.expected === 'a JSON object at the top level') return 'not-an-object';
  if (problem.expected.includes('levels of nesting')) return 'too-deep';
  return 'syntax';
}

function checkProblems(err: ConfigError, input: Uint8Array): void {
  if (err.problems.length === 0) throw new FuzzFailure(SURFACE, 'a ConfigError without problems', input);
  for (const p of err.problems) {
    const ok =
      typeof p.path === 'string' &&
      p.path !== '' &&
      typeof p.expected === 'string' &&
      p.expected !== '' &&
      typeof p.found === 'string' &&
      p.found.length <= 80;
    if (!ok) throw new FuzzFailure(SURFACE, `malformed problem ${JSON.stringify(p).slice(0, 300)}`, input);
  }
}

describe('fuzz: configuration files on disk', () => {
  it(
    `${CASES} files through loadConfig: a valid config or a ConfigError, nothing else`,
    () => {
      const tally = new Tally(SURFACE);
      fc.assert(
        fc.property(fileBytes, env, (bytes, vars) => {
          tally.begin();
          writeFileSync(FILE, bytes);
          try {
            const loaded = loadConfig({ path: FILE, env: vars });
            if (loaded.sources[1] !== FILE || typeof loaded.config.terminal.id !== 'string') {
              throw new FuzzFailure(SURFACE, 'loaded without its sources or terminal', bytes);
            }
            tally.add('accepted');
          } catch (err) {
            if (err instanceof FuzzFailure) throw err;
            if (!(err instanceof ConfigError))
              throw new FuzzFailure(SURFACE, 'loadConfig threw an untyped error', bytes, err);
            checkProblems(err, bytes);
            tally.add(`error:${kind(err.problems[0] as ConfigProblem)}`);
          }
        }),
        fcParams(SURFACE, CASES),
      );
      const { accepted, rejected } = tally.report();
      expect(accepted).toBeGreaterThan(0);
      expect(rejected).toBeGreaterThan(0);
      for (const k of ['schema', 'syntax', 'duplicate-key', 'not-an-object', 'too-deep'])
        expect([...tally.counts.keys()]).toContain(`error:${k}`);
    },
    timeoutFor(CASES, 10),
  );

  // Found by this fuzz: a file nested a few thousand levels deep overflowed the stack (RangeError) in the parser and
  // in the tree walk, instead of giving a config error.
  it.each([5_000, 100_000])('regression: a file nested %i levels deep is a ConfigError, not a stack overflow', (n) => {
    writeFileSync(FILE, `{"terminal":${'['.repeat(n)}${']'.repeat(n)}}`);
    let error: unknown;
    try {
      loadConfig({ path: FILE, env: {} });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems[0]?.expected).toMatch(/levels of nesting/);
  });
});
