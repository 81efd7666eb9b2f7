/**
 * Terminal self-test, in the spirit of UnifiedPOS checkHealth at the internal level (no paper used): each component
 * is asked whether it can do its part, all at once, each within a time limit on the Clock. The report carries the
 * per-component results for telemetry and the two lists the terminal machine acts on: lockReasons (no sale is
 * possible) and limitations (sales go on, with something missing).
 */
import { randomBytes } from 'node:crypto';
import { open, readdir, readFile, statfs, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { CardReader } from '../../hal/card-reader/contract.js';
import type { Clock } from '../../hal/clock.js';
import { isDeviceFault } from '../../hal/fault.js';
import { faultFromStatus, type Printer } from '../../hal/printer/contract.js';
import { HostError, type AcquirerClient } from '../acquirer/acquirer-client.js';
import { buildEcho } from '../iso8583/index.js';
import { estimateSkew, type HostProbe } from './host-probe.js';

export type CheckStatus = 'ok' | 'warn' | 'fault';
export type CheckComponent = 'card-reader' | 'printer' | 'host' | 'storage' | 'clock';

export interface CheckResult {
  component: CheckComponent;
  status: CheckStatus;
  /** 'ok', a device fault code, or the check's own code ('timeout', 'low-space', 'skew', ...). */
  code: string;
  detail: string;
  durationMs: number;
}

export interface SelfTestReport {
  at: number;
  durationMs: number;
  results: CheckResult[];
  limitations: string[];
  lockReasons: string[];
}

export interface SelfTestDeps {
  reader: CardReader;
  printer: Printer;
  /** Used for a fresh echo. Without it, the probe's last result stands for the host; without both, no host check. */
  acquirer?: AcquirerClient;
  probe?: HostProbe;
  dataDir: string;
  /** Time limits run on this clock. */
  clock: Clock;
  /** The wall-clock time under test (default clock.now). */
  now?: () => number;
  /** Per check; default 2000. */
  timeLimitMs?: number;
  /** Free space below this is a warning; default 64 MiB. */
  minFreeBytes?: number;
  terminalId: string;
  nextStan: () => number;
  /** Told of each result as it comes in (progress on the display). */
  onResult?: (result: CheckResult) => void;
  /** Other devices to reopen when closed (the PIN pad): no result of their own, their health events report them. */
  reopen?: readonly Reopenable[];
}

/** A device the self-test can reopen: drivers that know whether they are open say so with `opened`. */
export interface Reopenable {
  readonly opened?: boolean;
  open(): Promise<void>;
}

/** Reopens what is closed (unplugged and back, or never opened at start); what cannot open stays for its check. */
async function reopenIfClosed(device: Reopenable): Promise<void> {
  if (device.opened === false) await device.open();
}

export const DEFAULT_TIME_LIMIT_MS = 2_000;
export const DEFAULT_MIN_FREE_BYTES = 64 * 1024 * 1024;
/** Wider than this and receipts, journal times and offline advices carry a visibly wrong time. */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;
export const PLAUSIBLE_YEARS = { from: 2024, to: 2100 } as const;

export const LIMITATION = {
  noPrinter: 'no printer: receipts kept pending',
  paperNearEnd: 'paper near end',
  hostUnreachable: 'host unreachable: offline rules apply',
  clockSkew: 'clock differs from host time: check time sync',
} as const;

type Outcome = Pick<CheckResult, 'status' | 'code' | 'detail'>;
type HostOutcome = Outcome & { skewMs?: number };

export async function runSelfTest(deps: SelfTestDeps): Promise<SelfTestReport> {
  const { clock } = deps;
  const now = deps.now ?? (() => clock.now());
  const limitMs = deps.timeLimitMs ?? DEFAULT_TIME_LIMIT_MS;
  const started = clock.now();
  const at = now();
  const done = (result: CheckResult) => {
    try {
      deps.onResult?.(result);
    } catch {
      // Progress display is best effort; it must not change the verdict.
    }
    return result;
  };
  const run = <T extends Outcome>(
    component: CheckComponent,
    check: (signal: AbortSignal) => Promise<T>,
    onTimeout?: () => T,
  ) =>
    bounded(clock, limitMs, component, check, onTimeout).then(({ result, outcome }) => ({
      result: done(result),
      outcome,
    }));

  for (const device of deps.reopen ?? []) reopenIfClosed(device).catch(() => undefined);
  const reader = run('card-reader', () => checkReader(deps.reader));
  const printer = run('printer', () => checkPrinter(deps.printer));
  const host =
    deps.acquirer || deps.probe
      ? run<HostOutcome>(
          'host',
          (signal) => checkHost(deps, limitMs, signal),
          () => ({
            status: 'warn',
            code: 'timeout',
            // Slow or absent host: the terminal can still sell offline, so this is never a fault.
            detail: `no echo answer within ${limitMs} ms`,
          }),
        )
      : undefined;
  const storage = run('storage', () => checkStorage(deps.dataDir, deps.minFreeBytes ?? DEFAULT_MIN_FREE_BYTES));

  const settled = await Promise.all([reader, printer, host, storage]);
  const hostOutcome = settled[2]?.outcome;
  // The clock check is pure arithmetic once the host's time is known, so it runs last and cannot hang.
  const clockStarted = clock.now();
  const skewMs = hostOutcome?.skewMs ?? deps.probe?.last()?.skewMs;
  const clockResult = done({ component: 'clock', ...checkClock(at, skewMs), durationMs: clock.now() - clockStarted });

  const results = [...settled.filter((s) => s !== undefined).map((s) => s.result), clockResult];
  return { at, durationMs: clock.now() - started, results, ...summarize(results) };
}

/** The mapping the terminal machine acts on: which results stop sales and which only limit them. */
export function summarize(results: readonly CheckResult[]): { limitations: string[]; lockReasons: string[] } {
  const limitations: string[] = [];
  const lockReasons: string[] = [];
  for (const r of results) {
    if (r.status === 'ok') continue;
    switch (r.component) {
      case 'card-reader':
      case 'storage':
      case 'clock':
        if (r.status === 'fault') lockReasons.push(`${r.component.replace('-', ' ')}: ${r.code} (${r.detail})`);
        else if (r.component === 'storage') limitations.push(`storage low: ${r.detail}`);
        else if (r.component === 'clock') limitations.push(LIMITATION.clockSkew);
        break;
      case 'printer':
        limitations.push(r.status === 'fault' ? LIMITATION.noPrinter : LIMITATION.paperNearEnd);
        break;
      case 'host':
        limitations.push(LIMITATION.hostUnreachable);
        break;
    }
  }
  return { limitations: [...new Set(limitations)], lockReasons: [...new Set(lockReasons)] };
}

async function bounded<T extends Outcome>(
  clock: Clock,
  limitMs: number,
  component: CheckComponent,
  check: (signal: AbortSignal) => Promise<T>,
  onTimeout: () => T = () => ({ status: 'fault', code: 'timeout', detail: `no answer within ${limitMs} ms` }) as T,
): Promise<{ result: CheckResult; outcome: T }> {
  const started = clock.now();
  const controller = new AbortController();
  let timer: { cancel(): void } | undefined;
  const deadline = new Promise<T>((resolve) => {
    timer = clock.setTimeout(() => {
      controller.abort();
      resolve(onTimeout());
    }, limitMs);
  });
  const work = (async () => {
    try {
      return await check(controller.signal);
    } catch (err) {
      // Checks turn expected failures into outcomes; anything reaching here is unexpected and counts against the part.
      return { status: 'fault', code: 'error', detail: describe(err) } as T;
    }
  })();
  try {
    const outcome = await Promise.race([work, deadline]);
    const { status, code, detail } = outcome;
    return { result: { component, status, code, detail, durationMs: clock.now() - started }, outcome };
  } finally {
    timer?.cancel();
  }
}

async function checkReader(reader: CardReader & Reopenable): Promise<Outcome> {
  try {
    await reopenIfClosed(reader);
    const info = await reader.info();
    return {
      status: 'ok',
      code: 'ok',
      detail: `${info.model} firmware ${info.firmware}${info.serial ? ` serial ${info.serial}` : ''}`,
    };
  } catch (err) {
    return { status: 'fault', code: faultCode(err), detail: describe(err) };
  }
}

async function checkPrinter(printer: Printer & Reopenable): Promise<Outcome> {
  try {
    await reopenIfClosed(printer);
    const status = await printer.status();
    const fault = faultFromStatus(status);
    if (fault) return { status: 'fault', code: fault, detail: `printer reports ${fault}` };
    if (status.paper === 'near-end') return { status: 'warn', code: 'paper-near-end', detail: 'paper near end' };
    return { status: 'ok', code: 'ok', detail: 'status clean' };
  } catch (err) {
    return { status: 'fault', code: faultCode(err), detail: describe(err) };
  }
}

async function checkHost(deps: SelfTestDeps, limitMs: number, signal: AbortSignal): Promise<HostOutcome> {
  const { clock } = deps;
  if (deps.acquirer) {
    const sentAt = clock.now();
    try {
      const request = buildEcho({
        stan: deps.nextStan(),
        terminalId: deps.terminalId,
        transmittedAt: new Date(sentAt),
      });
      const reply = await deps.acquirer.send(request, { timeoutMs: limitMs, signal });
      const rttMs = Math.max(0, clock.now() - sentAt);
      const skewMs = estimateSkew(reply.transmittedAt, sentAt + rttMs / 2);
      const base = skewMs === undefined ? {} : { skewMs };
      if (reply.responseCode !== '00') {
        return {
          ...base,
          status: 'warn',
          code: 'echo-refused',
          detail: `host answered the echo with ${reply.responseCode}`,
        };
      }
      return { ...base, status: 'ok', code: 'ok', detail: `echo answered in ${rttMs} ms` };
    } catch (err) {
      const code = err instanceof HostError ? err.code : 'error';
      return { status: 'warn', code, detail: describe(err) };
    }
  }
  const probe = deps.probe!;
  // Unknown is not unreachable: before the probe's first answer, wait for one (within this check's limit).
  const last = probe.last() ?? (await probe.probeNow());
  const age = Math.max(0, clock.now() - last.at);
  const base = last.skewMs === undefined ? {} : { skewMs: last.skewMs };
  if (!last.ok)
    return {
      ...base,
      status: 'warn',
      code: 'unreachable',
      detail: `${last.error ?? 'no answer'} (${Math.round(age / 1000)} s ago)`,
    };
  if (last.responseCode !== undefined && last.responseCode !== '00') {
    return {
      ...base,
      status: 'warn',
      code: 'echo-refused',
      detail: `host answered the echo with ${last.responseCode}`,
    };
  }
  return {
    ...base,
    status: 'ok',
    code: 'ok',
    detail: `echo answered in ${last.rttMs ?? '?'} ms (${Math.round(age / 1000)} s ago)`,
  };
}

/** A probe file left by a process killed mid-check (another pid); this process's own may be in use right now. */
const STALE_PROBE = new RegExp(`^\\.selftest-(?!${process.pid}-)\\d+-[0-9a-f]+\\.tmp$`);

async function removeStaleProbes(dataDir: string): Promise<void> {
  const names = await readdir(dataDir).catch(() => [] as string[]);
  await Promise.all(
    names.filter((name) => STALE_PROBE.test(name)).map((name) => unlink(join(dataDir, name)).catch(() => {})),
  );
}

async function checkStorage(dataDir: string, minFreeBytes: number): Promise<Outcome> {
  // A power cut or kill during an earlier check leaves its probe file behind; without this they pile up for good.
  await removeStaleProbes(dataDir);
  const path = join(dataDir, `.selftest-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  const payload = randomBytes(512);
  let created = false;
  try {
    let step = 'write';
    try {
      const handle = await open(path, 'wx', 0o600);
      created = true;
      try {
        await handle.writeFile(payload);
        // The journal relies on fsync reaching the medium; a device that refuses it cannot keep a sale safe.
        step = 'fsync';
        await handle.sync();
      } finally {
        await handle.close();
      }
      step = 'read';
      const back = await readFile(path);
      if (!back.equals(payload))
        return {
          status: 'fault',
          code: 'readback-mismatch',
          detail: `${path}: read back differs from what was written`,
        };
      step = 'delete';
      await unlink(path);
      created = false;
    } catch (err) {
      return { status: 'fault', code: `${step}-failed`, detail: describe(err) };
    }
    let free: number;
    let total: number;
    try {
      const fs = await statfs(dataDir);
      free = fs.bavail * fs.bsize;
      total = fs.blocks * fs.bsize;
    } catch (err) {
      return { status: 'fault', code: 'statfs-failed', detail: describe(err) };
    }
    const space = `${formatBytes(free)} free of ${formatBytes(total)}`;
    if (free < minFreeBytes)
      return { status: 'warn', code: 'low-space', detail: `${space}, below ${formatBytes(minFreeBytes)}` };
    return { status: 'ok', code: 'ok', detail: space };
  } finally {
    if (created) await unlink(path).catch(() => {});
  }
}

function checkClock(at: number, skewMs: number | undefined): Outcome {
  const time = new Date(at);
  const year = time.getUTCFullYear();
  if (!Number.isFinite(at) || year < PLAUSIBLE_YEARS.from || year > PLAUSIBLE_YEARS.to) {
    // A clock reset to 1970 or far ahead breaks STAN dates, offline-age limits and certificate checks.
    return {
      status: 'fault',
      code: 'implausible-time',
      detail: `clock reads ${Number.isFinite(at) ? time.toISOString() : String(at)}`,
    };
  }
  if (skewMs !== undefined && Math.abs(skewMs) > MAX_CLOCK_SKEW_MS) {
    return { status: 'warn', code: 'skew', detail: `host time differs by ${Math.round(skewMs / 1000)} s` };
  }
  return {
    status: 'ok',
    code: 'ok',
    detail: `${time.toISOString()}${skewMs !== undefined ? `, host skew ${Math.round(skewMs / 1000)} s` : ''}`,
  };
}

function faultCode(err: unknown): string {
  return isDeviceFault(err) ? err.code : 'error';
}

/** Node's fs errors already start with their errno code ("ENOTDIR: not a directory, open ..."). */
function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(1)} GiB`;
  return `${Math.round(n / 1024 ** 2)} MiB`;
}
