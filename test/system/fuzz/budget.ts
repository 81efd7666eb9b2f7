/**
 * Shared budget for the fuzz suite (test/system/fuzz): how many cases each input surface gets, the seed that makes a run
 * replayable, and the tally of outcomes that proves a run reached past the first check.
 *
 *   POS_FUZZ_CASES  cases per surface (default 3000, the CI size; the long run uses 1000000)
 *   POS_FUZZ_SEED   base seed (default: the UTC day number, so CI explores a little more each day while every test
 *                   file of one run shares it); each surface derives its own from it and its name
 *   POS_FUZZ_REPORT file to append one JSON line per surface to (figures of a long run)
 */
import { appendFileSync } from 'node:fs';

export const DEFAULT_CASES = 3000;
/** Below this a run cannot be expected to show both accepted and rejected inputs. */
export const MIN_CASES = 500;

function readCases(): number {
  const raw = process.env.POS_FUZZ_CASES;
  if (raw === undefined || raw.trim() === '') return DEFAULT_CASES;
  const n = Number(raw.replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n < 1)
    throw new Error(`POS_FUZZ_CASES must be a positive integer, got ${JSON.stringify(raw)}`);
  return Math.max(n, MIN_CASES);
}

function readSeed(): number {
  const raw = process.env.POS_FUZZ_SEED;
  // Not random per process: vitest runs each file in its own worker, and one run should have one seed to replay.
  if (raw === undefined || raw.trim() === '') return Math.floor(Date.now() / 86_400_000);
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new Error(`POS_FUZZ_SEED must be an integer, got ${JSON.stringify(raw)}`);
  return n;
}

/** Cases per surface. */
export const CASES = readCases();
export const BASE_SEED = readSeed();
/** True when more than the CI budget was asked for. */
export const LONG_RUN = CASES > DEFAULT_CASES;

/** A 31-bit seed for one surface, so surfaces replay independently of which others ran. */
export function surfaceSeed(surface: string): number {
  let h = (BASE_SEED ^ 0x9e3779b9) >>> 0;
  for (let i = 0; i < surface.length; i++) h = Math.imul(h ^ surface.charCodeAt(i), 0x01000193) >>> 0;
  return h & 0x7fffffff;
}

/** A vitest timeout for `cases` cases at a worst-case cost of `msPerCase` each, never under a minute. */
export function timeoutFor(cases: number, msPerCase: number): number {
  return Math.max(60_000, Math.ceil(cases * msPerCase));
}

/** `count` cases for a secondary part of a surface (real sockets, device drivers): a fraction of the budget. */
export function scaled(fraction: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, Math.round(CASES * fraction)));
}

export function hex(bytes: Uint8Array | string): string {
  const b =
    typeof bytes === 'string'
      ? Buffer.from(bytes, 'utf8')
      : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return b.toString('hex');
}

/**
 * Thrown (and so reported by fast-check with its seed and path) when a parser misbehaves: an untyped exception, a
 * typed error with an unknown code, or a result that breaks the surface's contract. Carries the input in hex.
 */
export class FuzzFailure extends Error {
  override readonly name = 'FuzzFailure';
  constructor(surface: string, what: string, input: Uint8Array | string, cause?: unknown) {
    const detail =
      cause === undefined
        ? ''
        : cause instanceof Error
          ? `: ${cause.name}: ${cause.message}\n${cause.stack ?? ''}`
          : `: ${String(cause)}`;
    super(
      `${surface}: ${what}${detail}\ninput (hex, ${typeof input === 'string' ? 'utf-8 of a string' : 'bytes'}): ${hex(input)}`,
    );
  }
}

/** Counts outcomes per surface: `accepted`, one key per typed error code, `skipped:*` for input that asks nothing. */
export class Tally {
  readonly counts = new Map<string, number>();
  cases = 0;
  /** Longest time between two cases (the case plus generating the next): a parser that nearly hangs shows here. */
  slowestMs = 0;
  private readonly started = Date.now();
  private caseStarted = 0;

  constructor(readonly surface: string) {}

  /** Counts one case and times the one before it. */
  begin(): void {
    const now = performance.now();
    if (this.cases > 0) this.slowestMs = Math.max(this.slowestMs, now - this.caseStarted);
    this.caseStarted = now;
    this.cases++;
  }

  add(outcome: string): void {
    this.counts.set(outcome, (this.counts.get(outcome) ?? 0) + 1);
  }

  get accepted(): number {
    return this.counts.get('accepted') ?? 0;
  }

  get rejected(): number {
    let n = 0;
    for (const [k, v] of this.counts) if (k !== 'accepted' && !k.startsWith('skipped:')) n += v;
    return n;
  }

  /** Prints the figures (and appends them to POS_FUZZ_REPORT); returns them for assertions. */
  report(extra: Record<string, unknown> = {}): { seconds: number; accepted: number; rejected: number } {
    const seconds = (Date.now() - this.started) / 1000;
    const outcomes = Object.fromEntries([...this.counts].sort((a, b) => b[1] - a[1]));
    const line = {
      surface: this.surface,
      cases: this.cases,
      seconds: Math.round(seconds * 10) / 10,
      perSecond: Math.round(this.cases / Math.max(seconds, 0.001)),
      slowestMs: Math.round(this.slowestMs * 10) / 10,
      seed: surfaceSeed(this.surface),
      baseSeed: BASE_SEED,
      accepted: this.accepted,
      rejected: this.rejected,
      outcomes,
      ...extra,
    };
    console.log(`fuzz ${JSON.stringify(line)}`);
    const file = process.env.POS_FUZZ_REPORT;
    if (file) appendFileSync(file, `${JSON.stringify(line)}\n`);
    return { seconds, accepted: this.accepted, rejected: this.rejected };
  }
}

/** fast-check parameters for one surface: its seed and run count, and no console noise for passing runs. */
export function fcParams(surface: string, numRuns: number): { seed: number; numRuns: number; endOnFailure: boolean } {
  // Shrinking a failure in a long run can take longer than finding it; the hex input is already in the message.
  return { seed: surfaceSeed(surface), numRuns, endOnFailure: LONG_RUN };
}

console.log(
  `fuzz budget: ${CASES} cases per surface, seed ${BASE_SEED} (replay: POS_FUZZ_SEED=${BASE_SEED} POS_FUZZ_CASES=${CASES} npx vitest run test/system/fuzz)`,
);
